"""Rotary embedding fusion (optimize_rope.py): each spelling becomes one RotaryEmbedding op computing
the same values at any positions; sites it cannot prove the same are left alone; a position past
the tables fails the run instead of embedding wrongly."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from qfinder.core.model.folder import find_model_folder
from qfinder.core.model.optimize_rope import FUSED_OP, fuse_rotary
from qfinder.core.model.runtime import ort

HEADS, DIM = 2, 8
THETA = 10_000.0


def _rope_graph(cut: str = "slice", table: str = "rotate_half", positions_from: str = "position_ids",
                layout: str = "bnsd", leak: bool = False) -> onnx.ModelProto:
    """y = x·cos + rotate_half(x)·sin for x [batch, heads, tokens, dim], cos/sin from the positions.
    `cut`: the halves by two Slices or a Split; `table`: "halves_differ" breaks the rotate_half
    tables; `positions_from`: "attention_mask" derives positions from the mask (CumSum); `layout`:
    "bsnd" puts the tables' positions on axis 1; `leak`: x·cos is a second output."""
    n, const = helper.make_node, numpy_helper.from_array
    half = DIM // 2
    inv_freq = (1.0 / THETA ** (np.arange(half, dtype=np.float32) * 2 / DIM)).astype(np.float32)
    inits = [const(inv_freq, "inv_freq"), const(np.array([-1], np.int64), "last"),
             const(np.array([1 if layout == "bnsd" else 2], np.int64), "head_axis"),
             const(np.array([0], np.int64), "zero"), const(np.array([half], np.int64), "half"),
             const(np.array([DIM], np.int64), "dim"), const(np.array([half, half], np.int64), "sizes")]
    nodes = []
    if positions_from == "attention_mask":
        nodes.append(n("CumSum", ["attention_mask", "one_axis"], ["positions"]))
        inits.append(const(np.array(1, np.int64), "one_axis"))
    positions = "positions" if positions_from == "attention_mask" else "position_ids"
    second = "freqs" if table == "rotate_half" else "freqs_doubled"
    nodes += [n("Cast", [positions], ["pos_f"], to=TensorProto.FLOAT), n("Unsqueeze", ["pos_f", "last"], ["pos_col"]),
              n("Mul", ["pos_col", "inv_freq"], ["freqs"]), n("Add", ["freqs", "freqs"], ["freqs_doubled"]),
              n("Concat", ["freqs", second], ["angles"], axis=-1)]
    for fn in ("Cos", "Sin"):
        nodes += [n(fn, ["angles"], [fn.lower() + "_3d"]), n("Unsqueeze", [fn.lower() + "_3d", "head_axis"], [fn.lower()])]
    if cut == "slice":
        nodes += [n("Slice", ["x", "zero", "half", "last"], ["x1"]), n("Slice", ["x", "half", "dim", "last"], ["x2"])]
    else:
        nodes.append(n("Split", ["x", "sizes"], ["x1", "x2"], axis=-1))
    nodes += [n("Neg", ["x2"], ["minus_x2"]), n("Concat", ["minus_x2", "x1"], ["rotated"], axis=-1),
              n("Mul", ["x", "cos"], ["x_cos"]), n("Mul", ["rotated", "sin"], ["rotated_sin"]),
              n("Add", ["x_cos", "rotated_sin"], ["y"])]
    x_shape = ["b", HEADS, "s", DIM] if layout == "bnsd" else ["b", "s", HEADS, DIM]
    inputs = [helper.make_tensor_value_info("x", TensorProto.FLOAT, x_shape),
              helper.make_tensor_value_info(positions_from, TensorProto.INT64, ["b", "s"])]
    outputs = [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)]
    if leak:
        outputs.append(helper.make_tensor_value_info("x_cos", TensorProto.FLOAT, None))
    model = helper.make_model(helper.make_graph(nodes, "rope", inputs, outputs, inits),
                              opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model


def _run(model: onnx.ModelProto, feeds: dict[str, np.ndarray]) -> np.ndarray:
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run([session.get_outputs()[0].name], feeds)[0]


def _feeds(positions: np.ndarray) -> dict[str, np.ndarray]:
    x = np.random.default_rng(0).standard_normal((positions.shape[0], HEADS, positions.shape[1], DIM))
    return {"x": x.astype(np.float32), "position_ids": positions}


@pytest.mark.parametrize("cut", ["slice", "split"])
def test_each_spelling_becomes_one_op_with_the_same_values_at_any_positions(cut):
    model = _rope_graph(cut)
    positions = np.array([[0, 1, 2, 3, 4], [7, 8, 9, 10, 11]], np.int64)  # a row that does not start at 0
    before = _run(model, _feeds(positions))
    assert fuse_rotary(model, max_positions=64) == 1
    ops = [node.op_type for node in model.graph.node]
    assert ops == [FUSED_OP] and model.graph.node[0].domain == "com.microsoft"  # the cos/sin subgraph is gone
    assert any(o.domain == "com.microsoft" for o in model.opset_import)
    np.testing.assert_allclose(_run(model, _feeds(positions)), before, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("variant", [{"positions_from": "attention_mask"}, {"layout": "bsnd"},
                                     {"table": "halves_differ"}, {"leak": True}])
def test_a_site_it_cannot_prove_the_same_is_left_alone(variant):
    model = _rope_graph(**variant)
    if variant.get("layout") == "bsnd":  # a valid graph: x [batch, tokens, heads, dim], cos [batch, tokens, 1, dim]
        x = np.zeros((1, 3, HEADS, DIM), np.float32)
        assert _run(model, {"x": x, "position_ids": np.arange(3, dtype=np.int64)[None, :]}).shape == x.shape
    before = [node.op_type for node in model.graph.node]
    assert fuse_rotary(model, max_positions=64) == 0
    assert [node.op_type for node in model.graph.node] == before


def test_a_position_past_the_tables_fails_the_run_instead_of_embedding_wrongly():
    model = _rope_graph()
    assert fuse_rotary(model, max_positions=8) == 1
    _run(model, _feeds(np.arange(8, dtype=np.int64)[None, :]))  # inside: runs
    with pytest.raises(Exception, match="RotaryEmbedding"):  # onnxruntime refuses positions past the tables
        _run(model, _feeds(np.arange(1, 10, dtype=np.int64)[None, :]))


@pytest.mark.parametrize("shape", ["plain", "kv"])
def test_the_tiny_qwen3_fuses_q_and_k_of_each_layer_and_computes_the_same(tiny_qwen3, shape):
    source = find_model_folder(tiny_qwen3(shape)).onnx_path
    model = onnx.load(str(source))
    assert fuse_rotary(model, max_positions=64) == 4  # q and k of 2 layers
    assert not {"Cos", "Sin", "Neg"} & {node.op_type for node in model.graph.node}
    rng = np.random.default_rng(2)
    past = 3 if shape == "kv" else 0  # positions 3..8 after a cached prefix of 3
    feeds = {"input_ids": rng.integers(0, 200, (2, 6)), "attention_mask": np.ones((2, past + 6), np.int64),
             "position_ids": np.tile(np.arange(past, past + 6), (2, 1))}
    original = ort.InferenceSession(str(source), providers=["CPUExecutionProvider"])
    for arg in original.get_inputs():
        if arg.name.startswith("past_key_values"):
            feeds[arg.name] = rng.standard_normal((2, 2, past, 32)).astype(np.float32)
    fused = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    np.testing.assert_allclose(fused.run(["last_hidden_state"], feeds)[0],
                               original.run(["last_hidden_state"], feeds)[0], rtol=1e-4, atol=1e-4)


def test_tables_that_cannot_be_computed_leave_the_site_alone():
    model = _rope_graph()
    inv_freq = next(t for t in model.graph.initializer if t.name == "inv_freq")
    inv_freq.ClearField("float_data")
    inv_freq.ClearField("raw_data")
    inv_freq.data_location = TensorProto.EXTERNAL  # its weights file is not at hand
    inv_freq.external_data.add(key="location", value="missing.onnx_data")
    before = [node.op_type for node in model.graph.node]
    assert fuse_rotary(model, max_positions=64) == 0
    assert [node.op_type for node in model.graph.node] == before


def test_sites_that_share_tables_are_each_checked_for_their_own_cut():
    """q cut at the middle and k (same cos/sin) cut elsewhere: only q is rotate_half."""
    model = _rope_graph()
    n = helper.make_node
    model.graph.input.append(helper.make_tensor_value_info("k", TensorProto.FLOAT, ["b", HEADS, "s", DIM]))
    model.graph.initializer.append(numpy_helper.from_array(np.array([DIM // 2 - 1], np.int64), "off_half"))
    model.graph.node.extend([
        n("Slice", ["k", "zero", "off_half", "last"], ["k1"]), n("Slice", ["k", "off_half", "dim", "last"], ["k2"]),
        n("Neg", ["k2"], ["minus_k2"]), n("Concat", ["minus_k2", "k1"], ["k_rotated"], axis=-1),
        n("Mul", ["k", "cos"], ["k_cos"]), n("Mul", ["k_rotated", "sin"], ["k_rotated_sin"]),
        n("Add", ["k_cos", "k_rotated_sin"], ["k_out"])])
    model.graph.output.append(helper.make_tensor_value_info("k_out", TensorProto.FLOAT, None))
    feeds = {**_feeds(np.arange(5, dtype=np.int64)[None, :]), "k": np.ones((1, HEADS, 5, DIM), np.float32)}
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    before = session.run(["y", "k_out"], feeds)
    assert fuse_rotary(model, max_positions=64) == 1  # q only
    fused = [node for node in model.graph.node if node.op_type == FUSED_OP]
    assert [node.input[0] for node in fused] == ["x"]
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    for got, want in zip(session.run(["y", "k_out"], feeds), before, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


def test_unnamed_sites_get_names_of_their_own():
    model = _rope_graph()
    for node in model.graph.node:
        node.name = ""
    second = _rope_graph()  # the same site again, on its own x, sharing the tables
    renamed = {name: f"{name}_b" for name in ("x", "y", "x1", "x2", "minus_x2", "rotated", "x_cos", "rotated_sin")}
    for node in second.graph.node[-7:]:  # two Slices, Neg, Concat, two Muls, Add
        node.name = ""
        node.input[:] = [renamed.get(name, name) for name in node.input]
        node.output[:] = [renamed.get(name, name) for name in node.output]
        model.graph.node.append(node)
    model.graph.input.append(helper.make_tensor_value_info("x_b", TensorProto.FLOAT, ["b", HEADS, "s", DIM]))
    model.graph.output.append(helper.make_tensor_value_info("y_b", TensorProto.FLOAT, None))
    assert fuse_rotary(model, max_positions=64) == 2
    names = [node.name for node in model.graph.node]
    assert len(set(names)) == len(names)
    ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])  # refuses duplicate names
