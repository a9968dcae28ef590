"""onnxruntime sessions for a desktop app: telemetry off, no spinning, honest provider report.

ORT_DISABLE_TELEMETRY must be set before onnxruntime is first imported (ORT 1.32 otherwise writes
a device id and a telemetry queue under ~/.cache/Microsoft), so this module sets it at import time
and every other qfinder module reaches onnxruntime through here.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")

import onnxruntime as ort  # noqa: E402  (must follow the environment variable above)

from qfinder.core.errors import ModelError  # noqa: E402
from qfinder.core.state import ProviderReport  # noqa: E402

log = logging.getLogger(__name__)

PROVIDERS = {
    "cuda": "CUDAExecutionProvider",
    "directml": "DmlExecutionProvider",
    "coreml": "CoreMLExecutionProvider",
    "cpu": "CPUExecutionProvider",
}
AUTO_ORDER = ("cuda", "directml", "coreml", "cpu")
_SHORT = {v: k for k, v in PROVIDERS.items()}

if hasattr(ort, "disable_telemetry_events"):
    ort.disable_telemetry_events()


def available_providers() -> list[str]:
    """Short names ("cuda", "cpu", …) of the providers this onnxruntime build offers."""
    offered = set(ort.get_available_providers())
    return [short for short in AUTO_ORDER if PROVIDERS[short] in offered]


def wanted_provider(requested: str) -> str:
    """The short provider name to try first for a request ("auto" picks the best one offered)."""
    requested = requested.lower()
    if requested == "auto":
        return available_providers()[0] if available_providers() else "cpu"
    if requested not in PROVIDERS:
        raise ModelError(f"Unknown execution provider '{requested}'.",
                         f"Use one of: auto, {', '.join(PROVIDERS)}.")
    return requested


def session_options(threads: int | None = None) -> ort.SessionOptions:
    options = ort.SessionOptions()
    # Spinning threads burn a core while idle; a desktop app is idle most of the time.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.add_session_config_entry("session.inter_op.allow_spinning", "0")
    # Shapes vary per batch: memory patterns and the CPU arena only hold on to peak memory.
    options.enable_mem_pattern = False
    options.enable_cpu_mem_arena = False
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    # Failures reach the caller as exceptions with hints; ORT's own stderr lines would only add noise.
    options.log_severity_level = 4
    if threads:
        options.intra_op_num_threads = threads
    return options


def create_session(onnx_path: Path, requested: str = "auto",
                   threads: int | None = None) -> tuple[ort.InferenceSession, ProviderReport]:
    """Open the model from its path (external data must sit beside it) and report the provider used."""
    first = wanted_provider(requested)
    providers = [PROVIDERS[first]] + ([] if first == "cpu" else [PROVIDERS["cpu"]])
    missing = PROVIDERS[first] not in ort.get_available_providers()
    try:
        session = ort.InferenceSession(str(onnx_path), sess_options=session_options(threads),
                                       providers=[p for p in providers if p in ort.get_available_providers()])
    except Exception as exc:  # onnxruntime raises its own pybind exception types
        raise session_error(onnx_path, exc) from exc
    used = session.get_providers()[0] if session.get_providers() else PROVIDERS["cpu"]
    return session, _report(requested, first, used, missing)


def _report(requested: str, first: str, used: str, missing: bool) -> ProviderReport:
    used_short = _SHORT.get(used, used)
    reason = None
    if used_short != first:
        reason = (f"this onnxruntime build has no {PROVIDERS[first]} "
                  f"(available: {', '.join(available_providers())})" if missing
                  else f"{PROVIDERS[first]} could not be initialised (drivers/libraries missing?)")
        log.warning("provider %s requested, running on %s: %s", first, used_short, reason)
    return ProviderReport(requested=requested, used=used_short, fallback_reason=reason)


def session_error(onnx_path: Path, exc: Exception) -> ModelError:
    text = str(exc)
    lowered = text.lower()
    if "external" in lowered or "onnx_data" in lowered or "data file" in lowered:
        hint = "Keep model.onnx_data next to model.onnx under its original name, as real files (no symlinks)."
    elif "protobuf" in lowered or "parse" in lowered:
        hint = "The file is damaged or truncated: download the model again."
    elif "not implemented" in lowered or "opset" in lowered or "unsupported" in lowered:
        hint = "The model needs a newer onnxruntime: `pip install -U onnxruntime`."
    else:
        hint = "Check that the folder holds a complete ONNX export; download it again if unsure."
    return ModelError(f"onnxruntime cannot load {onnx_path}: {text.splitlines()[0] if text else exc!r}", hint)


def new_run_options(terminate: bool = False) -> ort.RunOptions:
    options = ort.RunOptions()
    options.log_severity_level = 3
    options.terminate = terminate
    return options
