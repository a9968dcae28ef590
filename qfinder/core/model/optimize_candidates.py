"""The precisions `models optimize` can build, each as a graph beside a copy of the folder's side files.

* int8-matmulnbits: weight-only block-wise 8-bit (block 128, symmetric, accuracy_level 4 = int8
  compute on CPU), activations stay fp32 until each block is multiplied.
* int8-dynamic: onnxruntime's quantize_dynamic (MatMulInteger, int8 weights per output channel,
  activations quantized per tensor at run time) on the projection MatMuls of the chosen groups
  only; which groups stay fp32 is measured (optimize_sensitivity.py), not assumed.
* bf16: onnxruntime's CPU provider is asked whether it can run a bf16 MatMul at all; when it
  cannot, the candidate is reported as skipped with that reason instead of shipping a graph that
  would fall back to slow conversions.

SmoothQuant-style scaling before dynamic int8 is in optimize_smooth.py.
"""

from __future__ import annotations

import logging
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper

from qfinder.core.errors import ModelError
from qfinder.core.model import runtime
from qfinder.core.model.folder import find_model_folder

log = logging.getLogger(__name__)

_EXTERNAL_LIMIT = 1_500_000_000  # protobuf files cannot exceed 2 GB; keep weights outside above this
# Transformer projections are named after their role in every common export (q_proj, down_proj, …);
# a graph without such names forms one group, so it is quantized all or nothing.
_PROJECTION = re.compile(r"([A-Za-z]+_proj)")
_BF16_FLAGS = ("avx512_bf16", "amx_bf16")


@dataclass(frozen=True)
class WeightedMatMul:
    node: str  # node name, as quantize_dynamic's nodes_to_quantize wants it
    group: str  # "q_proj", "down_proj", … or "matmul" when the names say nothing


def weighted_matmuls(model: onnx.ModelProto) -> list[WeightedMatMul]:
    """MatMuls whose second input is a stored weight (not attention's activation x activation)."""
    weights = {tensor.name for tensor in model.graph.initializer}
    found = []
    for node in model.graph.node:
        if node.op_type == "MatMul" and len(node.input) == 2 and node.input[1] in weights:
            match = _PROJECTION.search(f"{node.input[1]} {node.name}")
            found.append(WeightedMatMul(node.name, match.group(1) if match else "matmul"))
    return found


def name_unnamed_nodes(model: onnx.ModelProto) -> None:
    """Give every nameless node a unique name: quantize_dynamic picks nodes by name."""
    taken = {node.name for node in model.graph.node}
    for index, node in enumerate(model.graph.node):
        if not node.name:
            node.name = next(name for n in range(index, index + len(taken) + 2)
                             if (name := f"{node.op_type}_qf{n}") not in taken)
            taken.add(node.name)


def save_model(model: onnx.ModelProto, dst: Path) -> None:
    weights = sum(len(t.raw_data) for t in model.graph.initializer)
    onnx.save_model(model, str(dst), save_as_external_data=weights > _EXTERNAL_LIMIT,
                    all_tensors_to_one_file=True, location=dst.name + "_data")


def build_matmulnbits(src: Path, dst: Path) -> None:
    from onnxruntime.quantization.matmul_nbits_quantizer import MatMulNBitsQuantizer

    # The quantizer logs every node at INFO on its own handler; keep its warnings only.
    logging.getLogger("onnxruntime.quantization.matmul_nbits_quantizer").setLevel(logging.WARNING)
    model = onnx.load(str(src))  # with its external weights
    quantizer = MatMulNBitsQuantizer(model, bits=8, block_size=128, is_symmetric=True, accuracy_level=4)
    quantizer.process()
    quantized = quantizer.model.model
    if not any(node.op_type == "MatMulNBits" for node in quantized.graph.node):
        raise ModelError(f"No MatMul weights in {src} could be quantized.",
                         "This graph has no constant MatMul weights; keep using it as it is.")
    save_model(quantized, dst)


def build_dynamic_int8(src: Path, dst: Path, matmuls: list[WeightedMatMul], groups: frozenset[str]) -> None:
    """Quantize the MatMuls of `groups`; every other MatMul stays fp32."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    nodes = [m.node for m in matmuls if m.group in groups]
    if not nodes:
        raise ModelError(f"No MatMul of {src} is in the groups {sorted(groups)}.",
                         "This graph has no constant MatMul weights; keep using it as it is.")
    big = sum(p.stat().st_size for p in src.parent.glob(src.name + "*")) > _EXTERNAL_LIMIT
    root = logging.getLogger()
    root.addFilter(_quiet_quantizer)
    try:
        # onnx's shape inference knows no onnxruntime op (a fused norm's output has no type), and
        # only fp32 graphs are optimized: tensors it cannot type are fp32.
        quantize_dynamic(src, dst, op_types_to_quantize=["MatMul"], nodes_to_quantize=nodes, per_channel=True,
                         weight_type=QuantType.QInt8, use_external_data_format=big,
                         extra_options={"DefaultTensorType": TensorProto.FLOAT})
    finally:
        root.removeFilter(_quiet_quantizer)


def _quiet_quantizer(record: logging.LogRecord) -> bool:
    # quantize_dynamic logs on the root logger: a line per tensor at INFO, and advice to run shape
    # inference first, which cannot help here (projection weights have static shapes). Users would
    # only wonder; its errors still show.
    return record.levelno >= logging.ERROR or "quantization" not in Path(record.pathname).parts


def bf16_skip_reason(cpu_flags: set[str]) -> str:
    """Why no bf16 candidate is built here (this onnxruntime or this CPU cannot make it fast)."""
    if not cpu_flags & set(_BF16_FLAGS):
        return "this CPU has no AVX512-BF16 or AMX-BF16 instructions"
    if not ort_runs_bf16_matmul():
        return (f"onnxruntime {runtime.ort.__version__} has no bf16 MatMul kernel on the CPU, "
                "so a bf16 model would run slower than fp32")
    return "bf16 conversion is not built yet; fp32 and int8 candidates only"


def ort_runs_bf16_matmul() -> bool:
    size = 16
    weight = helper.make_tensor("w", TensorProto.BFLOAT16, [size, size], np.zeros(size * size, np.uint16).tobytes(),
                                raw=True)
    graph = helper.make_graph([helper.make_node("MatMul", ["x", "w"], ["y"])], "bf16_probe",
                              [helper.make_tensor_value_info("x", TensorProto.BFLOAT16, [1, size])],
                              [helper.make_tensor_value_info("y", TensorProto.BFLOAT16, [1, size])], [weight])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    try:
        runtime.ort.InferenceSession(model.SerializeToString(), sess_options=runtime.session_options(),
                                     providers=["CPUExecutionProvider"])
    except Exception:  # onnxruntime's NOT_IMPLEMENTED has no importable exception type
        return False
    return True


def copy_side_files(root: Path, work: Path) -> None:
    """Tokenizer, configs and sentence-transformers folders; not the ONNX files."""
    work.mkdir(parents=True, exist_ok=True)
    for item in root.iterdir():
        # Dot files are caches and markers of the source folder (.cache, a bench's .built), not the model's.
        if item.name.startswith(".") or item.name in ("onnx", "qfinder_optimize.json") or item.suffix == ".part":
            continue
        if ".onnx" in item.name:  # model.onnx, model.onnx_data, model.onnx.data
            continue
        if item.is_dir():
            shutil.copytree(item, work / item.name)
        else:
            shutil.copy2(item, work / item.name)
    if not (work / "tokenizer.json").exists():
        shutil.copy2(find_model_folder(root).tokenizer_path, work / "tokenizer.json")
