"""Where the int8 variants' time goes, per onnxruntime op, on the 0.6B's layer shapes.

    python3 bench/profile_int8.py [--layers 4] [--batch 8] [--tokens 384] [--runs 3]

Builds (once, under --workdir) a model with the exact layer shapes of Qwen3-Embedding-0.6B
(hidden 1024, 16/8 heads of 128, intermediate 3072) but only --layers layers and a small
vocabulary: what an op costs per layer does not depend on how many layers there are. Then the
int8 variants the optimizer can build from it, and runs the same batch (random token ids, no
padding) through each twice per round, with the engine's session options: once plain (its wall
time) and once with onnxruntime's profiler (`enable_profiling`, its kernel times, warm-up run left
out). Prints, per variant: wall time per run, useful projection G(FL)OP/s and their share of
this CPU's peak (int8 peak for the int8 variants), and the share of kernel time per op type, so
the overheads (DynamicQuantizeLinear, Cast/Mul of the int32 output, fp32 MatMuls left) show. The
baseline of the same run is fp32, and onnxruntime's MatMul / MatMulInteger alone (bench/peaks.py).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from collections import defaultdict
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")

import numpy as np  # noqa: E402
import onnx  # noqa: E402
import onnxruntime as ort  # noqa: E402
from peaks import cpu_model_and_flags, ort_matmul_rates, peaks  # noqa: E402
from timing import cpu_summary  # noqa: E402

from qfinder.core.model.optimize_candidates import (  # noqa: E402
    build_dynamic_int8,
    build_matmulnbits,
    weighted_matmuls,
)
from qfinder.core.model.optimize_fuse import fused_copy  # noqa: E402
from qfinder.core.model.runtime import session_options  # noqa: E402
from qfinder.devtools.qwen3_config import QWEN3_0_6B, LazyRandomWeights  # noqa: E402
from qfinder.devtools.qwen3_onnx import build_qwen3_onnx  # noqa: E402

VOCAB = 4096  # the embedding Gather costs nothing measurable; a small table keeps the files small


def build_models(workdir: Path, layers: int, variants: dict[str, object]) -> dict[str, Path]:
    cfg = replace(QWEN3_0_6B, num_hidden_layers=layers, vocab_size=VOCAB)
    base = workdir / f"profile-{layers}l"
    base.mkdir(parents=True, exist_ok=True)
    fp32 = base / "fp32.onnx"
    if not fp32.exists():
        build_qwen3_onnx(cfg, LazyRandomWeights(cfg, 6), fp32, kv_cache=False, dtype="float32", external_data=False)
    paths = {"fp32": fp32}
    matmuls = weighted_matmuls(onnx.load(str(fp32), load_external_data=False))
    groups = frozenset(m.group for m in matmuls)
    for name, make in variants.items():
        path = base / f"{name}.onnx"
        if not path.exists():
            make(fp32, path, matmuls, groups)  # type: ignore[operator]
        paths[name] = path
    return paths


def _fused(src: Path) -> Path:
    """The fp32 graph with its RMSNorms fused, as the optimizer builds every candidate from."""
    return src.with_name("fp32-fused.onnx")


VARIANTS = {  # in build order: the fused-* variants read fp32-fused
    "fp32-fused": lambda src, dst, matmuls, groups: fused_copy(src, dst),
    "matmulnbits-8bit": lambda src, dst, matmuls, groups: build_matmulnbits(src, dst),
    "dynamic-all": lambda src, dst, matmuls, groups: build_dynamic_int8(src, dst, matmuls, groups),
    "dynamic-down_proj-fp32": lambda src, dst, matmuls, groups: build_dynamic_int8(
        src, dst, matmuls, groups - {"down_proj"}),
    "fused-dynamic-all": lambda src, dst, matmuls, groups: build_dynamic_int8(
        _fused(src), dst, weighted_matmuls(onnx.load(str(_fused(src)))), groups),
}


def profile(paths: dict[str, Path], feeds: dict[str, np.ndarray], runs: int, out: Path,
            groups: dict[str, str]) -> dict[str, dict]:
    """Per variant: the fastest wall time of a run of a plain session, and kernel seconds per run
    by bucket (each projection group by precision, attention's activation x activation MatMuls,
    every other op type) from a profiled twin. Profiling slows whole runs down (fp32: 5.8 s
    profiled against 2.1-2.3 s plain, measured), so walls never come from the profiled session.
    The first run of each is a warm-up: its first touch of fresh memory is slow in a VM, so its
    events are left out. The variants run in turn, run after run, so a change of load hits them alike."""
    plain, profiled = {}, {}
    for name, path in paths.items():
        plain[name] = ort.InferenceSession(str(path), sess_options=session_options(), providers=["CPUExecutionProvider"])
        options = session_options()
        options.enable_profiling = True
        options.profile_file_prefix = str(out / path.stem)
        profiled[name] = ort.InferenceSession(str(path), sess_options=options, providers=["CPUExecutionProvider"])
    walls: dict[str, list[float]] = defaultdict(list)
    for _ in range(runs + 1):
        for name in paths:
            started = time.perf_counter()
            plain[name].run([plain[name].get_outputs()[0].name], feeds)
            walls[name].append(time.perf_counter() - started)
            profiled[name].run([profiled[name].get_outputs()[0].name], feeds)
    return {name: {"wall": min(walls[name][1:]), "kernel_s": _kernel_seconds(profiled[name], runs, groups)}
            for name in paths}


def _kernel_seconds(session: ort.InferenceSession, runs: int, groups: dict[str, str]) -> dict[str, float]:
    events = json.loads(Path(session.end_profiling()).read_text())
    first_run = min((e for e in events if e.get("cat") == "Session" and e["name"] == "model_run"),
                    key=lambda e: e["ts"])
    warm_from = first_run["ts"] + first_run["dur"]
    buckets: dict[str, float] = defaultdict(float)
    for event in events:
        if event.get("cat") == "Node" and event["name"].endswith("_kernel_time") and event["ts"] >= warm_from:
            bucket = _bucket(event["args"]["op_name"], event["name"][:-len("_kernel_time")], groups)
            buckets[bucket] += event["dur"] / 1e6 / runs
    return dict(sorted(buckets.items(), key=lambda kv: -kv[1]))


INT8_OPS = {"MatMulIntegerToFloat", "DynamicQuantizeMatMul", "MatMulInteger", "MatMulNBits"}


def _bucket(op: str, node: str, groups: dict[str, str]) -> str:
    """'int8 q_proj', 'fp32 down_proj', 'attention MatMul', or the op type for anything else."""
    base = re.sub(r"(_quant|_Q8|_Q4)$", "", node)
    if op in INT8_OPS and base in groups:
        return f"int8 {groups[base]}"
    if op == "MatMul" and base in groups:
        return f"fp32 {groups[base]}"
    if op in ("MatMul", "FusedMatMul"):
        return "attention MatMul"
    return op


def projection_flops(cfg: object, tokens: int) -> dict[str, float]:
    """FLOPs of each projection group over `tokens` tokens, all layers."""
    h, q, kv, inter = (cfg.hidden_size, cfg.num_attention_heads * cfg.head_dim,  # type: ignore[attr-defined]
                       cfg.num_key_value_heads * cfg.head_dim, cfg.intermediate_size)  # type: ignore[attr-defined]
    per_token = {"q_proj": h * q, "k_proj": h * kv, "v_proj": h * kv, "o_proj": q * h,
                 "gate_proj": h * inter, "up_proj": h * inter, "down_proj": inter * h}
    return {g: 2.0 * tokens * cfg.num_hidden_layers * n for g, n in per_token.items()}  # type: ignore[attr-defined]


def report(name: str, r: dict, fp32_wall: float, work: float, flops: dict[str, float], peak: float,
           int8_rate: float, fp32_rate: float) -> None:
    rate = work / r["wall"]
    total = sum(r["kernel_s"].values())
    print(f"{name:24s} {r['wall'] * 1000:7.0f} ms/run  x{fp32_wall / r['wall']:.2f} fp32  "
          f"{rate / 1e9:6.0f} G(FL)OP/s = {100 * rate / peak:4.1f} % of peak")
    for precision, alone in (("int8", int8_rate), ("fp32", fp32_rate)):
        spent = {b: t for b, t in r["kernel_s"].items() if b.startswith(precision + " ")}
        if spent:
            done = sum(flops[b.split()[1]] for b in spent)
            seconds = sum(spent.values())
            print(f"    {precision} projections: {seconds * 1000:5.0f} ms = {100 * seconds / total:4.1f} % of kernel time, "
                  f"{done / seconds / 1e9:5.0f} G(FL)OP/s = {100 * done / seconds / alone:3.0f} % of the op alone")
    rest = [(b, t) for b, t in r["kernel_s"].items() if not b.startswith(("int8 ", "fp32 "))]
    print("    the rest (ms): " + ", ".join(f"{b} {1000 * t:.0f}" for b, t in rest[:8])
          + f"; {1000 * sum(t for _, t in rest):.0f} in all = {100 * sum(t for _, t in rest) / total:.0f} %")


def feeds_for(path: Path, batch: int, tokens: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    feeds: dict[str, np.ndarray] = {}
    for arg in session.get_inputs():
        if arg.name == "input_ids":
            feeds[arg.name] = rng.integers(0, VOCAB, (batch, tokens), dtype=np.int64)
        elif arg.name == "attention_mask":
            feeds[arg.name] = np.ones((batch, tokens), np.int64)
        elif arg.name == "position_ids":
            feeds[arg.name] = np.tile(np.arange(tokens, dtype=np.int64), (batch, 1))
        else:
            raise SystemExit(f"unexpected input {arg.name}")
    return feeds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--tokens", type=int, default=384)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/qfinder-bench"))
    parser.add_argument("--only", nargs="*", help="variants to profile (default: all built)")
    args = parser.parse_args()
    print(cpu_summary())
    print(f"load average     {os.getloadavg()[0]:.1f} at start")
    paths = build_models(args.workdir, args.layers, VARIANTS)
    if args.only:
        paths = {k: v for k, v in paths.items() if k == "fp32" or k in args.only}
    cfg = replace(QWEN3_0_6B, num_hidden_layers=args.layers)
    n = args.batch * args.tokens
    work = n * cfg.flops_per_token(context=(args.tokens + 1) / 2)
    fp32_peak, int8_peak = peaks(cpu_model_and_flags()[1])
    fp32_rate, int8_rate = ort_matmul_rates()
    print(f"onnxruntime alone now: MatMul {fp32_rate / 1e9:.0f} GFLOP/s ({100 * fp32_rate / fp32_peak:.0f} % of "
          f"peak), MatMulInteger {int8_rate / 1e9:.0f} GOP/s ({100 * int8_rate / int8_peak:.0f} % of peak)")
    feeds = feeds_for(paths["fp32"], args.batch, args.tokens)
    out = args.workdir / "profiles"
    out.mkdir(parents=True, exist_ok=True)
    groups = {m.node: m.group for m in weighted_matmuls(onnx.load(str(paths["fp32"]), load_external_data=False))}
    results = profile(paths, feeds, args.runs, out, groups)
    fp32_rate, int8_rate = ort_matmul_rates()  # again: the load may have moved meanwhile
    print(f"onnxruntime alone after: MatMul {fp32_rate / 1e9:.0f} GFLOP/s, MatMulInteger {int8_rate / 1e9:.0f} GOP/s")
    flops = projection_flops(cfg, n)
    for name, r in results.items():
        report(name, r, results["fp32"]["wall"], work, flops, fp32_peak if name.startswith("fp32") else int8_peak,
               int8_rate, fp32_rate)
    print(f"load average     {os.getloadavg()[0]:.1f} at end")
    return 0


if __name__ == "__main__":
    sys.exit(main())
