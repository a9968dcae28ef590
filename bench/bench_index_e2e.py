"""A whole index of a realistic folder against the engine alone, on the 0.6B architecture.

    python3 bench/bench_index_e2e.py [--files 40] [--pdfs 3] [--docx 2] [--rounds 2] [--searches 5] [--tiny]

The folder: the first --files cisi documents as .txt files plus a few PDFs and DOCX files of
cisi text (extracted in the indexer's child process). It is indexed from scratch through
`Library.open(...).indexer` (what `qfinder index` runs) with today's steps and with the old
ones (16 files / 4,096 tokens a step), and the chunks the catalog ends up with are embedded by
the engine alone in one call: the baseline, in the same run. Each figure is the best of
--rounds (other load only ever adds time). Then, in fresh processes: the unchanged re-index
(`qfinder index`, wall time, and whether onnxruntime was imported), cold semantic searches
(p50) beside keyword ones and a bare `import qfinder.cli`, and the memory of an idle process
that has just indexed. The 0.6B model (random weights, real tokenizer) is built once under
--workdir (~2.4 GB); the first open writes its optimized graph (timed apart, then reused).
--tiny: 2 narrow layers instead, a dry run of the script.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import corpus
from bench_engine import ensure_fp32
from timing import cpu_summary

from qfinder.core.indexing.indexer import IndexSettings
from qfinder.core.library.library import Library

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OLD_STEPS = IndexSettings(step_files=16, step_tokens=4096)
ENV = {**os.environ, "PYTHONPATH": str(ROOT), "ORT_DISABLE_TELEMETRY": "1"}


def _pdf_builder():
    spec = importlib.util.spec_from_file_location("extract_fixtures", ROOT / "tests/core/extract/conftest.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.pdf_bytes


def build_tree(root: Path, files: int, pdfs: int, docx: int) -> None:
    from docx import Document

    corpus.write_collection(root, max_docs=files)
    rest = list(corpus.collection(max_docs=files + 4 * (pdfs + docx)).docs.values())[files:]
    pdf_bytes = _pdf_builder()
    for i in range(pdfs):
        pages = [" ".join(text.split()[:120]) for _title, text in rest[4 * i:4 * i + 4]]
        (root / f"report-{i}.pdf").write_bytes(pdf_bytes(pages))
    for i in range(docx):
        document = Document()
        for title, text in rest[4 * (pdfs + i):4 * (pdfs + i) + 4]:
            document.add_heading(title, level=2)
            document.add_paragraph(text)
        document.save(str(root / f"notes-{i}.docx"))


def index_once(tree: Path, data: Path, model: Path, steps: IndexSettings) -> dict[str, float]:
    for leftover in ("catalog.db", "catalog.db-wal", "catalog.db-shm", "settings.json"):
        (data / leftover).unlink(missing_ok=True)
    started = time.perf_counter()
    with Library.open(data, writer=True, model_folder=str(model), steps=steps) as lib:
        indexer = lib.indexer
        assert indexer is not None
        indexer.plan([str(tree)])
        while indexer.pending():
            indexer.step()
        wall = time.perf_counter() - started
        s = indexer.stats
        open_s = lib.embedder.opening.seconds if lib.embedder is not None else 0.0  # type: ignore[attr-defined]
    with sqlite3.connect(data / "catalog.db") as db:  # one text per distinct chunk, as embedded
        texts = [text for (text,) in db.execute("SELECT min(text) FROM chunks GROUP BY hash")]
    return {"wall": wall, "open_s": open_s, "tokens": s.tokens_embedded, "texts": s.texts_embedded,
            "batches": s.batches, "embed_s": s.embed_seconds, "chunks": texts}  # type: ignore[dict-item]


def engine_alone(model: Path, texts: list[str], cache: Path) -> dict[str, float]:
    from qfinder.core.model.embedder import Embedder

    embedder = Embedder.from_folder(model, provider="cpu", cache_dir=cache)
    started = time.perf_counter()
    stats = embedder.embed_documents_with_stats(texts).stats
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "tokens": stats.tokens, "texts": stats.texts, "batches": stats.batches}


def extraction_share(tree: Path) -> dict[str, float]:
    """Seconds to extract each kind (PDF and DOCX in the child process), for the overlap question."""
    from qfinder.core.extract import ChildExtractor, ExtractLimits, extract_text

    extractor, limits, spent = ChildExtractor(), ExtractLimits(), {}
    try:
        for path in sorted(tree.iterdir()):
            started = time.perf_counter()
            extract_text(str(path), limits, extractor)
            spent[path.suffix] = spent.get(path.suffix, 0.0) + time.perf_counter() - started
    finally:
        extractor.close()
    return spent


def fresh_process(*args: str) -> tuple[float, dict]:
    code = ("import json, sys; from qfinder.cli import run; c = run(sys.argv[1:]); "
            "print(json.dumps({'code': c, 'ort': 'onnxruntime' in sys.modules}))")
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=ENV, check=True)
    return time.perf_counter() - started, json.loads(done.stdout.strip().splitlines()[-1])


IDLE = """
import json, sys, time
from pathlib import Path
from qfinder.core.library.library import Library
tree, data, bench = sys.argv[1:4]
sys.path.insert(0, bench)
from timing import rss
changed = sorted(Path(tree).glob("*.txt"))[0]
changed.write_text(changed.read_text() + " (edited)")
with Library.open(data, writer=True) as lib:
    lib.indexer.plan([tree])
    while lib.indexer.pending():
        lib.indexer.step()
    lib.upkeep.settle()  # returns the heap the batches freed (qfinder.core.heap)
    fields = {"open": rss()}
    lib.release_model()  # what the app does after an idle period (services/idle_model.py)
    fields["released"] = rss()
print(json.dumps(fields))
"""


def idle_rss(tree: Path, data: Path) -> dict[str, dict[str, float]]:
    """RSS of a fresh process that has just indexed one changed file, with the model open (idle)
    and after it was released."""
    done = subprocess.run([sys.executable, "-c", IDLE, str(tree), str(data), str(HERE)], capture_output=True, text=True,
                          env=ENV, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def bare_start() -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import qfinder.cli"], check=True, env=ENV)
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=40)
    parser.add_argument("--pdfs", type=int, default=3)
    parser.add_argument("--docx", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--searches", type=int, default=5)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/qfinder-bench"))
    parser.add_argument("--tiny", action="store_true", help="2 narrow layers: a dry run, its figures meaningless")
    args = parser.parse_args()
    print(cpu_summary())
    print(f"load average     {os.getloadavg()[0]:.1f} at start")
    model = ensure_fp32(args.workdir, args.tiny)
    with tempfile.TemporaryDirectory(prefix="qfinder-e2e-") as tmp:
        base = Path(tmp)
        tree, data = base / "tree", base / "data"
        build_tree(tree, args.files, args.pdfs, args.docx)
        first = index_once(tree, data, model, IndexSettings())  # writes the optimized graph
        print(f"first open of the model (writes the optimized graph): {first['open_s']:.1f} s")
        runs: dict[str, list[dict[str, float]]] = {"steps now": [], "old steps": [], "engine alone": []}
        for _ in range(args.rounds):
            runs["engine alone"].append(engine_alone(model, first["chunks"], data / "model-cache" / "graphs"))
            runs["steps now"].append(index_once(tree, data, model, IndexSettings()))
            runs["old steps"].append(index_once(tree, data, model, OLD_STEPS))
        report(runs, first)
        print("extraction, s by kind:", {k: round(v, 2) for k, v in extraction_share(tree).items()})
        re_index = [fresh_process("index", str(tree), "--data-dir", str(data)) for _ in range(3)]
        print(f"unchanged re-index (fresh process): min {min(w for w, _ in re_index):.2f} s; onnxruntime "
              f"imported: {any(r['ort'] for _, r in re_index)}; bare `import qfinder.cli`: {bare_start():.2f} s")
        for mode in ("semantic", "keyword"):
            walls = [fresh_process("search", "library classification", "--mode", mode, "--data-dir", str(data))[0]
                     for _ in range(args.searches)]
            print(f"cold {mode} search: p50 {statistics.median(walls):.2f} s (min {min(walls):.2f}, "
                  f"max {max(walls):.2f}, {len(walls)} runs)")
        idle = idle_rss(tree, data)
        for when, what in (("open", "model open"), ("released", "model released after the idle period")):
            r = idle[when]
            print(f"idle RSS after indexing (fresh process, {what}): {r['VmRSS']:.0f} MB "
                  f"(anonymous {r['RssAnon']:.0f}, file-backed {r['RssFile']:.0f}); load {os.getloadavg()[0]:.1f}")
        print("status:", subprocess.run([sys.executable, "-m", "qfinder", "status", "--data-dir", str(data)],
                                        capture_output=True, text=True, env=ENV).stdout.splitlines()[1:3])
    print(f"load average     {os.getloadavg()[0]:.1f} at end")
    return 0


def report(runs: dict[str, list[dict[str, float]]], first: dict[str, float]) -> None:
    alone = min(runs["engine alone"], key=lambda r: r["seconds"])
    alone_tps = alone["tokens"] / alone["seconds"]
    print(f"chunks {alone['texts']}, tokens {alone['tokens']:.0f}")
    print(f"engine alone, one call: {alone_tps:.0f} tok/s, {alone['texts'] / alone['batches']:.1f} rows/batch")
    for name in ("steps now", "old steps"):
        best = min(runs[name], key=lambda r: r["wall"])
        e2e, no_open = best["tokens"] / best["wall"], best["tokens"] / (best["wall"] - best["open_s"])
        print(f"{name:10s}: end-to-end {e2e:.0f} tok/s ({e2e / alone_tps:.2f}x engine alone), without the "
              f"{best['open_s']:.1f} s model open {no_open:.0f} tok/s ({no_open / alone_tps:.2f}x); "
              f"{best['texts'] / best['batches']:.1f} rows/batch; embedding {best['embed_s'] / best['wall']:.0%} "
              f"of the wall")


if __name__ == "__main__":
    sys.exit(main())
