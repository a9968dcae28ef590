"""Run the default test suite several times, idle or beside CPU hogs, and count the passes.

    python3 bench/suite_under_load.py --runs 5                # idle
    python3 bench/suite_under_load.py --runs 3 --hogs 2       # two `while 1: pass` beside it

The suite must pass on a fast or slow machine, idle or loaded: this is how that is checked.
Each run is `python3 -m pytest -q` (README's test command) with any extra arguments after
`--`; the hogs are plain busy loops in their own processes, started before the first run and
killed after the last (also on Ctrl+C). Prints the CPU, each run's outcome and time, and the
pass count.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from timing import cpu_summary  # noqa: E402

HOG = "while 1: pass"


def run_suite(extra: list[str]) -> tuple[bool, float, str]:
    started = time.monotonic()
    env = {**os.environ, "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen")}
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *extra],
                          cwd=ROOT, env=env, capture_output=True, text=True)
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    failed = [line for line in lines if line.startswith(("FAILED", "ERROR"))]
    summary = "\n    ".join([lines[-1] if lines else done.stderr[-200:], *failed])
    return done.returncode == 0, time.monotonic() - started, summary


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--hogs", type=int, default=0, help="busy-loop processes beside the suite")
    parser.add_argument("pytest_args", nargs="*", help="after --: passed to pytest")
    args = parser.parse_args()
    print(f"{cpu_summary()}; hogs: {args.hogs}")
    hogs = [subprocess.Popen([sys.executable, "-c", HOG]) for _ in range(args.hogs)]
    passed = 0
    try:
        for number in range(1, args.runs + 1):
            ok, seconds, summary = run_suite(args.pytest_args)
            passed += ok
            load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
            print(f"run {number}: {'PASS' if ok else 'FAIL'} in {seconds:.0f} s (load {load:.1f}): {summary}",
                  flush=True)
    finally:
        for hog in hogs:
            hog.kill()
            hog.wait()
    print(f"{passed}/{args.runs} runs passed")
    return 0 if passed == args.runs else 1


if __name__ == "__main__":
    sys.exit(main())
