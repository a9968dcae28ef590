"""IR test collections (BEIR layout) as folders of files, and nDCG@k — for tests and benchmarks.

    coll = load_collection(Path("../shared/data/cisi"), max_docs=150)
    files = write_corpus(coll, folder)           # {doc_id: path}, one .txt file per document
    ndcg_at_k(ranked_doc_ids, coll.qrels[qid], k=10)

A collection: `corpus.jsonl` (_id, title, text), `queries.jsonl` (_id, text), `qrels.tsv`
(query-id, corpus-id, score; header line). `max_docs` keeps the first documents and drops
queries left without any relevant document among them.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Collection:
    docs: dict[str, tuple[str, str]]  # id -> (title, text)
    queries: dict[str, str]
    qrels: dict[str, dict[str, int]]  # query id -> {doc id: grade}


def load_collection(folder: Path, max_docs: int | None = None, doc_filter: str | None = None) -> Collection:
    """`doc_filter`: keep only documents whose id starts with it (e.g. "en-" in mixed-zh-en)."""
    docs: dict[str, tuple[str, str]] = {}
    with open(folder / "corpus.jsonl", encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            if doc_filter and not str(row["_id"]).startswith(doc_filter):
                continue
            docs[str(row["_id"])] = (row.get("title") or "", row["text"])
            if max_docs is not None and len(docs) >= max_docs:
                break
    qrels: dict[str, dict[str, int]] = {}
    with open(folder / "qrels.tsv", encoding="utf-8") as fh:
        next(fh)
        for line in fh:
            qid, did, grade = line.rstrip("\n").split("\t")
            if did in docs and int(grade) > 0:
                qrels.setdefault(qid, {})[did] = int(grade)
    queries: dict[str, str] = {}
    with open(folder / "queries.jsonl", encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            if str(row["_id"]) in qrels:
                queries[str(row["_id"])] = row["text"]
    return Collection(docs, queries, {q: r for q, r in qrels.items() if q in queries})


def doc_text(title: str, text: str) -> str:
    return f"{title}\n\n{text}" if title else text


def file_name(doc_id: str) -> str:
    """A neutral file name (no title words: filename matches must not leak relevance)."""
    return "doc-" + re.sub(r"[^A-Za-z0-9_.-]", "_", doc_id) + ".txt"


def write_corpus(collection: Collection, folder: Path) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for doc_id, (title, text) in collection.docs.items():
        path = folder / file_name(doc_id)
        path.write_text(doc_text(title, text), encoding="utf-8")
        paths[doc_id] = path
    return paths


def ndcg_at_k(ranked: Sequence[str], relevant: dict[str, int], k: int = 10) -> float:
    gains = [relevant.get(doc, 0) for doc in ranked[:k]]
    dcg = sum((2**g - 1) / math.log2(i + 2) for i, g in enumerate(gains))
    ideal = sorted(relevant.values(), reverse=True)[:k]
    idcg = sum((2**g - 1) / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg else 0.0
