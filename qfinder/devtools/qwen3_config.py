"""Qwen3 sizes, parameter names and deterministic random weights for test and bench models.

Names and layouts are transformers' ``Qwen3Model`` state-dict keys (``Linear`` weights are
``[out_features, in_features]``), so one set of arrays feeds both the ONNX builder and an
independent transformers reference.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Qwen3Config:
    vocab_size: int
    hidden_size: int
    num_hidden_layers: int
    num_attention_heads: int
    num_key_value_heads: int
    head_dim: int
    intermediate_size: int
    rms_norm_eps: float = 1e-6
    rope_theta: float = 1_000_000.0
    max_position_embeddings: int = 32768

    def flops_per_token(self, context: float = 0.0) -> float:
        """Multiply-adds x 2 of the projections (+ attention over ``context`` keys) per token."""
        q_out = self.num_attention_heads * self.head_dim
        kv_out = self.num_key_value_heads * self.head_dim
        per_layer = self.hidden_size * (2 * q_out + 2 * kv_out) + 3 * self.hidden_size * self.intermediate_size
        attention = 2 * q_out * context
        return 2.0 * self.num_hidden_layers * (per_layer + attention)


#: The small test model: real Qwen3 structure (GQA 4:2, q/k norms, RoPE 1e6), tiny sizes.
TINY = Qwen3Config(vocab_size=1024, hidden_size=128, num_hidden_layers=2, num_attention_heads=4,
                   num_key_value_heads=2, head_dim=32, intermediate_size=256)

#: Qwen3-Embedding-0.6B's exact architecture.
QWEN3_0_6B = Qwen3Config(vocab_size=151669, hidden_size=1024, num_hidden_layers=28,
                         num_attention_heads=16, num_key_value_heads=8, head_dim=128,
                         intermediate_size=3072)


def weight_shapes(cfg: Qwen3Config) -> dict[str, tuple[int, ...]]:
    """Every parameter of Qwen3Model, in transformers' names and layouts."""
    q_out = cfg.num_attention_heads * cfg.head_dim
    kv_out = cfg.num_key_value_heads * cfg.head_dim
    shapes: dict[str, tuple[int, ...]] = {"embed_tokens.weight": (cfg.vocab_size, cfg.hidden_size)}
    for i in range(cfg.num_hidden_layers):
        layer = f"layers.{i}."
        shapes.update({
            layer + "input_layernorm.weight": (cfg.hidden_size,),
            layer + "self_attn.q_proj.weight": (q_out, cfg.hidden_size),
            layer + "self_attn.k_proj.weight": (kv_out, cfg.hidden_size),
            layer + "self_attn.v_proj.weight": (kv_out, cfg.hidden_size),
            layer + "self_attn.o_proj.weight": (cfg.hidden_size, q_out),
            layer + "self_attn.q_norm.weight": (cfg.head_dim,),
            layer + "self_attn.k_norm.weight": (cfg.head_dim,),
            layer + "post_attention_layernorm.weight": (cfg.hidden_size,),
            layer + "mlp.gate_proj.weight": (cfg.intermediate_size, cfg.hidden_size),
            layer + "mlp.up_proj.weight": (cfg.intermediate_size, cfg.hidden_size),
            layer + "mlp.down_proj.weight": (cfg.hidden_size, cfg.intermediate_size),
        })
    shapes["norm.weight"] = (cfg.hidden_size,)
    return shapes


def layer_weight_names(cfg: Qwen3Config) -> list[str]:
    return list(weight_shapes(cfg))


def random_weight(name: str, shape: tuple[int, ...], seed: int) -> np.ndarray:
    """One parameter, deterministic per (name, seed).

    Scales keep activations lively so different texts give clearly different vectors:
    embeddings ~ N(0, 1), Linear weights ~ N(0, 1/in_features), norm weights ~ 1 + N(0, 0.1).
    """
    rng = np.random.default_rng([seed, zlib.crc32(name.encode())])
    if name.endswith("norm.weight"):
        return (1.0 + 0.1 * rng.standard_normal(shape, dtype=np.float32)).astype(np.float32)
    if name == "embed_tokens.weight":
        return rng.standard_normal(shape, dtype=np.float32)
    scale = np.float32(1.0 / np.sqrt(shape[1]))
    return rng.standard_normal(shape, dtype=np.float32) * scale


def random_weights(cfg: Qwen3Config, seed: int) -> dict[str, np.ndarray]:
    """All parameters at once (small models)."""
    return {name: random_weight(name, shape, seed) for name, shape in weight_shapes(cfg).items()}


class LazyRandomWeights(Mapping[str, np.ndarray]):
    """Parameters made on demand, so building a 0.6B model never holds them all in memory."""

    def __init__(self, cfg: Qwen3Config, seed: int) -> None:
        self._shapes = weight_shapes(cfg)
        self._seed = seed

    def __getitem__(self, name: str) -> np.ndarray:
        return random_weight(name, self._shapes[name], self._seed)

    def __contains__(self, name: object) -> bool:
        return name in self._shapes

    def __iter__(self) -> Iterator[str]:
        return iter(self._shapes)

    def __len__(self) -> int:
        return len(self._shapes)
