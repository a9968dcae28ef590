"""Find and check a model folder before onnxruntime sees it.

Three real layouts are accepted (design.md §3):
  * sentence-transformers ONNX: ``onnx/model.onnx`` + ``onnx/model.onnx_data``, ST config files at the root;
  * onnx-community / transformers.js: ``onnx/model.onnx``, ``onnx/model_fp16.onnx``, ``onnx/model_q4.onnx``…;
  * plain: ``model.onnx`` + ``tokenizer.json`` (+ optional ST config files).
Every problem becomes a ModelError that says what to do, never an onnxruntime traceback.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import onnx
from google.protobuf.message import DecodeError

from qfinder.core.errors import ModelError

log = logging.getLogger(__name__)

# Variant name -> file name, as published by onnx-community repos; other names map to model_<v>.onnx.
VARIANT_FILES = {
    "fp32": "model.onnx",
    "fp16": "model_fp16.onnx",
    "q4": "model_q4.onnx",
    "q4f16": "model_q4f16.onnx",
    "int8": "model_int8.onnx",
    "uint8": "model_uint8.onnx",
    "quantized": "model_quantized.onnx",
    "bnb4": "model_bnb4.onnx",
}
GET_A_MODEL = "Choose the folder that holds model.onnx (or onnx/model.onnx), or run `qfinder models download NAME`."


@dataclass(frozen=True)
class ModelFolder:
    """What qfinder found in a model folder: files and the sentence-transformers settings."""

    root: Path
    onnx_path: Path
    variant: str
    tokenizer_path: Path
    config: dict[str, Any] = field(default_factory=dict)
    prompts: dict[str, str] = field(default_factory=dict)
    pooling: str | None = None  # "lasttoken" | "mean" | "cls" from 1_Pooling/config.json
    normalize: bool = True
    max_seq_length: int | None = None
    quantization: str = "fp32"  # "fp32" | "fp16" | "int8-matmulnbits" | "int4-matmulnbits" | "int8-dynamic"


def find_model_folder(folder: str | Path, variant: str | None = None) -> ModelFolder:
    root = Path(folder).expanduser()
    if not root.is_dir():
        raise ModelError(f"Model folder {root} does not exist or is not a folder.", GET_A_MODEL)
    onnx_path = _find_onnx(root, variant)
    tokenizer_path = _find_tokenizer(root, onnx_path)
    quantization = check_onnx_file(onnx_path)
    st = _read_json(root / "config_sentence_transformers.json")
    pooling_cfg = _read_json(root / "1_Pooling" / "config.json")
    bert_cfg = _read_json(root / "sentence_bert_config.json")
    return ModelFolder(
        root=root,
        onnx_path=onnx_path,
        variant=variant or _variant_of(onnx_path),
        tokenizer_path=tokenizer_path,
        config=_read_json(root / "config.json") or _read_json(onnx_path.parent / "config.json"),
        prompts={k: str(v) for k, v in (st.get("prompts") or {}).items()},
        pooling=pooling_mode(pooling_cfg),
        normalize=_has_normalize(root),
        max_seq_length=_int_or_none(bert_cfg.get("max_seq_length")),
        quantization=quantization,
    )


def _find_onnx(root: Path, variant: str | None) -> Path:
    name = VARIANT_FILES.get(variant, f"model_{variant}.onnx") if variant else "model.onnx"
    for where in (root, root / "onnx"):
        if (where / name).is_file():
            return where / name
    if variant is None:
        candidates = sorted(root.glob("*.onnx")) + sorted(root.glob("onnx/*.onnx"))
        if len(candidates) == 1:
            return candidates[0]
        if candidates:
            names = ", ".join(p.name for p in candidates)
            raise ModelError(f"{root} holds several ONNX files ({names}) but no model.onnx.",
                             "Pick one with --variant (fp32, fp16, q4, int8, …).")
    available = sorted(p.name for p in [*root.glob("*.onnx"), *root.glob("onnx/*.onnx")])
    what = f"variant '{variant}' ({name})" if variant else "model.onnx"
    raise ModelError(f"No {what} in {root} (found: {', '.join(available) or 'no ONNX file'}).", GET_A_MODEL)


def _find_tokenizer(root: Path, onnx_path: Path) -> Path:
    for where in (root, onnx_path.parent):
        if (where / "tokenizer.json").is_file():
            return where / "tokenizer.json"
    raise ModelError(f"No tokenizer.json in {root}.",
                     "Copy the model's tokenizer.json next to its config.json, or download the model again.")


def check_onnx_file(onnx_path: Path) -> str:
    """Parse the graph (without weights), check that every external-data file is there and whole,
    and return how its weights are stored (see ModelFolder.quantization)."""
    try:
        proto = onnx.load(str(onnx_path), load_external_data=False)
    except (DecodeError, ValueError, OSError, RuntimeError) as exc:
        raise ModelError(f"{onnx_path.name} in {onnx_path.parent} is damaged or truncated ({exc}).",
                         "Download the model again (an interrupted download leaves a partial file).") from exc
    if not proto.graph.node:
        raise ModelError(f"{onnx_path} holds no graph.", "Download the model again.")
    needed = external_data_extents(proto)
    for location, end in needed.items():
        data_file = onnx_path.parent / location
        if not data_file.is_file():
            raise ModelError(
                f"{onnx_path.name} stores its weights in '{location}', which is missing from {onnx_path.parent}.",
                f"Put '{location}' next to {onnx_path.name} under exactly that name (it must not be renamed), "
                "or download the model again.")
        if data_file.stat().st_size < end:
            raise ModelError(f"Weights file '{location}' is incomplete ({data_file.stat().st_size} of {end} bytes).",
                             "Download the model again; an interrupted download leaves a partial file.")
    return quantization_of(proto)


def quantization_of(proto: onnx.ModelProto) -> str:
    ops = {node.op_type for node in proto.graph.node}
    for node in proto.graph.node:
        if node.op_type == "MatMulNBits":
            bits = next((a.i for a in node.attribute if a.name == "bits"), 4)
            return f"int{bits}-matmulnbits"
    if ops & {"MatMulInteger", "DynamicQuantizeLinear", "QLinearMatMul"}:
        return "int8-dynamic"
    outputs = {o.type.tensor_type.elem_type for o in proto.graph.output}
    return "fp16" if onnx.TensorProto.FLOAT16 in outputs else "fp32"


def external_data_extents(proto: onnx.ModelProto) -> dict[str, int]:
    extents: dict[str, int] = {}
    for tensor in proto.graph.initializer:
        if tensor.data_location != onnx.TensorProto.EXTERNAL:
            continue
        info = {entry.key: entry.value for entry in tensor.external_data}
        end = int(info.get("offset", 0)) + int(info.get("length", 0))
        location = info.get("location", "")
        extents[location] = max(extents.get(location, 0), end)
    return extents


def pooling_mode(cfg: dict[str, Any]) -> str | None:
    if cfg.get("pooling_mode_lasttoken"):
        return "lasttoken"
    if cfg.get("pooling_mode_cls_token"):
        return "cls"
    if cfg.get("pooling_mode_mean_tokens"):
        return "mean"
    return None


def _has_normalize(root: Path) -> bool:
    # Without modules.json we normalise anyway: every caller compares vectors by cosine.
    modules = _read_json_any(root / "modules.json")
    if not isinstance(modules, list):
        return True
    return any(str(m.get("type", "")).endswith("Normalize") for m in modules if isinstance(m, dict))


def _variant_of(onnx_path: Path) -> str:
    for variant, name in VARIANT_FILES.items():
        if onnx_path.name == name:
            return variant
    stem = onnx_path.stem
    return stem.removeprefix("model_") if stem != "model" else "fp32"


def _read_json(path: Path) -> dict[str, Any]:
    data = _read_json_any(path)
    return data if isinstance(data, dict) else {}


def _read_json_any(path: Path) -> Any:
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        log.warning("ignoring unreadable %s: %s", path, exc)
        return None


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None
