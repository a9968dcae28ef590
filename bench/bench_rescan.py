"""Re-scan of an unchanged, fully indexed 10k-file tree: the Indexer (< 2 s) and the whole
`qfinder index` command in a fresh process (< 1 s, without opening the model).

Builds 100 folders x 100 small text files, indexes them once with the tiny Qwen3 test model
(or --model DIR) into a data folder, then times `Indexer.plan([root])` on the unchanged tree
(walk + catalog read + diff; must queue nothing and embed nothing) against a bare baseline
measured in the same run (os.scandir recursion + one lstat per file), and `qfinder index ROOT`
in fresh processes (best of --repeat) against a bare `import qfinder.cli`, saying whether
onnxruntime was imported.

    python3 bench/bench_rescan.py [--files 10000] [--repeat 5] [--model DIR]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from corpus import numbered_tree
from timing import timed

from qfinder.core.library.library import Library

ROOT = Path(__file__).resolve().parents[1]


def bare_walk(root: str) -> int:
    count = 0
    stack = [root]
    while stack:
        with os.scandir(stack.pop()) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    stack.append(entry.path)
                else:
                    entry.stat(follow_symlinks=False)
                    count += 1
    return count


def tiny_model(dest: Path) -> Path:
    sys.path.insert(0, str(ROOT / "tests"))
    from support.qwen3 import build_tiny_qwen3

    return build_tiny_qwen3(dest)



def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--model", type=Path, default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="qfinder-rescan-") as tmp:
        base = Path(tmp)
        root = base / "tree"
        numbered_tree(root, args.files)
        model = args.model or tiny_model(base / "model")
        library = Library.open(base / "data", writer=True, model_folder=str(model))
        indexer = library.indexer
        assert indexer is not None
        started = time.perf_counter()
        indexer.plan([str(root)])
        while indexer.pending():
            indexer.step()
        print(f"first index: {indexer.stats.files_done} files, {indexer.stats.texts_embedded} chunks embedded "
              f"in {time.perf_counter() - started:.1f} s")
        bare_s, count = timed(lambda: bare_walk(str(root)), args.repeat)
        embedded = indexer.stats.texts_embedded
        rescan_s, report = timed(lambda: indexer.plan([str(root)]), args.repeat)
        assert indexer.pending() == 0 and indexer.stats.texts_embedded == embedded
        print(f"bare scandir+lstat of {count} files: {bare_s * 1000:.0f} ms (median of {args.repeat})")
        print(f"Indexer.plan on the unchanged tree: {rescan_s * 1000:.0f} ms "
              f"({rescan_s / bare_s:.1f}x bare); {report}")
        print(f"target < 2 s: {'met' if rescan_s < 2 else 'MISSED'}")
        library.close()
        cli_s, loaded = whole_command(root, base / "data", args.repeat)
        print(f"`qfinder index` on the unchanged tree, fresh process: {cli_s:.2f} s (best of {args.repeat}; "
              f"bare `import qfinder.cli` {whole_command(None, None, 1)[0]:.2f} s); onnxruntime imported: {loaded}")
        print(f"target < 1 s without opening the model: {'met' if cli_s < 1 and not loaded else 'MISSED'}")


def whole_command(root: Path | None, data: Path | None, repeat: int) -> tuple[float, bool]:
    """Best wall time of `qfinder index ROOT --data-dir DATA` (None: only import the CLI)."""
    code = ("import json, sys; from qfinder.cli import run; "
            "c = run(sys.argv[1:]) if len(sys.argv) > 1 else 0; print('onnxruntime' in sys.modules)")
    argv = [] if root is None else ["index", str(root), "--data-dir", str(data)]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    best, loaded = float("inf"), False
    for _ in range(repeat):
        started = time.perf_counter()
        done = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True, env=env, check=True)
        best = min(best, time.perf_counter() - started)
        loaded = loaded or done.stdout.strip().endswith("True")
    return best, loaded


if __name__ == "__main__":
    main()
