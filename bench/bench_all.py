"""Every bench script in one run, each with the load average beside it, and a summary at the end.

    python3 bench/bench_all.py [--quick] [--only bench_rescan.py ...] [--workdir DIR]

Runs each script of bench/ in a child process, one after another (each prints its own baseline
of the same run), then each one's exit status and wall time. The full run uses the sizes the
issues quote (bench_index_e2e with 40 files, bench_rescan on 10k files, the optimizer on the 0.6B
model in bench_precision: most of an hour of CPU on 2 cores; the 0.6B models take about 6 GB under
--workdir); gpu_check exits 2 where onnxruntime has no CUDA provider. --quick is a dry run of
every script at small sizes (the tiny Qwen3 architectures, a few files and texts, default
workdir /tmp/qfinder-bench-quick): minutes, and its figures are too small to quote.
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
# script: (full-size options, --quick options)
STEPS = {
    "bench_index_e2e.py": (["--files", "40"], ["--tiny", "--files", "8", "--pdfs", "1", "--docx", "1",
                                                "--rounds", "1", "--searches", "2"]),
    "bench_rescan.py": (["--files", "10000"], ["--files", "500", "--repeat", "2"]),
    "bench_walk.py": ([], ["--files", "500", "--repeat", "2"]),
    "bench_precision.py": ([], ["--tiny", "--texts", "4"]),
    "bench_engine.py": ([], ["--tiny", "--texts", "2"]),
    "profile_int8.py": ([], ["--layers", "1", "--batch", "1", "--tokens", "64", "--runs", "1"]),
    "gpu_check.py": ([], ["--tiny", "--allow-cpu", "--texts", "16", "--cpu-texts", "8"]),
    "bench_idle_rss.py": (["--files", "300"], ["--files", "30"]),
    "bench_live.py": ([], ["--tiny", "--files", "6", "--queries", "3", "--saves", "2", "--idle-s", "1"]),
    "bench_remote.py": ([], ["--files", "10", "--queries", "3"]),
    "bench_retrieval.py": ([], ["--collections", "xquad/en", "--max-docs", "60", "--max-queries", "10"]),
    "bench_relevance.py": ([], ["--collections", "xquad/en", "--max-queries", "10"]),
    "bench_dims.py": ([], ["--n", "2000", "--full-dim", "64", "--dims", "16", "32", "--queries", "20"]),
    "suite_under_load.py": (["--runs", "3"], ["--runs", "1", "--", "tests/test_layers.py"]),
}
WITH_WORKDIR = ("bench_index_e2e.py", "bench_precision.py", "bench_engine.py", "profile_int8.py", "gpu_check.py")


def run_step(script: str, options: list[str], workdir: Path) -> tuple[int, float]:
    """(exit status, wall seconds) of one script in a child process."""
    extra = ["--workdir", str(workdir)] if script in WITH_WORKDIR else []
    started = time.perf_counter()
    print(f"\n=== {script} (load average {os.getloadavg()[0]:.1f} at start)", flush=True)
    code = subprocess.run([sys.executable, str(HERE / script), *options, *extra]).returncode
    seconds = time.perf_counter() - started
    print(f"=== {script}: exit {code} after {seconds:.0f} s, load average {os.getloadavg()[0]:.1f} at end",
          flush=True)
    return code, seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="every script at small sizes: a dry run")
    parser.add_argument("--workdir", type=Path, help="where models are built (default /tmp/qfinder-bench, "
                                                     "with --quick /tmp/qfinder-bench-quick)")
    parser.add_argument("--only", nargs="*", choices=sorted(STEPS), help="run these benches only")
    args = parser.parse_args()
    workdir = args.workdir or Path("/tmp/qfinder-bench-quick" if args.quick else "/tmp/qfinder-bench")
    print(cpu_summary())
    outcomes = {script: run_step(script, quick if args.quick else full, workdir)
                for script, (full, quick) in STEPS.items() if not args.only or script in args.only}
    print(f"\n{'script':<22} {'exit':>4} {'wall s':>7}")
    for script, (code, seconds) in outcomes.items():
        print(f"{script:<22} {code:>4} {seconds:>7.0f}")
    failed = [script for script, (code, _) in outcomes.items() if code]
    print(f"failed: {', '.join(failed)}" if failed else "all benches ran")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
