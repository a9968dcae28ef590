"""GPU check: qfinder's engine on the CUDA provider, fp32 and fp16, against CPU fp32.

    python3 bench/gpu_check.py [--texts 256] [--cpu-texts 48] [--workdir /tmp/qfinder-bench]
    python3 bench/gpu_check.py --tiny --allow-cpu     # dry run of the script itself, no GPU

Needs an onnxruntime build with CUDAExecutionProvider (``pip install onnxruntime-gpu``) and
../shared (real Qwen3 tokenizer, cisi text). Builds (once, cached) random-weight models of the
exact Qwen3-Embedding-0.6B architecture in fp32 and fp16 (fp16 weights and activations, RMSNorm
and softmax in fp32 as transformers does, fp16 ``last_hidden_state`` like onnx-community's
``model_fp16.onnx``). Reports per variant: the provider actually used (a silent CPU fallback is
an error here), tokens/s over a realistic chunk mix, whether every vector is finite, and the
cosine to the CPU fp32 vectors of the same texts. ``--tiny`` uses a small hidden size (fast
dry run); ``--allow-cpu`` runs the "GPU" passes on the CPU when CUDA is absent.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")

import numpy as np  # noqa: E402
import onnxruntime as ort  # noqa: E402
from bench_engine import TINY_REAL_VOCAB, ensure_fp32  # noqa: E402  (bench/ is on sys.path)
from corpus import TOKENIZER, chunk_texts  # noqa: E402

from qfinder.core.model.embedder import Embedder  # noqa: E402
from qfinder.core.model.info import EmbedOptions  # noqa: E402
from qfinder.devtools.bench_models import build_random_qwen3  # noqa: E402


def build_models(workdir: Path, tiny: bool) -> dict[str, Path]:
    """fp32 and fp16 folders; the full-size ones are built in a child process (memory)."""
    fp32 = ensure_fp32(workdir, tiny)
    fp16 = fp32.with_name(fp32.name.removesuffix("-fp32") + "-fp16")
    if tiny:
        build_random_qwen3(fp16, TOKENIZER, cfg=TINY_REAL_VOCAB, dtype="float16")
    else:
        subprocess.run([sys.executable, "-m", "qfinder.devtools.bench_models", "build-fp16", str(fp16),
                        str(TOKENIZER)], check=True)
    return {"fp32": fp32, "fp16": fp16}


def timed_embed(engine: Embedder, texts: list[str]) -> tuple[np.ndarray, float]:
    """Vectors and tokens/s, after a warm-up run (CUDA allocates and tunes on first use)."""
    engine.embed_documents(texts[:8])
    start = time.perf_counter()
    embedded = engine.embed_documents_with_stats(texts)
    return embedded.vectors, embedded.stats.tokens / (time.perf_counter() - start)


def check_variant(folder: Path, provider: str, options: EmbedOptions, texts: list[str],
                  reference: np.ndarray) -> dict[str, object]:
    engine = Embedder.from_folder(folder, provider=provider, options=options)
    try:
        report = engine.provider
        vectors, speed = timed_embed(engine, texts)
    finally:
        engine.close()
    subset = vectors[: len(reference)]
    cos = np.sum(subset * reference, axis=1) / (
        np.linalg.norm(subset, axis=1) * np.linalg.norm(reference, axis=1))
    return {"provider_used": report.used, "fallback_reason": report.fallback_reason,
            "tokens_per_s": speed, "all_finite": bool(np.isfinite(vectors).all()),
            "min_cos_vs_cpu_fp32": float(cos.min()), "mean_cos_vs_cpu_fp32": float(cos.mean())}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=256)
    parser.add_argument("--cpu-texts", type=int, default=48, help="texts embedded on CPU for the cosines")
    parser.add_argument("--budget", type=int, default=32768, help="max padded tokens per GPU batch")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/qfinder-bench"))
    parser.add_argument("--tiny", action="store_true")
    parser.add_argument("--allow-cpu", action="store_true")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    has_cuda = "CUDAExecutionProvider" in ort.get_available_providers()
    if not has_cuda and not args.allow_cpu:
        print(f"no CUDAExecutionProvider in this onnxruntime ({ort.get_available_providers()}):"
              " install onnxruntime-gpu on a CUDA machine. GPU check NOT run.")
        return 2
    provider = "cuda" if has_cuda else "cpu"
    folders = build_models(args.workdir, args.tiny)
    texts = chunk_texts(args.texts)
    cpu = Embedder.from_folder(folders["fp32"], provider="cpu")
    reference, cpu_speed = timed_embed(cpu, texts[: args.cpu_texts])
    cpu.close()
    results: dict[str, object] = {"device_provider": provider, "cpu_fp32_tokens_per_s": cpu_speed,
                                  "texts": len(texts), "ort": ort.__version__}
    options = EmbedOptions(max_padded_tokens=args.budget, max_batch=256)
    variants = {dtype: check_variant(folder, provider, options, texts, reference)
                for dtype, folder in folders.items()}
    results.update(variants)
    print(json.dumps(results, indent=2))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    failed = [d for d, v in variants.items() if v["provider_used"] != provider or not v["all_finite"]]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
