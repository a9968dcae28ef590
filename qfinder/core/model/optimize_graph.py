"""An ONNX graph as the fusions (optimize_fuse.py, optimize_rope.py) read and rewrite it: who
produces and who reads each tensor, which tensors are constants, and the swap of matched op
chains for one fused op each, in place and in topological order."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
from onnx import numpy_helper


@dataclass(frozen=True)
class Fusion:
    """Matched nodes to remove, and the op computing their last node's outputs instead."""

    nodes: tuple[onnx.NodeProto, ...]  # in graph order; the last one's outputs are the chain's
    fused: onnx.NodeProto


class GraphIndex:
    def __init__(self, model: onnx.ModelProto, base_dir: Path | None) -> None:
        """`base_dir`: the model's folder, when it was loaded without its external data."""
        self.model = model
        self.nodes = list(model.graph.node)  # one list, so node identity holds while matching and rebuilding
        self.position = {id(node): i for i, node in enumerate(self.nodes)}
        self.base_dir = base_dir
        self.producer = {out: node for node in self.nodes for out in node.output}
        self.readers: dict[str, list[onnx.NodeProto]] = defaultdict(list)
        for node in self.nodes:
            for name in node.input:
                self.readers[name].append(node)
            for sub in _subgraphs(node):  # an If or Loop body reading a tensor is one more reader
                for name in names_read(sub):
                    self.readers[name].append(node)
        self.outputs = {o.name for o in model.graph.output}
        self.inputs = {i.name: i for i in model.graph.input}
        self.constants = {t.name: t for t in model.graph.initializer}
        for node in self.nodes:
            if node.op_type == "Constant" and node.attribute and node.attribute[0].name == "value":
                self.constants[node.output[0]] = node.attribute[0].t

    def value(self, name: str) -> np.ndarray | None:
        tensor = self.constants.get(name)
        if tensor is None or (tensor.data_location == onnx.TensorProto.EXTERNAL and self.base_dir is None):
            return None
        if tensor.data_location == onnx.TensorProto.EXTERNAL:
            copy = onnx.TensorProto()  # older onnx loads external data into the tensor it is given,
            copy.CopyFrom(tensor)  # which the saved graph would then hold twice
            tensor = copy
        return numpy_helper.to_array(tensor, str(self.base_dir or ""))

    def rank(self, name: str) -> int | None:
        """A constant's number of dimensions, without reading its data."""
        tensor = self.constants.get(name)
        return None if tensor is None else len(tensor.dims)

    def scalar(self, name: str) -> float | None:
        tensor = self.constants.get(name)
        if tensor is None or int(np.prod(tensor.dims)) != 1:  # [] and [1] are scalars; read nothing bigger
            return None
        array = self.value(name)
        return float(array.reshape(-1)[0]) if array is not None and array.size == 1 else None

    def ints(self, name: str) -> list[int] | None:
        array = self.value(name)
        return None if array is None or array.dtype.kind not in "iu" else [int(v) for v in array.reshape(-1)]

    def sole_reader(self, name: str) -> onnx.NodeProto | None:
        """The one node reading `name`, if there is one and `name` is no graph output."""
        readers = self.readers.get(name, [])
        return readers[0] if len(readers) == 1 and name not in self.outputs else None

    def only_reader(self, name: str, op_type: str) -> onnx.NodeProto | None:
        """The one node reading `name`, if it is an `op_type` and `name` is no graph output."""
        reader = self.sole_reader(name)
        return reader if reader is not None and reader.op_type == op_type else None

    def made_by(self, name: str, op_type: str) -> onnx.NodeProto | None:
        """The node producing `name`, if it is an `op_type` and `name` has no other reader."""
        node = self.producer.get(name)
        return node if node is not None and node.op_type == op_type and self.sole_reader(name) else None

    @staticmethod
    def other_input(node: onnx.NodeProto | None, known: str) -> str | None:
        if node is None or len(node.input) != 2 or known not in node.input:
            return None
        return node.input[1] if node.input[0] == known else node.input[0]

    def apply(self, fusions: Sequence[Fusion]) -> None:
        """Swap each fusion's nodes for its fused op, placed where its last node was (its inputs
        are all produced before that), then drop the constants nothing reads any more."""
        last_of = {id(f.nodes[-1]): f for f in fusions}
        dropped = {id(node) for f in fusions for node in f.nodes}
        rebuilt = [last_of[id(node)].fused if id(node) in last_of else node
                   for node in self.nodes if id(node) in last_of or id(node) not in dropped]
        graph = self.model.graph
        del graph.node[:]
        graph.node.extend(rebuilt)
        drop_unread_constants(graph, {name for f in fusions for node in f.nodes for name in node.input})


def names_read(graph: onnx.GraphProto) -> set[str]:
    """Every tensor name a node reads, in subgraphs (If, Loop bodies) too, and the graph's outputs."""
    read = {o.name for o in graph.output}
    for node in graph.node:
        read.update(node.input)
        for sub in _subgraphs(node):
            read |= names_read(sub)
    return read


def _subgraphs(node: onnx.NodeProto) -> list[onnx.GraphProto]:
    return [g for attr in node.attribute
            for g in ([attr.g] if attr.type == onnx.AttributeProto.GRAPH else list(attr.graphs))]


def drop_dead_nodes(graph: onnx.GraphProto) -> int:
    """Remove nodes none of whose outputs is read (the cos/sin tables a fused rotary no longer
    needs), repeatedly, since each removal may leave its producers unread, and the constants only
    they read; returns how many nodes went."""
    removed: list[onnx.NodeProto] = []
    while True:
        read = names_read(graph)
        alive = [node for node in graph.node if any(out in read for out in node.output)]
        if len(alive) == len(graph.node):
            break
        removed += [node for node in graph.node if not any(out in read for out in node.output)]
        del graph.node[:]
        graph.node.extend(alive)
    drop_unread_constants(graph, {name for node in removed for name in node.input})
    return len(removed)


def drop_unread_constants(graph: onnx.GraphProto, candidates: set[str]) -> None:
    """Drop the initializers among `candidates` that nothing reads now (onnxruntime warns about each)."""
    unread = candidates - names_read(graph) - {i.name for i in graph.input}
    if unread:
        kept = [tensor for tensor in graph.initializer if tensor.name not in unread]
        del graph.initializer[:]
        graph.initializer.extend(kept)
