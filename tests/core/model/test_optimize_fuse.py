"""RMSNorm fusion (optimize_fuse.py): every spelling exports use becomes one op computing the same
values; a chain that is not exactly an RMSNorm is left alone; a model's fused copy (norms and
rotary embeddings) embeds alike."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper
from onnx.external_data_helper import convert_model_to_external_data

from qfinder.core.model.folder import find_model_folder
from qfinder.core.model.optimize_fuse import FUSED_OP, fuse_rms_norms, fused_copy
from qfinder.core.model.runtime import ort

WIDTH = 64
EPS = 1e-6


def _norm_graph(square: str = "mul", divide: str = "div", axes: list[int] | None = None,
                weight_shape: tuple[int, ...] = (WIDTH,), leak: bool = False, opset: int = 17,
                eps_node: bool = False) -> onnx.ModelProto:
    """y = x / sqrt(mean(x², axes) + eps) * w, spelled as asked; `leak` makes the variance a second
    output too, so it has a reader outside the chain; opset 18 gives the mean's axes as an input;
    `eps_node` makes epsilon a Constant node's output."""
    n = helper.make_node
    mean = (n("ReduceMean", ["sq", "axes"], ["var"], keepdims=1) if opset >= 18 else
            n("ReduceMean", ["sq"], ["var"], axes=axes or [-1], keepdims=1))
    nodes = [n("Pow", ["x", "two"], ["sq"]) if square == "pow" else n("Mul", ["x", "x"], ["sq"]), mean]
    if eps_node:
        nodes.append(n("Constant", [], ["eps"], value=numpy_helper.from_array(np.array(EPS, np.float32))))
    nodes += [n("Add", ["var", "eps"], ["var_eps"]), n("Sqrt", ["var_eps"], ["root"])]
    if divide == "div":
        nodes.append(n("Div", ["x", "root"], ["normed"]))
    else:
        inverse = n("Reciprocal", ["root"], ["inv"]) if divide == "reciprocal" else n("Div", ["one", "root"], ["inv"])
        nodes += [inverse, n("Mul", ["inv", "x"], ["normed"])]
    nodes.append(n("Mul", ["w", "normed"], ["y"]))
    rng = np.random.default_rng(3)
    constants = {"two": np.array(2.0, np.float32), "one": np.array(1.0, np.float32), "eps": np.array(EPS, np.float32),
                 "w": rng.standard_normal(weight_shape).astype(np.float32), "axes": np.array(axes or [-1], np.int64)}
    if eps_node:
        del constants["eps"]
    read = {name for node in nodes for name in node.input}
    inits = [numpy_helper.from_array(value, name) for name, value in constants.items() if name in read]
    outputs = [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)]
    if leak:
        outputs.append(helper.make_tensor_value_info("var", TensorProto.FLOAT, None))
    graph = helper.make_graph(nodes, "norm", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 5, WIDTH])],
                              outputs, inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 8
    return model


def _run(model: onnx.ModelProto, x: np.ndarray) -> np.ndarray:
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL  # the graph as written
    session = ort.InferenceSession(model.SerializeToString(), sess_options=options,
                                   providers=["CPUExecutionProvider"])
    return session.run(["y"], {"x": x})[0]


@pytest.mark.parametrize("square", ["mul", "pow"])
@pytest.mark.parametrize("divide", ["div", "reciprocal", "one_over"])
def test_each_spelling_becomes_one_op_with_the_same_values(square, divide):
    model = _norm_graph(square, divide)
    x = np.random.default_rng(0).standard_normal((2, 5, WIDTH)).astype(np.float32) * 3
    before = _run(model, x)
    assert fuse_rms_norms(model) == 1
    assert [node.op_type for node in model.graph.node] == [FUSED_OP]
    fused = model.graph.node[0]
    assert list(fused.input) == ["x", "w"] and list(fused.output) == ["y"]
    attrs = {a.name: helper.get_attribute_value(a) for a in fused.attribute}
    assert attrs["epsilon"] == pytest.approx(EPS) and attrs["axis"] == -1
    assert {t.name for t in model.graph.initializer} == {"w"}  # the chain's own constants are gone
    np.testing.assert_allclose(_run(model, x), before, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("variant", [{"opset": 18}, {"eps_node": True}])
def test_axes_as_an_input_and_epsilon_from_a_constant_node_are_read_too(variant):
    model = _norm_graph("pow", "reciprocal", **variant)
    x = np.random.default_rng(1).standard_normal((2, 5, WIDTH)).astype(np.float32)
    before = _run(model, x)
    assert fuse_rms_norms(model) == 1 and FUSED_OP in [node.op_type for node in model.graph.node]
    np.testing.assert_allclose(_run(model, x), before, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("variant", [{"axes": [1]}, {"opset": 18, "axes": [1]}, {"weight_shape": (1, WIDTH)},
                                     {"leak": True}])
def test_a_chain_that_is_not_exactly_an_rmsnorm_is_left_alone(variant):
    model = _norm_graph(**variant)
    before = [node.op_type for node in model.graph.node]
    assert fuse_rms_norms(model) == 0
    assert [node.op_type for node in model.graph.node] == before


def test_a_qwen3_copy_is_fused_keeps_its_weights_and_embeds_alike(tiny_qwen3, tmp_path):
    # Every float tensor outside the graph, as a big model's norm weights and even its scalars may
    # be: the fusion reads them from the model's folder, not from the working directory.
    model = onnx.load(str(find_model_folder(tiny_qwen3("plain")).onnx_path))
    convert_model_to_external_data(model, location="model.onnx_data", size_threshold=0)
    for tensor in model.graph.initializer:
        if tensor.data_type != TensorProto.FLOAT:  # onnxruntime wants shapes inside the graph
            tensor.data_location = TensorProto.DEFAULT
            del tensor.external_data[:]
    source = tmp_path / "src" / "onnx" / "model.onnx"
    source.parent.mkdir(parents=True)
    onnx.save_model(model, str(source))
    dest = tmp_path / "fused" / "model.onnx"
    fused = fused_copy(source, dest)
    # input, post-attention, q and k norms of 2 layers and the final one; q and k rotary of 2 layers
    assert (fused.norms, fused.rotary) == (9, 4) and str(fused) == "9 RMSNorms and 4 rotary embeddings fused"
    graph = onnx.load(str(dest), load_external_data=False).graph
    ops = [node.op_type for node in graph.node]
    assert ops.count(FUSED_OP) == 9 and not {"ReduceMean", "Sqrt", "Cos", "Sin"} & set(ops)
    assert all(node.name for node in graph.node)  # quantize_dynamic picks nodes by name
    assert dest.with_name("model.onnx_data").read_bytes() == (source.parent / "model.onnx_data").read_bytes()
    rng = np.random.default_rng(1)
    feeds = {"input_ids": rng.integers(0, 200, (2, 9)), "attention_mask": np.ones((2, 9), np.int64),
             "position_ids": np.tile(np.arange(9), (2, 1))}
    outputs = [ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(
        ["last_hidden_state"], feeds)[0] for path in (source, dest)]
    np.testing.assert_allclose(outputs[1], outputs[0], rtol=1e-4, atol=1e-4)
    again = tmp_path / "again" / "model.onnx"
    assert not fused_copy(dest, again) and not again.parent.exists()  # nothing left to fuse: nothing written
