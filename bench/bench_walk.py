"""Re-scan time of an unchanged 10k-file tree (issue 3 §8 target: < 2 s).

Builds 100 folders x 100 files (plus a .gitignore and some excluded folders), warms the
cache with one walk, then times qfinder's walk against a bare baseline (os.walk + lstat of
every file) measured in the same run.

    python3 bench/bench_walk.py [--files 10000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

from corpus import numbered_tree
from timing import timed

from qfinder.core.indexing.walk import ExcludeRules, walk


def build_tree(root: Path, n_files: int) -> None:
    """The re-scan tree, plus what the walk must skip: a .gitignore and an excluded folder."""
    numbered_tree(root, n_files)
    (root / ".gitignore").write_text("*.tmp\nbuild/\n")
    (root / "node_modules" / "pkg").mkdir(parents=True)
    (root / "node_modules" / "pkg" / "index.js").write_text("x")


def baseline(root: Path) -> int:
    count = 0
    for folder, _dirs, files in os.walk(root):
        for name in files:
            os.lstat(os.path.join(folder, name))
            count += 1
    return count



def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        build_tree(root, args.files)
        rules = ExcludeRules()
        sum(1 for _ in walk([root], rules))  # warm the OS cache
        walk_s, found = timed(lambda: sum(1 for _ in walk([root], rules)), args.repeat)
        base_s, seen = timed(lambda: baseline(root), args.repeat)
    print(f"qfinder walk: {found} files in {walk_s * 1000:.1f} ms (median of {args.repeat})")
    print(f"baseline os.walk+lstat: {seen} files in {base_s * 1000:.1f} ms")
    print(
        f"ratio walk/baseline: {walk_s / base_s:.2f}x ; target < 2000 ms: {'OK' if walk_s < 2 else 'MISSED'}"
    )


if __name__ == "__main__":
    main()
