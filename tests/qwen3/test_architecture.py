"""The benchmark's 0.6B configuration is Qwen3-Embedding-0.6B's exact architecture."""

from __future__ import annotations

import numpy as np

from qfinder.devtools.qwen3_config import QWEN3_0_6B, TINY, weight_shapes


def _count(shapes: dict[str, tuple[int, ...]]) -> int:
    return sum(int(np.prod(shape)) for shape in shapes.values())


def test_parameter_count_is_qwen3_embedding_0_6b() -> None:
    shapes = weight_shapes(QWEN3_0_6B)
    # 595,776,512 parameters: the published checkpoint (1.19 GB of bfloat16 safetensors).
    assert _count(shapes) == 595_776_512
    non_embedding = _count(shapes) - int(np.prod(shapes["embed_tokens.weight"]))
    assert round(non_embedding / 1e9, 2) == 0.44  # the model card's "non-embedding 0.44B"
    # 2 FLOPs per weight of the projections: the design's ~0.9 GFLOP per token.
    assert abs(QWEN3_0_6B.flops_per_token() - 2 * non_embedding) / non_embedding < 1e-3


def test_tiny_keeps_qwen3_structure() -> None:
    assert TINY.num_attention_heads // TINY.num_key_value_heads == 2  # grouped-query attention
    assert (TINY.rope_theta, TINY.rms_norm_eps) == (QWEN3_0_6B.rope_theta, QWEN3_0_6B.rms_norm_eps)
