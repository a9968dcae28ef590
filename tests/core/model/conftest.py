"""Model folders for the engine tests: tiny Qwen3 (real architecture, helper B's builder) and toy
graphs built here with onnx.helper to reach shapes and failures a real export rarely shows
(fp16 outputs, NaN, no usable output, a real out-of-memory, a long-running graph to cancel)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper
from tokenizers import Tokenizer, models, pre_tokenizers, processors

WORDS = ["apple", "banana", "cherry", "dog", "cat", "car", "house", "tree", "river", "sky", "blue", "green",
         "red", "fast", "slow", "the", "a", "is", "on", "under"]
EOS = "<|endoftext|>"
HIDDEN = 16


def write_word_tokenizer(path: Path, with_eos: bool = True) -> None:
    vocab = {"<unk>": 0, EOS: 1, **{w: i + 2 for i, w in enumerate(WORDS)}}
    tokenizer = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer.add_special_tokens([EOS])
    if with_eos:
        tokenizer.post_processor = processors.TemplateProcessing(single=f"$A {EOS}", special_tokens=[(EOS, 1)])
    tokenizer.save(str(path))


def _toy_nodes(kind: str) -> tuple[list[onnx.NodeProto], list[onnx.TensorProto], str]:
    """Causal toy: hidden[t] = sum over s <= t of (emb[id_s] + pos[p_s]) * mask_s."""
    rng = np.random.default_rng(7)
    inits = [numpy_helper.from_array(rng.standard_normal((len(WORDS) + 2, HIDDEN)).astype(np.float32), "emb"),
             numpy_helper.from_array(rng.standard_normal((512, HIDDEN)).astype(np.float32) * 0.1, "pos"),
             numpy_helper.from_array(np.array(1, dtype=np.int64), "axis1")]
    nodes = [helper.make_node("Gather", ["emb", "input_ids"], ["e"]),
             helper.make_node("Gather", ["pos", "position_ids"], ["p"]),
             helper.make_node("Add", ["e", "p"], ["ep"]),
             helper.make_node("Unsqueeze", ["attention_mask", "axis_last"], ["m3"]),
             helper.make_node("Cast", ["m3"], ["mf"], to=TensorProto.FLOAT),
             helper.make_node("Mul", ["ep", "mf"], ["x"]),
             helper.make_node("CumSum", ["x", "axis1"], ["h"])]
    inits.append(numpy_helper.from_array(np.array([-1], dtype=np.int64), "axis_last"))
    last = "h"
    if kind == "nan":
        inits.append(numpy_helper.from_array(np.array(0.0, dtype=np.float32), "zero"))
        nodes.append(helper.make_node("Div", ["h", "zero"], ["h_nan"]))
        last = "h_nan"
    if kind in ("oom", "oom_len"):
        nodes += _oom_nodes(inits, by_length=kind == "oom_len")
        nodes.append(helper.make_node("Add", ["h", "big_zero"], ["h_oom"]))
        last = "h_oom"
    return nodes, inits, last


def _oom_nodes(inits: list[onnx.TensorProto], by_length: bool) -> list[onnx.NodeProto]:
    """A zero tensor of min(1e7 ** batch, 1e15) floats: 40 MB for one text, beyond any address
    space for two or more, so onnxruntime really fails to allocate (no mocking). by_length:
    min(1e7 ** (tokens - 20), 1e15) floats, so any row longer than 21 tokens fails."""
    axis = 1 if by_length else 0
    inits += [numpy_helper.from_array(np.array([axis], dtype=np.int64), "i0"),
              numpy_helper.from_array(np.array([axis + 1], dtype=np.int64), "i1"),
              numpy_helper.from_array(np.array([20.0 if by_length else 0.0], dtype=np.float32), "offset"),
              numpy_helper.from_array(np.array([1e7], dtype=np.float32), "base"),
              numpy_helper.from_array(np.array([1e15], dtype=np.float32), "cap")]
    return [helper.make_node("Shape", ["input_ids"], ["shape"]),
            helper.make_node("Slice", ["shape", "i0", "i1"], ["batch"]),
            helper.make_node("Cast", ["batch"], ["batch_raw"], to=TensorProto.FLOAT),
            helper.make_node("Sub", ["batch_raw", "offset"], ["batch_f"]),
            helper.make_node("Pow", ["base", "batch_f"], ["count_f"]),
            helper.make_node("Min", ["count_f", "cap"], ["count_c"]),
            helper.make_node("Cast", ["count_c"], ["count"], to=TensorProto.INT64),
            helper.make_node("ConstantOfShape", ["count"], ["big"]),
            helper.make_node("ReduceSum", ["big"], ["big_sum"], keepdims=0),
            helper.make_node("Mul", ["big_sum", "zero_f"], ["big_zero"])]


def _slow_chain(nodes: list[onnx.NodeProto], inits: list[onnx.TensorProto], last: str, layers: int) -> str:
    """Identity maps through a 1024-wide chain: same values, ~0.1 GFLOP per layer and text token."""
    wide = 1024
    inits += [numpy_helper.from_array(np.eye(HIDDEN, wide, dtype=np.float32), "up"),
              numpy_helper.from_array(np.eye(wide, dtype=np.float32), "eye"),
              numpy_helper.from_array(np.eye(wide, HIDDEN, dtype=np.float32), "down")]
    nodes.append(helper.make_node("MatMul", [last, "up"], ["slow_in"]))
    last = "slow_in"
    for i in range(layers):
        nodes.append(helper.make_node("MatMul", [last, "eye"], [f"slow{i}"]))
        last = f"slow{i}"
    nodes.append(helper.make_node("MatMul", [last, "down"], ["slow_out"]))
    return "slow_out"


def build_toy_graph(path: Path, kind: str = "kv", dtype: int = TensorProto.FLOAT, output: str = "last_hidden_state",
                    slow_layers: int = 0, pools_last: bool = False) -> None:
    nodes, inits, last = _toy_nodes(kind)
    if kind in ("oom", "oom_len"):
        inits.append(numpy_helper.from_array(np.array(0.0, dtype=np.float32), "zero_f"))
    if slow_layers:
        last = _slow_chain(nodes, inits, last, slow_layers)
    if dtype == TensorProto.FLOAT16:
        nodes.append(helper.make_node("Cast", [last], ["h16"], to=TensorProto.FLOAT16))
        last = "h16"
    if pools_last:  # pools inside the graph by position (-1): only right for left-padded batches
        inits.append(numpy_helper.from_array(np.array(-1, dtype=np.int64), "last_index"))
        nodes.append(helper.make_node("Gather", [last, "last_index"], ["pooled"], axis=1))
        last = "pooled"
    nodes.append(helper.make_node("Identity", [last], [output]))
    inputs = [helper.make_tensor_value_info(n, TensorProto.INT64, ["batch", "seq"])
              for n in ("input_ids", "attention_mask", "position_ids")]
    dims = ["batch", HIDDEN] if pools_last else ["batch", "seq", HIDDEN]
    outputs = [helper.make_tensor_value_info(output, dtype, dims)]
    if kind in ("kv", "nan", "oom", "oom_len"):
        for name in ("key", "value"):
            inputs.append(helper.make_tensor_value_info(f"past_key_values.0.{name}", dtype, ["batch", 2, "past", 4]))
            nodes.append(helper.make_node("Identity", [f"past_key_values.0.{name}"], [f"present.0.{name}"]))
            outputs.append(helper.make_tensor_value_info(f"present.0.{name}", dtype, ["batch", 2, "past", 4]))
    graph = helper.make_graph(nodes, "toy", inputs, outputs, inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))


def write_toy_folder(dest: Path, with_eos: bool = True, model_type: str = "qwen3", **graph: object) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    write_word_tokenizer(dest / "tokenizer.json", with_eos=with_eos)
    (dest / "config.json").write_text(json.dumps({"model_type": model_type, "hidden_size": HIDDEN,
                                                  "num_key_value_heads": 2, "head_dim": 4}))
    build_toy_graph(dest / "model.onnx", **graph)  # type: ignore[arg-type]
    return dest


@pytest.fixture
def toy_folder(tmp_path: Path) -> Callable[..., Path]:
    """Factory: toy_folder(name, with_eos=True, model_type="qwen3", kind="kv", dtype=..., ...)."""
    def make(name: str = "toy", **kwargs: object) -> Path:
        return write_toy_folder(tmp_path / name, **kwargs)  # type: ignore[arg-type]
    return make


@pytest.fixture(scope="session")
def tiny_qwen3(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """Tiny real-architecture Qwen3 folders (plain / kv / st), built once per shape."""
    from support.qwen3 import build_tiny_qwen3

    root = tmp_path_factory.mktemp("engine-qwen3")
    built: dict[str, Path] = {}

    def get(shape: str = "plain") -> Path:
        if shape not in built:
            built[shape] = build_tiny_qwen3(root / shape, shape)
        return built[shape]
    return get
