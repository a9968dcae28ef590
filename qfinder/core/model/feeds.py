"""Read what a graph wants and build its inputs; read back the one output qfinder uses.

Exports differ (design.md §3): some take only input_ids/attention_mask, some token_type_ids or
position_ids, onnx-community ones also empty past_key_values.* tensors. Nothing is hard-coded:
the session's declared inputs decide, and an input we cannot fill is a clear ModelError.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from qfinder.core.errors import EmbeddingError, ModelError

POOLED_OUTPUTS = ("sentence_embedding", "sentence_embeddings", "pooler_output_normalized")
TOKEN_OUTPUTS = ("last_hidden_state", "token_embeddings", "hidden_states")
_DTYPES = {"tensor(float)": np.float32, "tensor(float16)": np.float16, "tensor(double)": np.float64,
           "tensor(int64)": np.int64, "tensor(int32)": np.int32, "tensor(bfloat16)": np.float32}
_PAST = re.compile(r"^past_key_values\.(\d+)\.(key|value)$|^past\.")


@dataclass(frozen=True)
class PastInput:
    name: str
    dtype: Any
    kv_heads: int
    head_dim: int


@dataclass(frozen=True)
class GraphSpec:
    """The inputs a graph needs and the output qfinder reads from it."""

    input_dtypes: dict[str, Any]  # input_ids / attention_mask / token_type_ids / position_ids
    past: tuple[PastInput, ...]
    output: str
    pooled: bool  # the graph already pools (sentence_embedding): no pooling on our side
    output_dim: int | None  # last dimension when the graph declares it


def read_graph(session: Any, config: dict[str, Any]) -> GraphSpec:
    known: dict[str, Any] = {}
    past: list[PastInput] = []
    for arg in session.get_inputs():
        dtype = _DTYPES.get(arg.type)
        if arg.name in ("input_ids", "attention_mask", "token_type_ids", "position_ids") and dtype:
            known[arg.name] = dtype
        elif _PAST.match(arg.name) and dtype:
            past.append(_past_input(arg, dtype, config))
        else:
            raise ModelError(f"Unsupported graph: input '{arg.name}' ({arg.type}) is not one qfinder can fill.",
                             "Use an embedding export with input_ids/attention_mask inputs "
                             "(sentence-transformers or onnx-community).")
    if "input_ids" not in known:
        raise ModelError("Unsupported graph: it has no input_ids input.",
                         "Use an ONNX export of a text embedding model.")
    output, pooled, dim = _choose_output(session)
    return GraphSpec(input_dtypes=known, past=tuple(past), output=output, pooled=pooled, output_dim=dim)


def _past_input(arg: Any, dtype: Any, config: dict[str, Any]) -> PastInput:
    shape = list(arg.shape)
    kv_heads = shape[1] if len(shape) == 4 and isinstance(shape[1], int) else config.get("num_key_value_heads")
    head_dim = shape[3] if len(shape) == 4 and isinstance(shape[3], int) else config.get("head_dim")
    if not kv_heads or not head_dim:
        raise ModelError(f"Cannot tell the shape of '{arg.name}' {shape}.",
                         "Put the model's config.json (num_key_value_heads, head_dim) next to the ONNX file.")
    return PastInput(name=arg.name, dtype=dtype, kv_heads=int(kv_heads), head_dim=int(head_dim))


def _choose_output(session: Any) -> tuple[str, bool, int | None]:
    outputs = {o.name: o for o in session.get_outputs()}
    for names, pooled, rank in ((POOLED_OUTPUTS, True, 2), (TOKEN_OUTPUTS, False, 3)):
        for name in names:
            if name in outputs and outputs[name].type in _DTYPES:
                shape = outputs[name].shape
                if shape and len(shape) != rank:
                    continue
                last = shape[-1] if shape and isinstance(shape[-1], int) else None
                return name, pooled, last
    raise ModelError(f"Unsupported graph: no usable output (it has: {', '.join(outputs) or 'none'}).",
                     "qfinder needs 'last_hidden_state' [batch, tokens, dim] or 'sentence_embedding' "
                     "[batch, dim]; export the model with sentence-transformers or optimum.")


def pad_batch(rows: list[list[int]], pad_id: int, left: bool) -> tuple[np.ndarray, np.ndarray]:
    """Ids and attention mask [B, L] of int64, padded on the right (or left for graphs that pool)."""
    length = max(len(r) for r in rows)
    ids = np.full((len(rows), length), pad_id, dtype=np.int64)
    mask = np.zeros((len(rows), length), dtype=np.int64)
    for i, row in enumerate(rows):
        span = slice(length - len(row), length) if left else slice(0, len(row))
        ids[i, span] = row
        mask[i, span] = 1
    return ids, mask


def build_feeds(spec: GraphSpec, ids: np.ndarray, mask: np.ndarray) -> dict[str, np.ndarray]:
    feeds = {"input_ids": ids.astype(spec.input_dtypes["input_ids"], copy=False)}
    if "attention_mask" in spec.input_dtypes:
        feeds["attention_mask"] = mask.astype(spec.input_dtypes["attention_mask"], copy=False)
    if "token_type_ids" in spec.input_dtypes:
        feeds["token_type_ids"] = np.zeros_like(ids, dtype=spec.input_dtypes["token_type_ids"])
    if "position_ids" in spec.input_dtypes:
        # arange per row for right padding; counting real tokens also covers left padding.
        positions = np.clip(np.cumsum(mask, axis=1) - 1, 0, None)
        feeds["position_ids"] = positions.astype(spec.input_dtypes["position_ids"], copy=False)
    for past in spec.past:
        feeds[past.name] = np.zeros((ids.shape[0], past.kv_heads, 0, past.head_dim), dtype=past.dtype)
    return feeds


def as_float32(output: Any) -> np.ndarray:
    """The graph's output as float32 (fp16 graphs return float16)."""
    array = np.asarray(output)
    return array if array.dtype == np.float32 else array.astype(np.float32)


def require_finite(vectors: np.ndarray, what: str) -> np.ndarray:
    """Refuse NaN/inf vectors (fp16 models overflow on some inputs); checked after pooling because
    padded positions are allowed to hold anything."""
    if not np.isfinite(vectors).all():
        bad = int((~np.isfinite(vectors).all(axis=1)).sum())
        raise EmbeddingError(f"The model produced non-finite values (NaN/inf) for {bad} of {what}.",
                             "fp16 models overflow on CPU: use the fp32 or 8-bit variant, or another provider.")
    return vectors
