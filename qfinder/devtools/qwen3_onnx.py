"""Build a Qwen3 transformer as an ONNX graph from numpy weights (no torch).

The graph follows Hugging Face's ``Qwen3Model`` op for op: token embedding; per layer
RMSNorm -> q/k/v projections (no bias) -> per-head q_norm/k_norm RMSNorm -> RoPE
(rotate_half convention) -> grouped-query causal attention honouring the padding mask ->
o_proj -> residual -> RMSNorm -> SwiGLU MLP -> residual; final RMSNorm; output
``last_hidden_state``.  Two input shapes exist, as among published exports:

* plain: ``input_ids, attention_mask, position_ids``;
* kv (onnx-community / transformers.js): plus ``past_key_values.{i}.key|value``
  ``[B, kv_heads, past, head_dim]`` concatenated before attention, with ``present.{i}.*``
  outputs.  ``attention_mask`` then covers past + current tokens, as in transformers.

Weights use transformers' parameter names and layouts (``Linear`` weights are ``[out, in]``),
so the same arrays load into ``Qwen3Model`` for an independent reference.  Large models write
their weights to ``<model>.onnx_data`` while building, so no proto ever holds them all.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from qfinder.devtools.qwen3_config import Qwen3Config, layer_weight_names

OPSET = 17
_DTYPES = {"float32": (TensorProto.FLOAT, np.float32), "float16": (TensorProto.FLOAT16, np.float16)}
_EXTERNAL_MIN_BYTES = 1024


class _Graph:
    """Collects nodes and initializers; big weights go straight to an external data file."""

    def __init__(self, data_file: Path | None) -> None:
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[TensorProto] = []
        self._count = 0
        self._data_file = data_file
        self._data = data_file.open("wb") if data_file is not None else None

    def op(self, op_type: str, inputs: list[str], outputs: int | list[str] = 1, **attrs: Any) -> str:
        """Add a node; returns its (first) output name."""
        self._count += 1
        names = outputs if isinstance(outputs, list) else [
            f"{op_type.lower()}_{self._count}_{i}" for i in range(outputs)]
        self.nodes.append(helper.make_node(op_type, inputs, names, name=f"{op_type}_{self._count}", **attrs))
        return names[0]

    def const(self, values: object, dtype: type = np.int64) -> str:
        """A small constant initializer (shapes, axes, scalars)."""
        self._count += 1
        name = f"const_{self._count}"
        self.initializers.append(numpy_helper.from_array(np.asarray(values, dtype=dtype), name))
        return name

    def weight(self, name: str, array: np.ndarray) -> str:
        array = np.ascontiguousarray(array)
        if self._data is None or array.nbytes < _EXTERNAL_MIN_BYTES:
            self.initializers.append(numpy_helper.from_array(array, name))
            return name
        assert self._data_file is not None
        offset = self._data.tell()
        self._data.write(array.tobytes())
        tensor = TensorProto(name=name, data_type=helper.np_dtype_to_tensor_dtype(array.dtype))
        tensor.dims.extend(array.shape)
        tensor.data_location = TensorProto.EXTERNAL
        for key, value in (("location", self._data_file.name), ("offset", str(offset)),
                           ("length", str(array.nbytes))):
            tensor.external_data.add(key=key, value=value)
        self.initializers.append(tensor)
        return name

    def close(self) -> None:
        if self._data is not None:
            self._data.close()


class _Qwen3Builder:
    def __init__(self, cfg: Qwen3Config, weights: Mapping[str, np.ndarray], graph: _Graph,
                 dtype: str) -> None:
        self.cfg, self.weights, self.g = cfg, weights, graph
        self.elem, self.np_dtype = _DTYPES[dtype]

    def param(self, name: str, transpose: bool = False) -> str:
        """A weight by its transformers name; Linear weights are transposed for MatMul."""
        array = np.asarray(self.weights[name], dtype=np.float32)
        array = array.T if transpose else array
        return self.g.weight(name, array.astype(self.np_dtype))

    def rms_norm(self, x: str, weight_name: str) -> str:
        """Qwen3RMSNorm: computed in float32 (like transformers), scaled in the model dtype."""
        g = self.g
        xf = g.op("Cast", [x], to=TensorProto.FLOAT) if self.elem != TensorProto.FLOAT else x
        variance = g.op("ReduceMean", [g.op("Mul", [xf, xf])], axes=[-1], keepdims=1)
        eps = g.const(self.cfg.rms_norm_eps, np.float32)
        normed = g.op("Div", [xf, g.op("Sqrt", [g.op("Add", [variance, eps])])])
        if self.elem != TensorProto.FLOAT:
            normed = g.op("Cast", [normed], to=self.elem)
        return g.op("Mul", [self.param(weight_name), normed])

    def rope_tables(self, position_ids: str) -> tuple[str, str]:
        """cos/sin [B, 1, L, head_dim] from position ids (frequencies in float32)."""
        g, half = self.g, self.cfg.head_dim // 2
        inv_freq = 1.0 / (self.cfg.rope_theta ** (np.arange(0, half, dtype=np.float32) * 2 / self.cfg.head_dim))
        positions = g.op("Unsqueeze", [g.op("Cast", [position_ids], to=TensorProto.FLOAT), g.const([-1])])
        freqs = g.op("Mul", [positions, g.const(inv_freq.astype(np.float32), np.float32)])
        angles = g.op("Concat", [freqs, freqs], axis=-1)
        tables = []
        for fn in ("Cos", "Sin"):
            table = g.op(fn, [angles])
            if self.elem != TensorProto.FLOAT:
                table = g.op("Cast", [table], to=self.elem)
            tables.append(g.op("Unsqueeze", [table, g.const([1])]))
        return tables[0], tables[1]

    def apply_rope(self, x: str, cos: str, sin: str) -> str:
        """x * cos + rotate_half(x) * sin, rotate_half(x) = cat(-x2, x1)."""
        g, half, dim = self.g, self.cfg.head_dim // 2, self.cfg.head_dim
        first = g.op("Slice", [x, g.const([0]), g.const([half]), g.const([3])])
        second = g.op("Slice", [x, g.const([half]), g.const([dim]), g.const([3])])
        rotated = g.op("Concat", [g.op("Neg", [second]), first], axis=3)
        return g.op("Add", [g.op("Mul", [x, cos]), g.op("Mul", [rotated, sin])])

    def mask_bias(self, input_ids: str, attention_mask: str) -> str:
        """Additive float32 bias [B, 1, L, T]: 0 where causal and not padding, else finfo.min."""
        g = self.g
        total = g.op("Gather", [g.op("Shape", [attention_mask]), g.const(1)], axis=0)
        length = g.op("Gather", [g.op("Shape", [input_ids]), g.const(1)], axis=0)
        past = g.op("Sub", [total, length])
        key_pos = g.op("Range", [g.const(0), total, g.const(1)])
        query_pos = g.op("Unsqueeze", [g.op("Range", [past, total, g.const(1)]), g.const([1])])
        causal = g.op("LessOrEqual", [key_pos, query_pos])
        not_padding = g.op("Unsqueeze", [g.op("Cast", [attention_mask], to=TensorProto.BOOL),
                                         g.const([1, 2])])
        allowed = g.op("And", [causal, not_padding])
        return g.op("Where", [allowed, g.const(0.0, np.float32),
                              g.const(np.finfo(np.float32).min, np.float32)])

    def heads(self, x: str, proj: str, count: int, norm: str | None) -> str:
        """Project, split into heads [B, heads, L, head_dim], optional per-head RMSNorm."""
        g = self.g
        split = g.op("Reshape", [g.op("MatMul", [x, self.param(proj, transpose=True)]),
                                 g.const([0, 0, count, self.cfg.head_dim])])
        if norm is not None:
            split = self.rms_norm(split, norm)
        return g.op("Transpose", [split], perm=[0, 2, 1, 3])

    def repeat_kv(self, x: str) -> str:
        """[B, kv, T, d] -> [B, heads, T, d] by repeating each kv head (transformers' repeat_kv)."""
        groups = self.cfg.num_attention_heads // self.cfg.num_key_value_heads
        if groups == 1:
            return x
        g = self.g
        expanded = g.op("Expand", [g.op("Unsqueeze", [x, g.const([2])]), g.const([1, 1, groups, 1, 1])])
        return g.op("Reshape", [expanded, g.const([0, self.cfg.num_attention_heads, -1, self.cfg.head_dim])])

    def attention(self, x: str, layer: int, rope: tuple[str, str], bias: str, kv_cache: bool) -> str:
        g, cfg, prefix = self.g, self.cfg, f"layers.{layer}.self_attn."
        q = self.apply_rope(self.heads(x, prefix + "q_proj.weight", cfg.num_attention_heads,
                                       prefix + "q_norm.weight"), *rope)
        k = self.apply_rope(self.heads(x, prefix + "k_proj.weight", cfg.num_key_value_heads,
                                       prefix + "k_norm.weight"), *rope)
        v = self.heads(x, prefix + "v_proj.weight", cfg.num_key_value_heads, None)
        if kv_cache:
            k = g.op("Concat", [f"past_key_values.{layer}.key", k], [f"present.{layer}.key"], axis=2)
            v = g.op("Concat", [f"past_key_values.{layer}.value", v], [f"present.{layer}.value"], axis=2)
        keys_t = g.op("Transpose", [self.repeat_kv(k)], perm=[0, 1, 3, 2])
        scale = g.const(1.0 / math.sqrt(cfg.head_dim), self.np_dtype)
        scores = g.op("Mul", [g.op("MatMul", [q, keys_t]), scale])
        if self.elem != TensorProto.FLOAT:
            scores = g.op("Cast", [scores], to=TensorProto.FLOAT)
        probs = g.op("Softmax", [g.op("Add", [scores, bias])], axis=-1)
        if self.elem != TensorProto.FLOAT:
            probs = g.op("Cast", [probs], to=self.elem)
        context = g.op("Transpose", [g.op("MatMul", [probs, self.repeat_kv(v)])], perm=[0, 2, 1, 3])
        merged = g.op("Reshape", [context, g.const([0, 0, cfg.num_attention_heads * cfg.head_dim])])
        return g.op("MatMul", [merged, self.param(prefix + "o_proj.weight", transpose=True)])

    def mlp(self, x: str, layer: int) -> str:
        g, prefix = self.g, f"layers.{layer}.mlp."
        gate = g.op("MatMul", [x, self.param(prefix + "gate_proj.weight", transpose=True)])
        up = g.op("MatMul", [x, self.param(prefix + "up_proj.weight", transpose=True)])
        act = g.op("Mul", [g.op("Mul", [gate, g.op("Sigmoid", [gate])]), up])
        return g.op("MatMul", [act, self.param(prefix + "down_proj.weight", transpose=True)])

    def build(self, kv_cache: bool) -> None:
        g = self.g
        hidden = g.op("Gather", [self.param("embed_tokens.weight"), "input_ids"], axis=0)
        rope = self.rope_tables("position_ids")
        bias = self.mask_bias("input_ids", "attention_mask")
        for layer in range(self.cfg.num_hidden_layers):
            normed = self.rms_norm(hidden, f"layers.{layer}.input_layernorm.weight")
            hidden = g.op("Add", [hidden, self.attention(normed, layer, rope, bias, kv_cache)])
            normed = self.rms_norm(hidden, f"layers.{layer}.post_attention_layernorm.weight")
            hidden = g.op("Add", [hidden, self.mlp(normed, layer)])
        final = self.rms_norm(hidden, "norm.weight")
        g.op("Identity", [final], ["last_hidden_state"])


def _graph_io(cfg: Qwen3Config, elem: int, kv_cache: bool) -> tuple[list, list]:
    hidden = helper.make_tensor_value_info(
        "last_hidden_state", elem, ["batch_size", "sequence_length", cfg.hidden_size])
    inputs = [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch_size", "sequence_length"]),
              helper.make_tensor_value_info("attention_mask", TensorProto.INT64,
                                            ["batch_size", "total_sequence_length"]),
              helper.make_tensor_value_info("position_ids", TensorProto.INT64, ["batch_size", "sequence_length"])]
    outputs = [hidden]
    if kv_cache:
        for layer in range(cfg.num_hidden_layers):
            for kind in ("key", "value"):
                inputs.append(helper.make_tensor_value_info(
                    f"past_key_values.{layer}.{kind}", elem,
                    ["batch_size", cfg.num_key_value_heads, "past_sequence_length", cfg.head_dim]))
                outputs.append(helper.make_tensor_value_info(
                    f"present.{layer}.{kind}", elem,
                    ["batch_size", cfg.num_key_value_heads, "total_sequence_length", cfg.head_dim]))
    return inputs, outputs


def build_qwen3_onnx(cfg: Qwen3Config, weights: Mapping[str, np.ndarray], path: Path, *,
                     kv_cache: bool = False, dtype: str = "float32",
                     external_data: bool = False) -> Path:
    """Write a Qwen3 ONNX model to ``path`` (weights beside it in ``<name>_data`` if external)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    missing = [name for name in layer_weight_names(cfg) if name not in weights]
    if missing:
        raise KeyError(f"weights missing: {missing[:5]}")
    graph = _Graph(path.with_name(path.name + "_data") if external_data else None)
    try:
        _Qwen3Builder(cfg, weights, graph, dtype).build(kv_cache)
    finally:
        graph.close()
    inputs, outputs = _graph_io(cfg, _DTYPES[dtype][0], kv_cache)
    model = helper.make_model(
        helper.make_graph(graph.nodes, "qwen3", inputs, outputs, graph.initializers),
        opset_imports=[helper.make_opsetid("", OPSET)], producer_name="qfinder.devtools.qwen3_onnx")
    model.ir_version = 8
    onnx.save_model(model, str(path))
    onnx.checker.check_model(str(path))
    return path
