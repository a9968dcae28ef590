"""Does the relevance cut-off keep what is relevant and say "no close matches" when nothing is?

For each collection (BEIR layout under ../shared/data) every document is written as a file and
indexed with `qfinder index` (bench_retrieval's helpers), then searched with `qfinder search
--batch --json --k 10` in hybrid mode:
  kept      its own queries: the share whose relevant document (any, for CISI) is a close match
            (relevance >= 0.5, shown above the "n weaker matches" row); "top" the share whose
            first result is close at all;
  refused   queries of another collection (cisi on xquad, xquad/en on cisi): the share that get
            "no close matches" (no result at 0.5 or more), as they should;
  nDCG@10   of the same hybrid run: relevance orders nothing, so this must equal
            bench_retrieval's hybrid figure.

    python3 bench/bench_relevance.py [--model DIR] [--collections xquad/en,xquad/zh,...]
                                     [--max-queries N] [--keep DIR]

`--keep DIR` keeps each collection's index under DIR and reuses it on the next run.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import corpus  # bench/ is on sys.path
from bench_retrieval import cli, limit_queries, mean_ndcg
from timing import cpu_summary

from qfinder.devtools.ir_eval import Collection, write_corpus

CLOSE = 0.5  # qfinder.core.search.relevance.CLOSE, as the JSON output reads
FOREIGN = {"xquad/en": "cisi", "xquad/zh": "cisi", "xquad/mixed-zh-en": "cisi", "cisi": "xquad/en",
           "xquad/de": "cisi", "xquad/es": "cisi", "cmrc2018-trial": "cisi"}

Answers = dict[str, list[dict]]  # query id -> results as --json gives them


def indexed(name: str, coll: Collection, base: Path, model: Path) -> tuple[Path, dict[str, str]]:
    """(data folder, {path: doc id}); indexes only when `base` holds no index of `name` yet."""
    work = base / name.replace("/", "_")
    paths = write_corpus(coll, work / "docs")
    if not (work / "data" / "catalog.db").exists():
        cli("index", str(work / "docs"), "--model", str(model), "--data-dir", str(work / "data"))
    return work / "data", {str(p.resolve()): d for d, p in paths.items()}


def answers(data: Path, queries: dict[str, str], work: Path) -> Answers:
    qids = list(queries)
    batch = work / "relevance-queries.txt"
    batch.write_text("\n".join(queries[q] for q in qids) + "\n", encoding="utf-8")
    lines = cli("search", "--batch", str(batch), "--json", "--k", "10", "--data-dir", str(data)).splitlines()
    assert len(lines) == len(qids), (len(lines), len(qids))
    return {q: json.loads(line)["results"] for q, line in zip(qids, lines, strict=True)}


def run_collection(name: str, args: argparse.Namespace, base: Path) -> dict[str, float]:
    coll = limit_queries(corpus.collection(name), args.max_queries)
    foreign = limit_queries(corpus.collection(FOREIGN[name]), args.max_queries)
    data, doc_of = indexed(name, coll, base, args.model)
    own = answers(data, coll.queries, data.parent)
    other = answers(data, foreign.queries, data.parent)
    kept = sum(any(doc_of.get(r["path"]) in coll.qrels[q] and r["relevance"] >= CLOSE for r in rs)
               for q, rs in own.items())
    top = sum(bool(rs) and rs[0]["relevance"] >= CLOSE for rs in own.values())
    refused = sum(not any(r["relevance"] >= CLOSE for r in rs) for rs in other.values())
    rankings = {q: [doc_of.get(r["path"], r["path"]) for r in rs] for q, rs in own.items()}
    return {"docs": len(coll.docs), "queries": len(own), "kept": kept / len(own), "top": top / len(own),
            "foreign": len(other), "refused": refused / len(other), "ndcg": mean_ndcg(coll, rankings, 10)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=corpus.E5)
    parser.add_argument("--collections", default="xquad/en,xquad/zh,xquad/mixed-zh-en,cisi")
    parser.add_argument("--max-queries", type=int, default=300)
    parser.add_argument("--keep", type=Path, default=None, help="keep (and reuse) the indexes here")
    args = parser.parse_args()
    print(cpu_summary())
    print(f"model {args.model.name}; hybrid, k=10, close from relevance {CLOSE}")
    print(f"{'collection':<20}{'docs':>6}{'qs':>6}{'kept':>8}{'top':>8}  {'foreign qs':<18}{'refused':>8}"
          f"{'nDCG@10':>9}")
    with tempfile.TemporaryDirectory(prefix="qfinder-relevance-") as tmp:
        base = args.keep or Path(tmp)
        for name in args.collections.split(","):
            r = run_collection(name, args, base)
            print(f"{name:<20}{r['docs']:>6}{r['queries']:>6}{r['kept']:>8.1%}{r['top']:>8.1%}  "
                  f"{FOREIGN[name] + ' ' + str(int(r['foreign'])):<18}{r['refused']:>8.1%}{r['ndcg']:>9.4f}",
                  flush=True)


if __name__ == "__main__":
    main()
