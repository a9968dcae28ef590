"""Retrieval quality through the CLI vs the same model scoring the same documents in memory.

For each collection (BEIR layout under ../shared/data): every document is written as a file,
indexed with `qfinder index` and searched with `qfinder search --batch --json` (subprocesses,
a fresh data folder), in hybrid, semantic and keyword mode. The baseline embeds the same
document texts and queries directly with the Embedder and ranks by cosine. Prints nDCG@10 per
mode and the ratio qfinder-semantic / direct (issue 3 §8 target: >= 0.98), and per mode how many queries
got no result at all ("empty").

    python3 bench/bench_retrieval.py [--model DIR] [--collections xquad/en,xquad/zh,cisi]
                                     [--max-docs N] [--max-queries N] [--k 10] [--keep-quotes]

`--keep-quotes` searches the questions as written, quote marks included, as a person pastes them.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import corpus  # bench/ is on sys.path
import numpy as np

from qfinder.core.model.embedder import Embedder
from qfinder.devtools.ir_eval import Collection, doc_text, ndcg_at_k, write_corpus

DEFAULT_COLLECTIONS = "xquad/en,xquad/zh,xquad/de,xquad/es,xquad/mixed-zh-en,cisi"
MODES = ("hybrid", "semantic", "keyword")


def cli(*args: str) -> str:
    proc = subprocess.run([sys.executable, "-m", "qfinder", *args], capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"qfinder {args[0]} failed: {proc.stderr.strip()}")
    return proc.stdout


QUOTES = str.maketrans("", "", '"“”「」')


def limit_queries(coll: Collection, max_queries: int | None, keep_quotes: bool = False) -> Collection:
    """The first `max_queries` queries, by default with quote marks removed: a quoted part is an
    exact phrase to qfinder, which natural-language test questions with quoted names (11 of 112
    CISI, 14 of 1190 xquad-zh) do not intend. Both sides get the same text."""
    items = list(coll.queries.items())[:max_queries] if max_queries else list(coll.queries.items())
    kept = {q: text if keep_quotes else " ".join(text.translate(QUOTES).split()) for q, text in items}
    return Collection(coll.docs, kept, {q: coll.qrels[q] for q in kept})


def mean_ndcg(coll: Collection, rankings: dict[str, list[str]], k: int) -> float:
    return float(np.mean([ndcg_at_k(rankings.get(q, []), coll.qrels[q], k) for q in coll.queries]))


def direct_rankings(embedder: Embedder, coll: Collection, k: int) -> dict[str, list[str]]:
    ids = list(coll.docs)
    docs = embedder.embed_documents([doc_text(*coll.docs[d]) for d in ids])
    qids = list(coll.queries)
    queries = embedder.embed_queries([coll.queries[q] for q in qids])
    scores = queries @ docs.T
    return {q: [ids[j] for j in np.argsort(-scores[i], kind="stable")[:k]] for i, q in enumerate(qids)}


Rankings = dict[str, dict[str, list[str]]]  # mode -> query id -> ranked doc ids


def cli_rankings(coll: Collection, work: Path, model: Path, k: int) -> tuple[Rankings, float]:
    paths = write_corpus(coll, work / "docs")
    by_path = {str(p.resolve()): d for d, p in paths.items()}
    data = work / "data"
    started = time.perf_counter()
    cli("index", str(work / "docs"), "--model", str(model), "--data-dir", str(data))
    index_s = time.perf_counter() - started
    qids = list(coll.queries)
    batch = work / "queries.txt"
    batch.write_text("\n".join(coll.queries[q] for q in qids) + "\n", encoding="utf-8")
    out: Rankings = {}
    for mode in MODES:
        lines = cli("search", "--batch", str(batch), "--json", "--mode", mode, "--k", str(k),
                    "--data-dir", str(data)).splitlines()
        assert len(lines) == len(qids), (mode, len(lines), len(qids))
        out[mode] = {q: [by_path.get(r["path"], r["path"]) for r in json.loads(line)["results"]]
                     for q, line in zip(qids, lines, strict=True)}
    return out, index_s


def run_collection(name: str, args: argparse.Namespace, embedder: Embedder) -> dict[str, float]:
    coll = limit_queries(corpus.collection(name, args.max_docs), args.max_queries,
                         args.keep_quotes)
    started = time.perf_counter()
    direct = mean_ndcg(coll, direct_rankings(embedder, coll, args.k), args.k)
    direct_s = time.perf_counter() - started
    with tempfile.TemporaryDirectory(prefix="qfinder-bench-") as tmp:
        rankings, index_s = cli_rankings(coll, Path(tmp), args.model, args.k)
    row = {mode: mean_ndcg(coll, rankings[mode], args.k) for mode in MODES}
    row.update({f"empty_{mode}": sum(not ranked for ranked in rankings[mode].values()) for mode in MODES})
    row.update(direct=direct, ratio=row["semantic"] / direct if direct else float("nan"),
               docs=len(coll.docs), queries=len(coll.queries), index_s=index_s, direct_s=direct_s)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=corpus.E5)
    parser.add_argument("--collections", default=DEFAULT_COLLECTIONS)
    parser.add_argument("--max-docs", type=int, default=None)
    parser.add_argument("--max-queries", type=int, default=None)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--keep-quotes", action="store_true", help="search the questions with their quote marks")
    args = parser.parse_args()
    os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
    embedder = Embedder.from_folder(args.model)
    print(f"model {embedder.info.name} on {embedder.provider.used}; nDCG@{args.k}")
    print(f"{'collection':<20}{'docs':>6}{'qs':>6}{'direct':>8}{'semantic':>9}{'hybrid':>8}{'keyword':>8}"
          f"{'sem/dir':>8}{'index s':>9}{'direct s':>9}  empty sem/hyb/kw")
    for name in args.collections.split(","):
        r = run_collection(name, args, embedder)
        print(f"{name:<20}{r['docs']:>6}{r['queries']:>6}{r['direct']:>8.4f}{r['semantic']:>9.4f}"
              f"{r['hybrid']:>8.4f}{r['keyword']:>8.4f}{r['ratio']:>8.3f}{r['index_s']:>9.1f}{r['direct_s']:>9.1f}"
              f"  {r['empty_semantic']:.0f}/{r['empty_hybrid']:.0f}/{r['empty_keyword']:.0f}",
              flush=True)


if __name__ == "__main__":
    main()
