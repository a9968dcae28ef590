"""Re-scan of an unchanged, fully indexed 10k-file tree through the Indexer (issue 3 §8: < 2 s).

Builds 100 folders x 100 small text files, indexes them once with the tiny Qwen3 test model
(or --model DIR), then times `Indexer.plan([root])` on the unchanged tree (walk + catalog read +
diff; must queue nothing and embed nothing) against a bare baseline measured in the same run
(os.scandir recursion + one lstat per file).

    python3 bench/bench_rescan.py [--files 10000] [--repeat 5] [--model DIR]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from timing import timed

from qfinder.core.indexing.indexer import Indexer, IndexSettings
from qfinder.core.model.embedder import Embedder
from qfinder.core.storage.catalog import Catalog

ROOT = Path(__file__).resolve().parents[1]


def build_tree(root: Path, n_files: int) -> None:
    per_folder = 100
    for i in range(max(1, n_files // per_folder)):
        folder = root / f"project-{i:03d}" / "notes"
        folder.mkdir(parents=True)
        for j in range(per_folder):
            (folder / f"note_{j:03d}.txt").write_text(f"note {i} {j}\n")


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
        build_tree(root, args.files)
        model = args.model or tiny_model(base / "model")
        indexer = Indexer(Catalog(base / "data" / "catalog.db"), Embedder.from_folder(model, provider="cpu"),
                          IndexSettings(step_files=256, step_tokens=16_384))
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


if __name__ == "__main__":
    main()
