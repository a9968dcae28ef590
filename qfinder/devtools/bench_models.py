"""Benchmark material: a random-weight Qwen3-Embedding-0.6B folder, its 8-bit and fp16 variants,
and a realistic mix of chunk texts.

Cost depends only on the architecture, so random weights measure speed faithfully; cosines
between variants of random weights are a rough proxy only (trained weights behave differently).
Run as ``python -m qfinder.devtools.bench_models build DEST TOKENIZER_JSON`` to build in a child
process, so the benchmark's peak RSS does not include the builder's.
"""

from __future__ import annotations

import json
import logging
import shutil
import sys
from pathlib import Path

import numpy as np

from qfinder.devtools.qwen3_config import QWEN3_0_6B, LazyRandomWeights, Qwen3Config
from qfinder.devtools.qwen3_folder import write_model_folder

SEED = 6
DONE = ".built"


def build_random_qwen3(dest: Path, tokenizer_json: Path, *, cfg: Qwen3Config = QWEN3_0_6B,
                       dtype: str = "float32") -> Path:
    """A plain-layout folder (model.onnx + model.onnx_data) of ``cfg`` with seeded random weights."""
    if (dest / DONE).exists():
        return dest
    shutil.rmtree(dest, ignore_errors=True)
    write_model_folder(dest, cfg, LazyRandomWeights(cfg, SEED), tokenizer_json, shape="plain",
                       dtype=dtype, external_data=True)
    (dest / DONE).write_text(json.dumps({"dtype": dtype, "seed": SEED}))
    return dest


def quantize_8bit(src: Path, dest: Path) -> Path:
    """The optimizer's 8-bit candidate alone: weight-only block-wise MatMulNBits (block 128,
    symmetric, accuracy_level 4). Not gated here: the benches measure its cosine themselves."""
    if (dest / DONE).exists():
        return dest
    from qfinder.core.model.optimize_candidates import build_matmulnbits, copy_side_files

    shutil.rmtree(dest, ignore_errors=True)
    copy_side_files(src, dest)
    build_matmulnbits(src / "model.onnx", dest / "model.onnx")
    (dest / DONE).write_text(json.dumps({"quantization": "MatMulNBits 8-bit, the optimizer's candidate"}))
    return dest


def chunk_mix(tokenizer_json: Path, corpus_texts: list[str], count: int, chunk_tokens: int = 384,
              seed: int = 0) -> list[str]:
    """Texts shaped like an indexer's chunks: 55 % near-full chunks (0.8-1.0 x size, cut at
    boundaries), 25 % file tails (any length), 20 % short files (8-120 tokens)."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(tokenizer_json))
    stream = tokenizer.encode(" ".join(corpus_texts), add_special_tokens=False).ids
    rng = np.random.default_rng(seed)
    kinds = rng.choice(3, size=count, p=[0.55, 0.25, 0.20])
    lows, highs = (int(0.8 * chunk_tokens), 16, 8), (chunk_tokens, chunk_tokens, 120)
    texts = []
    for kind in kinds:
        length = int(rng.integers(lows[kind], highs[kind] + 1)) - 1  # room for the EOS
        start = int(rng.integers(0, len(stream) - length))
        texts.append(tokenizer.decode(stream[start:start + length]).strip() or "empty")
    return texts


def main(argv: list[str]) -> int:
    logging.basicConfig(level=logging.INFO)
    if len(argv) < 3 or argv[0] not in ("build", "build-fp16", "quantize"):
        print("usage: python -m qfinder.devtools.bench_models build|build-fp16 DEST TOKENIZER_JSON"
              " | quantize DEST SRC")
        return 2
    if argv[0] == "quantize":
        quantize_8bit(Path(argv[2]), Path(argv[1]))
    else:
        build_random_qwen3(Path(argv[1]), Path(argv[2]), dtype="float16" if argv[0] == "build-fp16" else "float32")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
