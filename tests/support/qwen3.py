"""Tiny Qwen3-Embedding model folders for tests, built from committed fixtures.

``build_tiny_qwen3(dest, shape)`` writes a complete model folder of the real Qwen3 architecture
(hidden 128, 2 layers, 4 query / 2 key-value heads, head_dim 32, q/k norms, RoPE theta 1e6) with
deterministic random weights (tests/fixtures/qwen3/weights.npz) and a small byte-level BPE
tokenizer whose post-processor appends ``<|endoftext|>``. Semantics are random; outputs are
checked against transformers' Qwen3Model in tests/fixtures/qwen3/reference.npz (see
tests/fixtures/make_qwen3_reference.py). Shapes: "plain" (model.onnx at the top, inputs
input_ids/attention_mask/position_ids), "kv" (onnx-community: onnx/model.onnx with
past_key_values.* inputs and present.* outputs), "st" (onnx/model.onnx + onnx/model.onnx_data).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from qfinder.devtools.qwen3_config import TINY
from qfinder.devtools.qwen3_folder import SHAPES, onnx_path, write_model_folder

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "qwen3"
TINY_CONFIG = TINY

__all__ = ["FIXTURES", "SHAPES", "TINY_CONFIG", "Reference", "build_tiny_qwen3", "load_reference",
           "onnx_path", "tiny_weights"]


@lru_cache(maxsize=1)
def tiny_weights() -> dict[str, np.ndarray]:
    """The committed float16 weights as float32 arrays, transformers names and layouts."""
    with np.load(FIXTURES / "weights.npz") as stored:
        return {name: stored[name].astype(np.float32) for name in stored.files}


def build_tiny_qwen3(dest: Path, shape: str = "plain") -> Path:
    """Write a tiny Qwen3-Embedding folder at ``dest`` (created if needed); returns ``dest``."""
    return write_model_folder(Path(dest), TINY, tiny_weights(), FIXTURES / "tokenizer.json", shape=shape)


@dataclass(frozen=True)
class Reference:
    """Pooled, L2-normalised vectors of transformers' Qwen3Model for one list of texts."""

    texts: list[str]
    token_ids: list[list[int]]
    single: np.ndarray  # [n, 128] each text alone
    batch_right: np.ndarray  # all texts in one right-padded batch
    batch_left: np.ndarray  # all texts in one left-padded batch


def _reference_set(stored: np.lib.npyio.NpzFile, prefix: str, texts: list[str]) -> Reference:
    flat, offsets = stored[f"{prefix}_ids"], stored[f"{prefix}_offsets"]
    ids = [flat[offsets[i]:offsets[i + 1]].tolist() for i in range(len(offsets) - 1)]
    return Reference(texts, ids, stored[f"{prefix}_single"], stored[f"{prefix}_batch_right"],
                     stored[f"{prefix}_batch_left"])


@lru_cache(maxsize=1)
def load_reference() -> tuple[Reference, Reference, str]:
    """(documents, queries, query prompt). Query references are of prompt + stripped text;
    ``queries.texts`` holds the raw query texts as passed to ``embed_queries``."""
    with np.load(FIXTURES / "reference.npz") as stored:
        documents = _reference_set(stored, "doc", [str(t) for t in stored["documents"]])
        queries = _reference_set(stored, "query", [str(t) for t in stored["queries"]])
        return documents, queries, str(stored["query_prompt"])
