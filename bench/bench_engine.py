"""Engine benchmark on the exact Qwen3-Embedding-0.6B architecture (random weights).

    python3 bench/bench_engine.py [--texts 6] [--workdir /tmp/qfinder-bench] [--tiny] [--json out.json]

Builds (once, cached in --workdir, in child processes) an fp32 model of the 0.6B architecture
with the real Qwen3 tokenizer (../shared/models/qwen3-tokenizer) and its 8-bit MatMulNBits
variant, then reports in one run, on a realistic mix of chunk lengths (../shared/data/cisi text):

* tokens/s of qfinder's Embedder vs raw ``session.run`` on the same pre-tokenized batches
  (target engine >= 0.95 x raw), and the cosine between their vectors;
* padding waste of the engine's batching (target <= 10 %), next to naive input-order batches;
* fp32 vs 8-bit tokens/s and the cosine between their vectors;
* peak RSS; achieved FLOP/s as a fraction of this CPU's peak (from its flags and an assumed
  clock, see bench/peaks.py: ~520 GFLOP/s fp32, ~2,081 GOP/s int8 on 2 Zen 5 cores) and of an
  onnxruntime MatMul / MatMulInteger measured in the same run (numpy's sgemm was the baseline
  before; with OPENBLAS_CORETYPE set it runs a slower kernel, 262 vs 495 GFLOP/s, and flattered
  the engine).

Timings are interleaved per batch (engine, raw, 8-bit in turn, twice, in alternating order) and
the fastest run of each batch counts, so load from other processes distorts them little. Cost depends on the architecture only, so random weights give
true speeds; their fp32-vs-8-bit cosine is a proxy (trained weights quantize differently).
--tiny: 2 narrow layers with the real vocabulary instead, a dry run of the script in seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")

import numpy as np  # noqa: E402
import onnxruntime as ort  # noqa: E402
from corpus import TOKENIZER, chunk_texts, present  # noqa: E402  (bench/ is on sys.path)
from peaks import cpu_model_and_flags, ort_matmul_rates, peaks  # noqa: E402
from timing import cpu_summary, rss  # noqa: E402
from tokenizers import Tokenizer  # noqa: E402

from qfinder.core.model.batching import plan_batches  # noqa: E402
from qfinder.core.model.embedder import Embedder  # noqa: E402
from qfinder.core.model.info import EmbedOptions  # noqa: E402
from qfinder.core.model.runtime import session_options  # noqa: E402
from qfinder.devtools.bench_models import build_random_qwen3  # noqa: E402
from qfinder.devtools.qwen3_config import QWEN3_0_6B, Qwen3Config  # noqa: E402

T = TypeVar("T")

REPEATS = 2
MIX_TEXTS = 400  # padding waste of the planner is computed (not run) over this many chunks
# --tiny: the real vocabulary (so the real tokenizer) on 2 narrow layers, to dry-run a script
TINY_REAL_VOCAB = Qwen3Config(vocab_size=QWEN3_0_6B.vocab_size, hidden_size=128, num_hidden_layers=2,
                              num_attention_heads=4, num_key_value_heads=2, head_dim=32, intermediate_size=256)


def architecture(tiny: bool) -> Qwen3Config:
    return TINY_REAL_VOCAB if tiny else QWEN3_0_6B


def ensure_fp32(workdir: Path, tiny: bool = False) -> Path:
    """The random-weight fp32 folder, built once; the 0.6B one in a child process, so that a
    bench's peak RSS is not the builder's."""
    if tiny:
        return build_random_qwen3(workdir / "qwen3-tiny-realvocab-fp32", TOKENIZER, cfg=TINY_REAL_VOCAB)
    fp32 = workdir / "qwen3-0.6b-random-fp32"
    subprocess.run([sys.executable, "-m", "qfinder.devtools.bench_models", "build", str(fp32), str(TOKENIZER)],
                   check=True)
    return fp32


def ensure_models(workdir: Path, tiny: bool = False) -> tuple[Path, Path]:
    """The fp32 folder and its 8-bit MatMulNBits variant (the optimizer's candidate), built once."""
    fp32 = ensure_fp32(workdir, tiny)
    q8 = fp32.with_name(fp32.name.removesuffix("-fp32") + "-q8")
    subprocess.run([sys.executable, "-m", "qfinder.devtools.bench_models", "quantize", str(q8), str(fp32)],
                   check=True)
    return fp32, q8


def model_bench_parser(doc: str, texts: int) -> argparse.ArgumentParser:
    """The options of the benches that time the random-weight models: --texts, --workdir, --tiny, --json."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--texts", type=int, default=texts, help="texts of the chunk mix that are timed")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/qfinder-bench"))
    parser.add_argument("--tiny", action="store_true", help="2 narrow layers: a dry run, its figures meaningless")
    parser.add_argument("--json", type=Path)
    return parser


def missing_material() -> str:
    """What of ../shared these benches need and this machine lacks ('' when all is there)."""
    return "" if TOKENIZER.exists() and present() else f"needs ../shared (tokenizer {TOKENIZER}, the cisi corpus)"


def useful_flops(lengths: list[int], cfg: Qwen3Config = QWEN3_0_6B) -> float:
    """Causal work of the real tokens: projections + attention over the tokens before each."""
    return sum(n * cfg.flops_per_token(context=(n + 1) / 2) for n in lengths)


def timed(fn: Callable[[], T]) -> tuple[T, float, float]:
    """Result, wall seconds and process-CPU seconds (all threads; robust to other load)."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn()
    return result, time.perf_counter() - wall, time.process_time() - cpu


class RawRunner:
    """Plain onnxruntime on pre-tokenized, right-padded batches; numpy last-token pooling.

    ``engine_options``: the engine's session options (no spinning, no arena) instead of
    onnxruntime's defaults, to tell the engine's own overhead from that choice."""

    def __init__(self, folder: Path, rows: list[list[int]], engine_options: bool) -> None:
        self.session = ort.InferenceSession(str(folder / "model.onnx"), providers=["CPUExecutionProvider"],
                                            sess_options=session_options() if engine_options else None)
        self.rows = rows

    def run(self, batch: list[int]) -> tuple[np.ndarray, float, float]:
        """Only session.run is timed: tokenizing and padding were done before."""
        width = max(len(self.rows[i]) for i in batch)
        ids = np.zeros((len(batch), width), np.int64)
        mask = np.zeros_like(ids)
        for r, i in enumerate(batch):
            ids[r, : len(self.rows[i])], mask[r, : len(self.rows[i])] = self.rows[i], 1
        positions = np.broadcast_to(np.arange(width, dtype=np.int64), ids.shape).copy()
        feeds = {"input_ids": ids, "attention_mask": mask, "position_ids": positions}
        hidden, wall, cpu = timed(lambda: self.session.run(["last_hidden_state"], feeds)[0])
        pooled = hidden[np.arange(len(batch)), mask.sum(axis=1) - 1]
        return pooled / np.linalg.norm(pooled, axis=1, keepdims=True), wall, cpu


class EngineRunner:
    """qfinder's Embedder on the texts of one batch: tokenizing, batching, pooling all timed."""

    def __init__(self, folder: Path, texts: list[str], options: EmbedOptions) -> None:
        self.engine = Embedder.from_folder(folder, provider="cpu", options=options)
        self.texts = texts
        self.tokens = self.padded = 0

    def run(self, batch: list[int]) -> tuple[np.ndarray, float, float]:
        embedded, wall, cpu = timed(lambda: self.engine.embed_documents_with_stats([self.texts[i] for i in batch]))
        self.tokens += embedded.stats.tokens
        self.padded += embedded.stats.padded_tokens
        return embedded.vectors, wall, cpu


def naive_waste(lengths: list[int], batch_size: int = 16) -> float:
    padded = sum(len(chunk) * max(chunk) for chunk in
                 (lengths[i:i + batch_size] for i in range(0, len(lengths), batch_size)))
    return 1 - sum(lengths) / padded


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.sum(a * b, axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


def planned_waste(lengths: list[int], options: EmbedOptions) -> float:
    """Padding waste of the engine's own batch planner over ``lengths`` (no model run)."""
    batches = plan_batches(lengths, options.max_padded_tokens, options.max_batch, options.max_padding_waste)
    return 1 - sum(lengths) / sum(len(b) * max(lengths[i] for i in b) for b in batches)


def load_runners(fp32_dir: Path, q8_dir: Path, texts: list[str], options: EmbedOptions,
                 results: dict[str, float]) -> dict[str, EngineRunner | RawRunner]:
    """The fp32 engine first, alone, through the largest batch (its peak RSS), then the others."""
    fp32 = EngineRunner(fp32_dir, texts, options)
    results["rss_after_load_mb"] = rss()["VmRSS"]
    rows = [fp32.engine.tokenizer.encode(text).ids for text in texts]
    batches = plan_batches([len(r) for r in rows], options.max_padded_tokens, options.max_batch,
                           options.max_padding_waste)
    fp32.engine.embed_documents([texts[i] for i in batches[0]])  # warm-up on the largest batch
    results["peak_rss_engine_fp32_mb"] = rss()["VmHWM"]
    runners: dict[str, EngineRunner | RawRunner] = {
        "fp32": fp32, "raw_engine_options": RawRunner(fp32_dir, rows, True), "raw": RawRunner(fp32_dir, rows, False)}
    before_q8 = rss()["VmRSS"]
    runners["q8"] = EngineRunner(q8_dir, texts, options)
    runners["q8"].run(batches[0])
    results["rss_added_by_q8_engine_mb"] = rss()["VmRSS"] - before_q8
    for name in ("raw", "raw_engine_options"):
        runners[name].run(batches[0])  # the same warm-up for the raw sessions
    return runners


def measure(fp32_dir: Path, q8_dir: Path, texts: list[str], mix_lengths: list[int],
            cfg: Qwen3Config) -> dict[str, float]:
    """Each batch runs REPEATS times per runner in alternating order; per batch the fastest run
    counts (interference from other processes only ever adds time)."""
    options = EmbedOptions()
    results: dict[str, float] = {"padding_waste_mix": planned_waste(mix_lengths, options),
                                 "mix_texts": len(mix_lengths), "naive_padding_waste_mix": naive_waste(mix_lengths)}
    runners = load_runners(fp32_dir, q8_dir, texts, options, results)
    fp32 = runners["fp32"]
    assert isinstance(fp32, EngineRunner)
    lengths = [len(fp32.engine.tokenizer.encode(text).ids) for text in texts]
    batches = plan_batches(lengths, options.max_padded_tokens, options.max_batch, options.max_padding_waste)
    vectors = {name: np.zeros((len(texts), cfg.hidden_size), np.float32) for name in runners}
    best = {name: np.full((len(batches), 2), np.inf) for name in runners}
    for repeat in range(REPEATS):
        order = list(runners) if repeat % 2 == 0 else list(reversed(runners))
        for b, batch in enumerate(batches):
            for name in order:
                vectors[name][batch], wall, cpu = runners[name].run(batch)
                best[name][b] = np.minimum(best[name][b], (wall, cpu))
    tokens, flops = sum(lengths), useful_flops(lengths, cfg)
    for name, times in best.items():
        results[f"{name}_tokens_per_s"] = tokens / times[:, 0].sum()
        results[f"{name}_tokens_per_cpu_s"] = tokens / times[:, 1].sum()
    for name in ("raw", "raw_engine_options", "q8"):
        results[f"fp32_vs_{name}"] = results["fp32_tokens_per_s"] / results[f"{name}_tokens_per_s"]
        results[f"fp32_vs_{name}_cpu"] = results["fp32_tokens_per_cpu_s"] / results[f"{name}_tokens_per_cpu_s"]
        results[f"{name}_min_cos"] = float(cosines(vectors["fp32"], vectors[name]).min())
    results.update({
        "texts": len(texts), "tokens": tokens, "mean_tokens": float(np.mean(lengths)), "batches": len(batches),
        "q8_mean_cos": float(cosines(vectors["q8"], vectors["fp32"]).mean()),
        "padding_waste_timed": 1 - fp32.tokens / fp32.padded,
        "fp32_gflops": flops * results["fp32_tokens_per_s"] / tokens / 1e9,
        "q8_gops": flops * results["q8_tokens_per_s"] / tokens / 1e9,
        "peak_rss_all_mb": rss()["VmHWM"], "gflop_per_token_projections": cfg.flops_per_token() / 1e9,
    })
    return results


def report(results: dict[str, float]) -> None:
    r = results

    def speed(name: str) -> str:
        return f"{r[name + '_tokens_per_s']:7.1f} tok/s wall, {r[name + '_tokens_per_cpu_s']:6.1f} tok/CPU-s"

    lines = [
        f"texts {r['texts']:.0f}, real tokens {r['tokens']:.0f} (mean {r['mean_tokens']:.0f}/text); "
        f"{r['gflop_per_token_projections']:.2f} GFLOP/token for the projections",
        f"engine fp32                  {speed('fp32')}",
        f"raw session.run (ORT default){speed('raw')}; engine/raw = {r['fp32_vs_raw']:.3f} wall,"
        f" {r['fp32_vs_raw_cpu']:.3f} CPU (target >= 0.95); min cos {r['raw_min_cos']:.6f}",
        f"raw session.run (engine opts){speed('raw_engine_options')}; engine/raw = "
        f"{r['fp32_vs_raw_engine_options']:.3f} wall, {r['fp32_vs_raw_engine_options_cpu']:.3f} CPU",
        f"engine 8-bit                 {speed('q8')}; 8-bit/fp32 = {1 / r['fp32_vs_q8']:.2f}x wall,"
        f" {1 / r['fp32_vs_q8_cpu']:.2f}x CPU; cos to fp32 min {r['q8_min_cos']:.5f} mean {r['q8_mean_cos']:.5f}",
        f"padding waste    {100 * r['padding_waste_mix']:.1f} % planned for {r['mix_texts']:.0f} chunks of the mix"
        f" (target <= 10 %), {100 * r['padding_waste_timed']:.1f} % measured in the timed runs ({r['batches']:.0f} batches);"
        f" naive input-order batches of 16: {100 * r['naive_padding_waste_mix']:.1f} %",
        f"achieved fp32    {r['fp32_gflops']:.1f} GFLOP/s = {100 * r['fp32_gflops'] / r['peak_fp32_gflops']:.1f} %"
        f" of the {r['peak_fp32_gflops']:.0f} GFLOP/s peak, {100 * r['fp32_gflops'] / r['ort_matmul_gflops']:.1f} %"
        f" of an onnxruntime MatMul ({r['ort_matmul_gflops']:.1f} GFLOP/s measured now)",
        f"achieved 8-bit   {r['q8_gops']:.1f} GOP/s = {100 * r['q8_gops'] / r['peak_int8_gops']:.1f} % of the"
        f" {r['peak_int8_gops']:.0f} GOP/s int8 peak, {100 * r['q8_gops'] / r['ort_matmul_integer_gops']:.1f} % of an"
        f" onnxruntime MatMulInteger ({r['ort_matmul_integer_gops']:.1f} GOP/s measured now)",
        f"RSS              after load {r['rss_after_load_mb']:.0f} MB; peak with fp32 engine alone "
        f"{r['peak_rss_engine_fp32_mb']:.0f} MB; 8-bit engine adds {r['rss_added_by_q8_engine_mb']:.0f} MB;"
        f" peak with engine + 2 raw + 8-bit {r['peak_rss_all_mb']:.0f} MB",
        f"load average     {r['loadavg_start']:.1f} at start, {r['loadavg_end']:.1f} at end ({os.cpu_count()} CPUs)",
    ]
    print("\n".join(lines))


def main() -> int:
    args = model_bench_parser(__doc__, texts=6).parse_args()
    if missing_material():
        print(missing_material())
        return 2
    load_start = os.getloadavg()[0]
    fp32_dir, q8_dir = ensure_models(args.workdir, args.tiny)
    texts = chunk_texts(args.texts)
    mix = Tokenizer.from_file(str(TOKENIZER)).encode_batch(chunk_texts(MIX_TEXTS, seed=1))
    fp32_peak, int8_peak = peaks(cpu_model_and_flags()[1])
    fp32_rate, int8_rate = ort_matmul_rates()
    results = {"ort_matmul_gflops": fp32_rate / 1e9, "ort_matmul_integer_gops": int8_rate / 1e9,
               "peak_fp32_gflops": fp32_peak / 1e9, "peak_int8_gops": int8_peak / 1e9, "loadavg_start": load_start}
    results.update(measure(fp32_dir, q8_dir, texts, [len(encoding.ids) for encoding in mix], architecture(args.tiny)))
    results["loadavg_end"] = os.getloadavg()[0]
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    report(results)
    print(cpu_summary())
    return 0


if __name__ == "__main__":
    sys.exit(main())
