"""Where an idle process's memory goes after indexing, stage by stage, and what releasing takes back.

    python3 bench/bench_idle_rss.py [--files 400] [--model DIR] [--no-qt]

One fresh process (this script runs itself as a child) goes through what the desktop app does:
imports, a QApplication (offscreen; --no-qt leaves Qt out), a writer Library on a folder of
--files cisi documents as .txt files, a whole index with the model (default: the shared
multilingual-e5-small-q4, 68 MB of ONNX + a 9.6 MB tokenizer), a semantic search, then the
releases: glibc's free heap returned (malloc_trim), the model released (session and tokenizer
closed, as the app does after an idle period), reopened by a search and released again.
After each stage it reads /proc/self/status (RSS: anonymous and file-backed) and, at the end of
indexing, /proc/self/smaps grouped by what is mapped. A baseline measured in the same run: the
bare interpreter with numpy.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

from timing import cpu_summary, rss  # bench/ is on sys.path; light: the child's baseline stays bare

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": str(ROOT), "ORT_DISABLE_TELEMETRY": "1", "QT_QPA_PLATFORM": "offscreen"}


def mapped() -> dict[str, float]:
    """Resident MB per kind of mapping (/proc/self/smaps): heap, anonymous, the model's files, libraries."""
    kinds: dict[str, float] = defaultdict(float)
    name = ""
    with open("/proc/self/smaps", encoding="utf-8", errors="replace") as handle:
        for line in handle:
            head = line.split()
            if head and "-" in head[0] and len(head) >= 5 and not head[0].endswith(":"):
                name = _kind(head[5] if len(head) > 5 else "")
            elif line.startswith("Rss:"):
                kinds[name] += int(head[1]) / 1024
    return dict(sorted(kinds.items(), key=lambda kv: -kv[1]))


def _kind(path: str) -> str:
    if path in ("", "[heap]", "[stack]"):
        return path or "anonymous (malloc arenas, numpy, ORT buffers)"
    name = os.path.basename(path)
    for marker, kind in (("onnxruntime", "onnxruntime library"), ("Qt", "Qt libraries"), ("PySide", "Qt libraries"),
                         ("shiboken", "Qt libraries"), ("model.onnx", "model graph / weights (file)"),
                         ("catalog.db", "SQLite catalog (file)"), ("tokenizers", "tokenizers library"),
                         ("hnswlib", "hnswlib library"), ("numpy", "numpy / BLAS libraries"),
                         ("openblas", "numpy / BLAS libraries"), ("python", "python")):
        if marker in name or marker in path:
            return kind
    if "/indexes/" in path:
        return "vector index files (file)"
    return "other files (libraries, locale)"


def child(tree: Path, data: Path, model: Path, qt: bool) -> None:
    stages: list[tuple[str, dict[str, float]]] = [("interpreter + numpy", rss())]
    from qfinder.core.heap import return_free_memory
    from qfinder.core.library.library import Library
    from qfinder.core.results import SearchRequest

    stages.append(("+ qfinder imported", rss()))
    if qt:
        from PySide6.QtWidgets import QApplication

        app = QApplication([])  # noqa: F841  (held for the process's life, as the app does)
        stages.append(("+ QApplication", rss()))
    lib = Library.open(data, writer=True, model_folder=str(model))
    stages.append(("+ Library open (model lazy)", rss()))
    assert lib.indexer is not None and lib.upkeep is not None
    lib.indexer.plan([str(tree)])
    while lib.indexer.pending():
        lib.indexer.step()
    lib.upkeep.settle()
    gc.collect()
    stages.append(("+ indexed, settled (idle)", rss()))
    by_kind = mapped()
    lib.search(SearchRequest("library classification", mode="semantic"))
    stages.append(("+ one semantic search", rss()))
    return_free_memory()
    stages.append(("free heap returned (malloc_trim)", rss()))
    lib.release_model()
    stages.append(("model released (Library.release_model)", rss()))
    lib.search(SearchRequest("library classification", mode="semantic"))
    stages.append(("+ a search reopens it (graph cache)", rss()))
    lib.release_model()
    stages.append(("released again", rss()))
    lib.close()
    print(json.dumps({"stages": stages, "mapped": by_kind}))


def main() -> int:
    import corpus  # qfinder's: in the parent only

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=400)
    parser.add_argument("--model", type=Path, default=corpus.E5)
    parser.add_argument("--no-qt", action="store_true")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        import numpy  # noqa: F401  (the baseline: what any numpy program holds)

        child(Path(args.child[0]), Path(args.child[1]), Path(args.child[2]), not args.no_qt)
        return 0
    print(cpu_summary())
    print(f"load average     {os.getloadavg()[0]:.1f} at start")
    with tempfile.TemporaryDirectory(prefix="qfinder-rss-") as tmp:
        tree, data = Path(tmp) / "tree", Path(tmp) / "data"
        corpus.write_collection(tree, max_docs=args.files)
        command = [sys.executable, __file__, "--child", str(tree), str(data), str(args.model)]
        done = subprocess.run(command + (["--no-qt"] if args.no_qt else []), capture_output=True, text=True,
                              env=ENV, check=True)
        result = json.loads(done.stdout.strip().splitlines()[-1])
    print(f"model {args.model.name}, {args.files} files")
    print(f"{'stage':40s} {'RSS MB':>7s} {'anon':>6s} {'file':>6s}  {'x baseline':>10s}")
    base = result["stages"][0][1]["VmRSS"]
    for stage, r in result["stages"]:
        print(f"{stage:40s} {r['VmRSS']:7.0f} {r['RssAnon']:6.0f} {r['RssFile']:6.0f}  {r['VmRSS'] / base:10.1f}")
    print("resident by mapping, idle after indexing (MB):")
    for kind, mb in result["mapped"].items():
        if mb >= 1:
            print(f"  {kind:48s} {mb:6.0f}")
    print(f"load average     {os.getloadavg()[0]:.1f} at end")
    return 0


if __name__ == "__main__":
    sys.exit(main())
