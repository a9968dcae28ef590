"""Rotary position embeddings as one onnxruntime RotaryEmbedding op each.

Exports spell RoPE (x·cos + rotate_half(x)·sin, with rotate_half(x) = cat(-x₂, x₁)) as a Split or
two Slices, a Neg, a Concat, two Muls and an Add: six passes over q or k. Measured on q's
[8, 16, 384, 128] (onnxruntime 1.32, 2 cores): 21.8 ms as ops against 2.2 ms as
com.microsoft.RotaryEmbedding. The fused op reads cos and sin from tables indexed by position.
They are made by running the graph's own cos/sin subgraph on positions 0..N-1, so whatever way
an export derives them (inverse frequencies, scaling) is what the tables hold. A site is left as
it is when that subgraph needs any input but the positions, when the tables' two halves differ
(not the rotate_half convention), when the heads are not laid out [batch, heads, tokens, dim], or
when any tensor inside the site has another reader, or when a token's cos/sin depend on more than
its own position (checked by running the subgraph on scattered positions).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from qfinder.core.model.optimize_graph import Fusion, GraphIndex, drop_dead_nodes

log = logging.getLogger(__name__)

FUSED_OP, FUSED_DOMAIN = "RotaryEmbedding", "com.microsoft"
# Qwen3's context. A position beyond the table makes onnxruntime fail the run, never embed wrongly;
# tables for more positions than TABLE_LIMIT (64 MB for head_dim 128) are not made.
MAX_POSITIONS, TABLE_LIMIT = 32768, 131072
_LAST_AXES = (-1, 3)  # 3 is the last axis of the [batch, heads, tokens, dim] layout the op needs


@dataclass(frozen=True)
class _Tables:
    inputs: list[str]  # the fused op's inputs after x: the positions, the cos table, the sin table
    half: int  # half the head dimension: where rotate_half cuts

    def fit(self, site: _Site) -> bool:
        """Whether `site` cuts x where these tables do (q and k may share tables, cut differently)."""
        return site.cut is None or (site.cut[0] == self.half and site.cut[1] >= 2 * self.half)


@dataclass(frozen=True)
class _Site:
    nodes: tuple[onnx.NodeProto, ...]
    x: str
    cos: str
    sin: str
    cut: tuple[int, int] | None  # Slices: where the high half starts and ends; None for an even Split


def fuse_rotary(model: onnx.ModelProto, base_dir: Path | None = None, max_positions: int = MAX_POSITIONS) -> int:
    """Replace every RoPE site of `model` (in place) by one fused op, with tables for positions
    0..max_positions-1; returns how many."""
    if max_positions > TABLE_LIMIT:
        return 0
    graph = GraphIndex(model, base_dir)
    sites = [site for node in graph.nodes if node.op_type == "Add" and (site := _match(graph, node)) is not None]
    made: dict[tuple[str, str], _Tables | None] = {}  # (cos, sin) -> the tables they make, shared by sites
    fusions: list[Fusion] = []
    for site in sites:
        key = (site.cos, site.sin)
        if key not in made:
            made[key] = _tables(graph, site, max_positions, len(made))
        tables = made[key]
        if tables is not None and tables.fit(site):
            fusions.append(Fusion(site.nodes, helper.make_node(
                FUSED_OP, [site.x, *tables.inputs], list(site.nodes[-1].output),
                name=f"{site.nodes[-1].name or 'rope'}_fused_{len(fusions)}", domain=FUSED_DOMAIN, interleaved=0)))
    if not fusions:
        return 0
    graph.apply(fusions)
    drop_dead_nodes(model.graph)  # the cos/sin subgraph, read by nothing now
    if not any(o.domain == FUSED_DOMAIN for o in model.opset_import):
        model.opset_import.append(helper.make_opsetid(FUSED_DOMAIN, 1))
    return len(fusions)


def _match(graph: GraphIndex, add: onnx.NodeProto) -> _Site | None:
    if len(add.input) != 2:
        return None
    products = [graph.made_by(name, "Mul") for name in add.input]
    for plain, rotated in (products, products[::-1]):
        site = _site(graph, add, plain, rotated) if plain is not None and rotated is not None else None
        if site is not None:
            return site
    return None


def _site(graph: GraphIndex, add: onnx.NodeProto, plain: onnx.NodeProto, rotated: onnx.NodeProto) -> _Site | None:
    """x·cos (plain) + cat(-x₂, x₁)·sin (rotated)."""
    for concat_out in rotated.input:
        concat = graph.made_by(concat_out, "Concat")
        if concat is None or len(concat.input) != 2 or _axis(concat) not in _LAST_AXES:
            continue
        negated = graph.made_by(concat.input[0], "Neg")
        halves = _halves(graph, concat.input[1], negated.input[0]) if negated is not None else None
        if negated is None or halves is None:
            continue
        x, cutters, cut = halves
        cos, sin = graph.other_input(plain, x), graph.other_input(rotated, concat_out)
        if cos is None or sin is None:
            continue
        nodes = sorted((*cutters, negated, concat, plain, rotated, add), key=lambda node: graph.position[id(node)])
        return _Site(tuple(nodes), x, cos, sin, cut) if nodes[-1] is add else None
    return None


def _halves(graph: GraphIndex, low: str, high: str) -> tuple[str, tuple[onnx.NodeProto, ...],
                                                              tuple[int, int] | None] | None:
    """(x, the nodes cutting it, where) when `low` and `high` are x's two halves on its last axis."""
    split = graph.producer.get(low)
    if split is not None and split.op_type == "Split" and list(split.output) == [low, high]:
        if _axis(split) not in _LAST_AXES or not _even(graph, split) or any(
                graph.sole_reader(out) is None for out in split.output):
            return None
        return split.input[0], (split,), None
    first, second = graph.made_by(low, "Slice"), graph.made_by(high, "Slice")
    if first is None or second is None or first.input[0] != second.input[0]:
        return None
    low_bounds, high_bounds = _slice_bounds(graph, first), _slice_bounds(graph, second)
    if low_bounds is None or high_bounds is None or low_bounds[0] != 0 or low_bounds[1] != high_bounds[0]:
        return None
    return first.input[0], (first, second), high_bounds


def _slice_bounds(graph: GraphIndex, node: onnx.NodeProto) -> tuple[int, int] | None:
    """(start, end) of a one-axis, unit-step Slice on the last axis."""
    parts = [graph.ints(name) if name else None for name in list(node.input[1:5]) + [""] * (5 - len(node.input))]
    starts, ends, axes, steps = parts
    if starts is None or ends is None or len(starts) != 1 or axes is None or len(axes) != 1 \
            or axes[0] not in _LAST_AXES or steps not in (None, [1]):
        return None
    return starts[0], ends[0]


def _axis(node: onnx.NodeProto) -> int:
    return next((helper.get_attribute_value(a) for a in node.attribute if a.name == "axis"), 0)


def _even(graph: GraphIndex, split: onnx.NodeProto) -> bool:
    """Whether the Split cuts in two equal parts (sizes as input, attribute, or none given)."""
    attrs = {a.name: helper.get_attribute_value(a) for a in split.attribute}
    sizes = graph.ints(split.input[1]) if len(split.input) > 1 and split.input[1] else attrs.get("split")
    if sizes is None:
        return len(split.output) == 2
    return len(sizes) == 2 and sizes[0] == sizes[1]


def _inputs_reached(graph: GraphIndex, names: list[str]) -> tuple[list[onnx.NodeProto], list[str]]:
    """The nodes computing `names` (in graph order) and the graph inputs they read."""
    needed: set[int] = set()
    reached: set[str] = set()
    stack = list(names)
    while stack:
        name = stack.pop()
        node = graph.producer.get(name)
        if node is None:
            if name in graph.inputs and name not in graph.constants:
                reached.add(name)
            continue
        if id(node) not in needed:
            needed.add(id(node))
            stack.extend(n for n in node.input if n)
    return [node for node in graph.nodes if id(node) in needed], sorted(reached)


def _tables(graph: GraphIndex, site: _Site, max_positions: int, index: int) -> _Tables | None:
    """The tables of `site`'s cos and sin, computed by the graph's own subgraph and added to it;
    None where they cannot serve as the fused op's tables."""
    nodes, inputs = _inputs_reached(graph, [site.cos, site.sin])
    if len(inputs) != 1 or graph.inputs[inputs[0]].type.tensor_type.elem_type != TensorProto.INT64:
        return None
    every = np.arange(max_positions, dtype=np.int64)[None, :]
    try:
        cos, sin = _run_subgraph(graph, nodes, inputs[0], [site.cos, site.sin], every)
    except Exception as exc:  # onnxruntime's errors have no importable type; the site stays unfused
        log.info("rotary tables for %s could not be computed (%s)", site.x, exc)
        return None
    if cos.shape != sin.shape or cos.ndim != 4 or cos.shape[:3] != (1, 1, max_positions) or cos.shape[3] % 2:
        return None  # positions not on axis 2: heads are not laid out as the fused op reads them
    cos, sin = cos[0, 0], sin[0, 0]
    if not _looked_up(graph, nodes, inputs[0], site, cos, sin):
        return None
    half = cos.shape[1] // 2
    if not all(np.allclose(table[:, :half], table[:, half:], rtol=0, atol=1e-6) for table in (cos, sin)):
        return None
    names = [f"rope_cos_table_{index}", f"rope_sin_table_{index}"]
    for name, table in zip(names, (cos, sin), strict=True):
        graph.model.graph.initializer.append(
            numpy_helper.from_array(np.ascontiguousarray(table[:, :half], dtype=np.float32), name))
    return _Tables([inputs[0], *names], half)


def _looked_up(graph: GraphIndex, nodes: list[onnx.NodeProto], positions: str, site: _Site,
               cos: np.ndarray, sin: np.ndarray) -> bool:
    """Whether the subgraph's cos/sin at each token are the tables' rows at that token's position,
    whatever the other tokens' positions (the fused op only looks rows up): checked on two rows of
    scattered positions in another order. A table made from the whole sequence (positions counted
    from the mask, say) fails this."""
    rows = np.random.default_rng(0).integers(0, len(cos), (2, 7))
    try:
        scattered = _run_subgraph(graph, nodes, positions, [site.cos, site.sin], rows.astype(np.int64))
    except Exception:  # a subgraph that only runs on one shape of positions is no table look-up
        return False
    return all(found.shape == (2, 1, 7, table.shape[1]) and np.allclose(found[:, 0], table[rows], rtol=0, atol=1e-6)
               for found, table in zip(scattered, (cos, sin), strict=True))


def _run_subgraph(graph: GraphIndex, nodes: list[onnx.NodeProto], positions: str, outputs: list[str],
                  fed: np.ndarray) -> list[np.ndarray]:
    from qfinder.core.model.runtime import ort

    read = {name for node in nodes for name in node.input}
    constants = []
    for name in sorted(read & set(graph.constants)):
        value = graph.value(name)
        if value is not None and name not in {o for node in nodes for o in node.output}:
            constants.append(numpy_helper.from_array(value, name))
    sub = helper.make_graph(nodes, "rope_tables",
                            [helper.make_tensor_value_info(positions, TensorProto.INT64, list(fed.shape))],
                            [helper.make_tensor_value_info(name, TensorProto.FLOAT, None) for name in outputs],
                            constants)
    model = helper.make_model(sub, opset_imports=list(graph.model.opset_import))
    model.ir_version = graph.model.ir_version
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(outputs, {positions: fed})
