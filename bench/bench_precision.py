"""`models optimize` on the exact Qwen3-Embedding-0.6B architecture: which precision wins here, and how fast.

    python3 bench/bench_precision.py [--texts 24] [--workdir /tmp/qfinder-bench] [--ghz GHZ] [--tiny] [--json out.json]

1. Runs the real optimizer (qfinder.core.model.optimize) on a random-weight fp32 model of the 0.6B
   architecture: every candidate built, gated on the packaged sample, the safe ones timed; prints its
   table and verdict, and how long optimizing took.
2. Times fp32 and the candidates, each built as the optimizer builds it, from the graph with its
   RMSNorms fused (fp32-fused itself, MatMulNBits, dynamic int8 with the groups the optimizer
   kept in fp32, and dynamic int8 after SmoothQuant-style scaling with its kept groups), through
   the engine on a realistic chunk mix cut from the cisi text, interleaved per batch, fastest of two runs per batch: tokens/s, ratio to fp32, cosine to fp32, and the useful
   int8 work as a share of this CPU's int8 peak and of onnxruntime's MatMulInteger measured now.

Random weights give true speeds but cannot prove a precision safe: they have none of the
activation outliers that break int8 on trained weights (the issue's published figures: plain
dynamic int8 of Qwen3-class 0.6B models drops to cosine 0.64-0.85). Only the optimizer's gate
on the user's real model decides that. --tiny: 2 narrow layers instead, a dry run of the script.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from dataclasses import asdict
from pathlib import Path

os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")

import numpy as np  # noqa: E402
from bench_engine import (  # noqa: E402
    architecture,
    cosines,
    ensure_fp32,
    missing_material,
    model_bench_parser,
    useful_flops,
)
from corpus import chunk_texts  # noqa: E402
from peaks import assumed_ghz, cpu_model_and_flags, ort_matmul_rates, peaks  # noqa: E402

from qfinder.cli.models import optimize_table  # noqa: E402
from qfinder.core.model.batching import plan_batches  # noqa: E402
from qfinder.core.model.embedder import Embedder  # noqa: E402
from qfinder.core.model.folder import find_model_folder  # noqa: E402
from qfinder.core.model.info import EmbedOptions  # noqa: E402
from qfinder.core.model.optimize import optimize_model  # noqa: E402
from qfinder.core.model.optimize_candidates import (  # noqa: E402
    build_dynamic_int8,
    build_matmulnbits,
    copy_side_files,
    weighted_matmuls,
)
from qfinder.core.model.optimize_fuse import fused_copy  # noqa: E402
from qfinder.core.model.optimize_gate import load_sample  # noqa: E402
from qfinder.core.model.optimize_smooth import smoothed_graph  # noqa: E402
from qfinder.devtools.qwen3_config import Qwen3Config  # noqa: E402

REPEATS = 2
SHOWN_FLAGS = ("avx2", "fma", "avx512f", "avx512bw", "avx512_vnni", "avx_vnni", "avx512_bf16", "amx_int8", "amx_bf16")


def run_optimizer(fp32_dir: Path, workdir: Path) -> dict:
    dest = workdir / (fp32_dir.name.removesuffix("-fp32") + "-optimized")
    for stale in (dest, dest.with_name(dest.name + ".partial")):
        shutil.rmtree(stale, ignore_errors=True)  # a fresh run every time: the choice is what is measured
    started = time.perf_counter()
    report = optimize_model(fp32_dir, dest)
    seconds = time.perf_counter() - started
    print("\n".join(optimize_table(report)))
    print(f"verdict: {report.verdict}\noptimize took {seconds:.0f} s")
    return {**asdict(report), "optimize_seconds": seconds}


def fused_dir(fp32_dir: Path) -> Path:
    """fp32 with its RMSNorms and rotary embeddings fused (weights copied): what the optimizer
    builds every candidate from when this passes its gate; the fp32 folder if nothing was fused."""
    dest = fp32_dir.with_name(fp32_dir.name.removesuffix("-fp32") + "-fp32-fused")
    if not (dest / "model.onnx").exists():
        copy_side_files(fp32_dir, dest)
        if not fused_copy(find_model_folder(fp32_dir).onnx_path, dest / "model.onnx"):
            return fp32_dir
    return dest


def nbits_dir(base: Path) -> Path:
    dest = base.with_name(base.name + "-q8")
    if not (dest / "model.onnx").exists():
        copy_side_files(base, dest)
        build_matmulnbits(base / "model.onnx", dest / "model.onnx")
    return dest


def dynamic_int8_dir(base: Path, kept_fp32: list[str]) -> Path:
    """Dynamic int8 as the optimizer decided it, rebuilt (the optimizer deletes what it does not use)."""
    import onnx

    dest = base.with_name(base.name + "-dyn8-fp32-" + ("-".join(kept_fp32) or "none"))
    if (dest / "model.onnx").exists():
        return dest
    copy_side_files(base, dest)
    source = base / "model.onnx"
    matmuls = weighted_matmuls(onnx.load(str(source), load_external_data=False))
    build_dynamic_int8(source, dest / "model.onnx", matmuls, frozenset(m.group for m in matmuls) - set(kept_fp32))
    return dest


def smooth_int8_dir(base: Path, kept_fp32: list[str]) -> Path:
    """Dynamic int8 of the SmoothQuant-scaled graph, as the optimizer built it (rebuilt: it keeps
    only the folder it chose)."""
    dest = base.with_name(base.name + "-smooth8-fp32-" + ("-".join(kept_fp32) or "none"))
    if (dest / "model.onnx").exists():
        return dest
    copy_side_files(base, dest)
    scratch = dest.with_name(dest.name + ".smoothed")  # its own: another run may share the workdir
    with smoothed_graph(find_model_folder(base), scratch, load_sample()) as smoothed:
        smoothed.int8(dest, kept_fp32)
    return dest


def time_mix(folders: dict[str, Path], texts: list[str], cfg: Qwen3Config) -> dict[str, dict[str, float]]:
    options = EmbedOptions()
    engines = {name: Embedder.from_folder(folder, provider="cpu", options=options) for name, folder in folders.items()}
    lengths = [len(engines["fp32"].tokenizer.encode(text).ids) for text in texts]
    batches = plan_batches(lengths, options.max_padded_tokens, options.max_batch, options.max_padding_waste)
    vectors = {name: np.zeros((len(texts), cfg.hidden_size), np.float32) for name in engines}
    best = {name: np.full(len(batches), np.inf) for name in engines}
    for engine in engines.values():
        engine.embed_documents([texts[i] for i in batches[0]])  # warm-up on the largest batch
    for repeat in range(REPEATS):
        order = list(engines) if repeat % 2 == 0 else list(reversed(engines))
        for b, batch in enumerate(batches):
            for name in order:
                started = time.perf_counter()
                vectors[name][batch] = engines[name].embed_documents([texts[i] for i in batch])
                best[name][b] = min(best[name][b], time.perf_counter() - started)
    tokens, work = sum(lengths), useful_flops(lengths, cfg)
    results = {}
    for name in engines:
        seconds = float(best[name].sum())
        cos = cosines(vectors["fp32"], vectors[name])
        results[name] = {"tokens_per_s": tokens / seconds, "ops_per_s": work / seconds,
                         "min_cos": float(cos.min()), "mean_cos": float(cos.mean())}
    for name in engines:
        results[name]["ratio"] = results[name]["tokens_per_s"] / results["fp32"]["tokens_per_s"]
    results["_mix"] = {"texts": len(texts), "tokens": tokens, "batches": len(batches)}
    return results


def main() -> int:
    parser = model_bench_parser(__doc__, texts=24)
    parser.add_argument("--ghz", type=float, default=None, help="clock assumed for the peaks (default: bench/peaks.py)")
    args = parser.parse_args()
    if missing_material():
        print(missing_material())
        return 2
    load_start = os.getloadavg()[0]
    model, flags = cpu_model_and_flags()
    ghz = args.ghz or assumed_ghz()
    fp32_peak, int8_peak = peaks(flags, ghz)
    print(f"cpu: {model}, {os.cpu_count()} CPUs, flags: {' '.join(f for f in SHOWN_FLAGS if f in flags)}")
    print(f"peaks at an assumed {ghz} GHz: fp32 {fp32_peak / 1e9:,.0f} GFLOP/s, int8 {int8_peak / 1e9:,.0f} GOP/s")
    fp32_dir = ensure_fp32(args.workdir, args.tiny)
    optimized = run_optimizer(fp32_dir, args.workdir)
    candidates = {c["name"]: c for c in optimized["candidates"]}
    kept = {name: list(candidates[name]["kept_fp32"]) for name in ("int8-dynamic", "int8-smooth")}
    base = fused_dir(fp32_dir)
    folders = {"fp32": fp32_dir, "fp32-fused": base, "int8-matmulnbits": nbits_dir(base),
               "int8-dynamic": dynamic_int8_dir(base, kept["int8-dynamic"])}
    if candidates["int8-smooth"]["min_cosine"] is not None:  # built (it may have failed the gate)
        folders["int8-smooth"] = smooth_int8_dir(base, kept["int8-smooth"])
    mix = time_mix(folders, chunk_texts(args.texts), architecture(args.tiny))
    fp32_rate, int8_rate = ort_matmul_rates()
    report_mix(mix, fp32_peak, int8_peak, fp32_rate, int8_rate, kept)
    print(f"load average {load_start:.1f} at start, {os.getloadavg()[0]:.1f} at end")
    if args.json:
        args.json.write_text(json.dumps({"optimizer": optimized, "mix": mix, "peaks": [fp32_peak, int8_peak],
                                         "ort_matmul": [fp32_rate, int8_rate]}, indent=2))
    return 0


def report_mix(mix: dict, fp32_peak: float, int8_peak: float, fp32_rate: float, int8_rate: float,
               kept: dict[str, list[str]]) -> None:
    shape = mix.pop("_mix")
    print(f"\nchunk mix: {shape['texts']} texts, {shape['tokens']} real tokens, {shape['batches']} batches;"
          f" onnxruntime now: MatMul {fp32_rate / 1e9:,.0f} GFLOP/s, MatMulInteger {int8_rate / 1e9:,.0f} GOP/s")
    print(f"{'variant':<17} {'tok/s':>7} {'× fp32':>6} {'min cos':>8} {'mean cos':>8} {'G(FL)OP/s':>9}"
          f" {'% peak':>6} {'% ORT op':>8}")
    for name, r in mix.items():
        peak, rate = (fp32_peak, fp32_rate) if name.startswith("fp32") else (int8_peak, int8_rate)
        label = f"{name} (fp32: {','.join(kept[name])})" if kept.get(name) else name
        print(f"{label:<17} {r['tokens_per_s']:>7.1f} {r['ratio']:>6.2f} {r['min_cos']:>8.5f} {r['mean_cos']:>8.5f}"
              f" {r['ops_per_s'] / 1e9:>9.1f} {100 * r['ops_per_s'] / peak:>5.1f}% {100 * r['ops_per_s'] / rate:>7.1f}%")


if __name__ == "__main__":
    sys.exit(main())
