"""Every figure of the indexing-speed work in one run, each bench with the load average beside it.

    python3 bench/bench_all.py [--quick] [--workdir /tmp/qfinder-bench]

Runs, one after another, in child processes (each prints its own baseline of the same run):
bench_index_e2e.py (a whole index of cisi text + PDFs/DOCX on the 0.6B architecture against the
engine alone, unchanged re-index, cold searches, idle RSS with the model open and released),
bench_rescan.py (the unchanged re-index of 10k files), bench_precision.py (the optimizer on the
0.6B model: the fastest safe variant against fp32, share of the int8 peak) and bench_idle_rss.py
(where an idle process's memory goes). --quick runs smaller sizes of each (a dry run of the
script: its figures are too small to quote). The 0.6B models take about 6 GB under --workdir and
the precision step most of an hour of CPU on 2 cores.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

from timing import cpu_summary

HERE = Path(__file__).resolve().parent
STEPS = {
    "bench_index_e2e.py": (["--files", "40"], ["--files", "8", "--pdfs", "1", "--docx", "1", "--rounds", "1",
                                                "--searches", "2"]),
    "bench_rescan.py": (["--files", "10000"], ["--files", "500", "--repeat", "2"]),
    "bench_precision.py": ([], ["--texts", "4"]),
    "bench_idle_rss.py": (["--files", "300"], ["--files", "30"]),
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/qfinder-bench"))
    parser.add_argument("--only", nargs="*", choices=sorted(STEPS), help="run these benches only")
    args = parser.parse_args()
    print(cpu_summary())
    failed = []
    for script, (full, quick) in STEPS.items():
        if args.only and script not in args.only:
            continue
        extra = ["--workdir", str(args.workdir)] if script in ("bench_index_e2e.py", "bench_precision.py") else []
        started, load = time.perf_counter(), os.getloadavg()[0]
        print(f"\n=== {script} (load average {load:.1f} at start)", flush=True)
        code = subprocess.run([sys.executable, str(HERE / script), *(quick if args.quick else full), *extra]).returncode
        print(f"=== {script}: exit {code} after {time.perf_counter() - started:.0f} s, "
              f"load average {os.getloadavg()[0]:.1f} at end", flush=True)
        if code:
            failed.append(script)
    print(f"\nfailed: {', '.join(failed)}" if failed else "\nall benches ran")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
