"""SmoothQuant-style scaling: activation outliers moved into the weights before dynamic int8.

Trained decoders have a few activation channels hundreds of times larger than the rest; dynamic
int8 quantizes each activation tensor with one scale, so those channels take all of its 256
levels and every other channel loses its precision. For a weighted MatMul `X @ W`, dividing
channel j of X by s_j and multiplying row j of W by s_j computes the same product, with
s_j = max|X_j|^a / max|W_j|^(1-a) (a = 0.5) balancing the two ranges. X itself is never divided
at run time: the division is folded into what produces X, where that is a per-channel factor:

* the weight of the RMSNorm / LayerNorm in front of q/k/v or gate/up (a `Mul` by a 1-D constant,
  or a normalization op's scale input), or
* the up_proj weight's columns in front of down_proj (X = act(gate) * up: scaling up's output
  channel j scales X's channel j).

A site is folded only when every reader of X is a weighted MatMul and no scaled constant is used
elsewhere, so the fp32 graph computes the same function (up to rounding); anything else, e.g.
o_proj behind attention, is left as it is. max|X_j| is measured on half of the gate sample
(calibration_texts). The
candidate built from the scaled graph is gated against the unscaled fp32 model like every other,
so a fold that went wrong could only fail the gate, never reach a user.
"""

from __future__ import annotations

import shutil
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
from onnx import numpy_helper

from qfinder.core.errors import ModelError
from qfinder.core.model.feeds import build_feeds, read_graph
from qfinder.core.model.folder import ModelFolder
from qfinder.core.model.info import detect_family
from qfinder.core.model.loader import text_encoder
from qfinder.core.model.optimize_candidates import (
    WeightedMatMul,
    build_dynamic_int8,
    name_unnamed_nodes,
    save_model,
    weighted_matmuls,
)
from qfinder.core.model.optimize_gate import GateSample

ALPHA = 0.5  # SmoothQuant's migration strength: half the range moves into the weights
STATS_TOKENS = 384  # longest text measured: as long as the chunks indexing embeds
_NORMS = ("SimplifiedLayerNormalization", "SkipSimplifiedLayerNormalization", "LayerNormalization",
          "RMSNormalization", "SkipLayerNormalization")


@dataclass(frozen=True)
class SmoothSite:
    activation: str  # the tensor X the MatMuls read
    producer: str  # the initializer that divides by s: a norm's weight, or up_proj's weight
    producer_axis: int  # its axis of X's channels (0 for a 1-D norm weight, 1 for a MatMul weight [in, out])
    weights: tuple[str, ...]  # the readers' weight initializers [in, out]: row j multiplied by s_j


def smooth_sites(model: onnx.ModelProto) -> list[SmoothSite]:
    """Every activation whose channels can be rescaled exactly (see the module doc)."""
    graph = model.graph
    constants = {t.name: t for t in graph.initializer}
    uses = Counter(name for node in graph.node for name in node.input)
    readers: dict[str, list[onnx.NodeProto]] = defaultdict(list)
    producers: dict[str, onnx.NodeProto] = {}
    for node in graph.node:
        for name in node.input:
            readers[name].append(node)
        for name in node.output:
            producers[name] = node
    outputs = {o.name for o in graph.output}
    sites = []
    for activation, nodes in readers.items():
        weights = [n.input[1] for n in nodes if n.op_type == "MatMul" and len(n.input) == 2
                   and n.input[0] == activation and n.input[1] in constants]
        if (not weights or len(weights) != len(nodes) or activation in outputs or activation not in producers
                or any(uses[w] != 1 or not _float(constants[w], 2) for w in weights)
                or len({constants[w].dims[0] for w in weights}) != 1):
            continue
        found = _producer(producers[activation], activation, constants, uses, producers, readers)
        if found is None:
            continue
        producer, axis = found
        channels = constants[weights[0]].dims[0]
        if _float(constants[producer], 1 + axis) and constants[producer].dims[axis] == channels:
            sites.append(SmoothSite(activation, producer, axis, tuple(weights)))
    return sites


def _float(tensor: onnx.TensorProto, rank: int) -> bool:
    return tensor.data_type == onnx.TensorProto.FLOAT and len(tensor.dims) == rank


def _producer(node: onnx.NodeProto, activation: str, constants: dict[str, onnx.TensorProto], uses: Counter,
              producers: dict[str, onnx.NodeProto],
              readers: dict[str, list[onnx.NodeProto]]) -> tuple[str, int] | None:
    """(initializer, channel axis) that scales X's channels when divided, or None."""
    def single_use_constant(name: str, rank: int) -> bool:
        return name in constants and uses[name] == 1 and len(constants[name].dims) == rank

    if node.op_type in _NORMS and node.output[0] == activation:
        skip = node.op_type.startswith("Skip")  # (input, skip, gamma, beta?, …) against (X, scale, bias?)
        scale = node.input[2 if skip else 1] if len(node.input) > (2 if skip else 1) else ""
        bias = node.input[3 if skip else 2] if len(node.input) > (3 if skip else 2) else ""
        return (scale, 0) if single_use_constant(scale, 1) and not bias else None  # a bias would need scaling too
    if node.op_type != "Mul" or len(node.input) != 2:
        return None
    for mine, other in (node.input, reversed(node.input)):
        if single_use_constant(mine, 1) and other not in constants:
            return mine, 0  # a norm written out: Mul(weight, normalized)
    for mine, other in (node.input, reversed(node.input)):
        up = producers.get(mine)
        if (up is not None and up.op_type == "MatMul" and len(readers[mine]) == 1 and other not in constants
                and len(up.input) == 2 and single_use_constant(up.input[1], 2)):
            return up.input[1], 1  # act(gate) * up: up_proj's output columns
    return None


@dataclass(frozen=True)
class SmoothedGraph:
    """The fp32 graph with the scales folded in, and how many activations were rescaled."""

    path: Path
    sites: int
    matmuls: list[WeightedMatMul]

    def int8(self, where: Path, kept_fp32: Iterable[str] = ()) -> None:
        """Dynamic int8 of this graph as `where`/model.onnx (replacing an earlier build): every
        weighted MatMul in int8 but those of the `kept_fp32` groups."""
        for old in where.glob("model.onnx*"):
            old.unlink()
        groups = frozenset(m.group for m in self.matmuls) - set(kept_fp32)
        build_dynamic_int8(self.path, where / "model.onnx", self.matmuls, groups)


@contextmanager
def smoothed_graph(folder: ModelFolder, scratch: Path, sample: GateSample) -> Iterator[SmoothedGraph]:
    """`folder`'s graph scaled on the sample's calibration texts, built once in `scratch` for the
    int8 builds made from it; `scratch` is removed on leaving, also when building failed."""
    try:
        path, sites = build_smoothed(folder, scratch, calibration_texts(sample))
        yield SmoothedGraph(path, sites, weighted_matmuls(onnx.load(str(path), load_external_data=False)))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def calibration_texts(sample: GateSample) -> list[str]:
    """The texts whose activations set the scales: the first half of the sample's passages and the
    long texts made of them. The gate then also checks texts the scales never saw (the other half):
    calibrating and gating on the same texts alone would flatter the candidate. On the 0.6B
    architecture (random weights) scales from the whole sample passed it at min cosine 0.9965 but
    measured 0.9935 on 24 cisi chunks."""
    half = sample.passages[:len(sample.passages) // 2]
    return [*half, *GateSample(sample.queries, half).long_texts]


def build_smoothed(folder: ModelFolder, work: Path, texts: list[str]) -> tuple[Path, int]:
    """The fp32 graph with the scales folded in, as `work`/model.onnx, and how many activations
    were rescaled. Writes the graph twice (once returning the activations, to measure them)."""
    model = onnx.load(str(folder.onnx_path))  # with its weights
    name_unnamed_nodes(model)  # quantize_dynamic picks the MatMuls by name
    sites = smooth_sites(model)
    if not sites:
        raise ModelError(f"No activation of {folder.onnx_path} can be rescaled exactly.",
                         "Its norms and projections are not in a pattern qfinder recognises; "
                         "plain dynamic int8 is the int8 candidate for it.")
    work.mkdir(parents=True, exist_ok=True)
    stats = work / "stats.onnx"
    outputs = len(model.graph.output)
    model.graph.output.extend(onnx.helper.make_tensor_value_info(site.activation, onnx.TensorProto.FLOAT, None)
                              for site in sites)
    save_model(model, stats)  # a big model's weights move to the external file: read it back below
    maxima = activation_maxima(folder, stats, [site.activation for site in sites], texts)
    model = onnx.load(str(stats))
    del model.graph.output[outputs:]
    fold(model, sites, maxima)
    save_model(model, work / "model.onnx")
    for leftover in work.glob("stats.onnx*"):
        leftover.unlink()
    return work / "model.onnx", len(sites)


def activation_maxima(folder: ModelFolder, stats_graph: Path, activations: list[str],
                      texts: list[str]) -> dict[str, np.ndarray]:
    """max |X_j| per channel of each activation over `texts`, one text per run (a 0.6B model's
    activations of a whole batch would take gigabytes)."""
    from qfinder.core.model import runtime

    session = runtime.ort.InferenceSession(str(stats_graph), sess_options=runtime.session_options(),
                                           providers=["CPUExecutionProvider"])
    spec = read_graph(session, folder.config)
    _, encoder = text_encoder(folder, detect_family(folder))  # as the engine feeds it: Qwen3's EOS kept
    maxima: dict[str, np.ndarray] = {}
    for row in encoder.encode(texts, STATS_TOKENS).ids:
        ids = np.array([row or [0]], dtype=np.int64)
        values = session.run(activations, build_feeds(spec, ids, np.ones_like(ids)))
        for name, value in zip(activations, values, strict=True):
            channel_max = np.abs(np.asarray(value, np.float32)).reshape(-1, value.shape[-1]).max(axis=0)
            maxima[name] = np.maximum(maxima.get(name, channel_max), channel_max)
    return maxima


def fold(model: onnx.ModelProto, sites: list[SmoothSite], maxima: dict[str, np.ndarray],
         alpha: float = ALPHA) -> None:
    """Rescale `model`'s initializers in place: X_j / s_j at its producer, W[j, :] * s_j."""
    constants = {t.name: t for t in model.graph.initializer}
    for site in sites:
        weights = [numpy_helper.to_array(constants[w]) for w in site.weights]
        scales = smoothing_scales(maxima[site.activation], np.max([np.abs(w).max(axis=1) for w in weights], axis=0),
                                  alpha)
        producer = numpy_helper.to_array(constants[site.producer])
        shape = (-1,) if site.producer_axis == 0 else (1, -1)
        _replace(constants[site.producer], producer / scales.reshape(shape))
        for name, weight in zip(site.weights, weights, strict=True):
            _replace(constants[name], weight * scales[:, None])


def smoothing_scales(x_max: np.ndarray, w_max: np.ndarray, alpha: float = ALPHA) -> np.ndarray:
    """s_j = max|X_j|^a / max|W_j|^(1-a); 1 where a channel never moves or has no weight."""
    x, w = x_max.astype(np.float64), w_max.astype(np.float64)
    usable = (x > 0) & (w > 0)
    scales = np.ones_like(x)
    scales[usable] = x[usable] ** alpha / w[usable] ** (1 - alpha)
    return np.clip(scales, 1e-4, 1e4).astype(np.float32)


def _replace(tensor: onnx.TensorProto, values: np.ndarray) -> None:
    """`values` into `tensor`, keeping its element type (read from its header: no second decode)."""
    dtype = onnx.helper.tensor_dtype_to_np_dtype(tensor.data_type)
    tensor.CopyFrom(numpy_helper.from_array(values.astype(dtype), tensor.name))
