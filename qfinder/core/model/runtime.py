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
from qfinder.core.model import graph_cache  # noqa: E402
from qfinder.core.state import GraphOrigin, ProviderReport  # noqa: E402

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
    # Shapes vary per batch, so memory patterns would only pin a peak. The arena stays on: without
    # it every large tensor of every layer is a fresh mmap whose pages fault in on first touch
    # (measured ~18 us a page in a VM), and glibc keeps the freed ones as fragments; each run then
    # gives the arena back (ARENA_SHRINK in new_run_options), so idle memory stays low. The arena's
    # first region is never shrunk: the one-text probe each open runs first keeps it small.
    options.enable_mem_pattern = False
    options.enable_cpu_mem_arena = True
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    # Failures reach the caller as exceptions with hints; ORT's own stderr lines would only add noise.
    options.log_severity_level = 4
    if threads:
        options.intra_op_num_threads = threads
    return options


def create_session(onnx_path: Path, requested: str = "auto", threads: int | None = None,
                   cache_dir: Path | None = None) -> tuple[ort.InferenceSession, ProviderReport, GraphOrigin]:
    """Open the model from its path (external data must sit beside it); report the provider used
    and where the optimized graph came from. With `cache_dir`, a CPU session comes from (or is
    saved to) the optimized-graph cache."""
    first = wanted_provider(requested)
    providers = [PROVIDERS[first]] + ([] if first == "cpu" else [PROVIDERS["cpu"]])
    missing = PROVIDERS[first] not in ort.get_available_providers()
    offered = [p for p in providers if p in ort.get_available_providers()]
    origin: GraphOrigin = "optimized"
    try:
        if cache_dir is not None and first == "cpu":  # GPU graphs hold no CPU-packed weights
            session, origin = _cached_session(onnx_path, offered, threads, cache_dir)
        else:
            session = ort.InferenceSession(str(onnx_path), sess_options=session_options(threads), providers=offered)
    except Exception as exc:  # onnxruntime raises its own pybind exception types
        raise session_error(onnx_path, exc) from exc
    used = session.get_providers()[0] if session.get_providers() else PROVIDERS["cpu"]
    return session, _report(requested, first, used, missing), origin


def graph_entry(onnx_path: Path, cache_dir: Path) -> graph_cache.GraphEntry:
    return graph_cache.entry_for(cache_dir, onnx_path, ort.__version__)


def _cached_session(onnx_path: Path, providers: list[str], threads: int | None,
                    cache_dir: Path) -> tuple[ort.InferenceSession, GraphOrigin]:
    entry = graph_entry(onnx_path, cache_dir)
    if entry.ready:
        session = _open_entry(entry, providers, threads)
        if session is not None:
            return session, "cached"
    if graph_cache.has_room(entry) and _save_entry(onnx_path, providers, threads, entry):
        # The session that saved holds every weight on the heap; one opened from the entry maps
        # them from its file (pages the OS can drop while the model idles): reopen at once.
        session = _open_entry(entry, providers, threads)
        if session is not None:
            return session, "saved"
    return ort.InferenceSession(str(onnx_path), sess_options=session_options(threads), providers=providers), "optimized"


def _open_entry(entry: graph_cache.GraphEntry, providers: list[str],
                threads: int | None) -> ort.InferenceSession | None:
    """A session on the cached graph; None (and the entry deleted) when it is damaged."""
    options = session_options(threads)
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL  # done when saved
    try:
        return ort.InferenceSession(str(entry.graph), sess_options=options, providers=providers)
    except Exception as exc:  # a damaged entry: the caller opens the model itself and writes it again
        log.warning("ignoring the cached graph %s: %s", entry.folder, str(exc).splitlines()[:1])
        graph_cache.discard(entry.folder)
        return None


def _save_entry(onnx_path: Path, providers: list[str], threads: int | None,
                entry: graph_cache.GraphEntry) -> bool:
    """Whether onnxruntime wrote the optimized graph into the cache; False when that failed (the
    caller opens the model plainly, which reports a broken model as such)."""
    partial = graph_cache.begin(entry)
    options = session_options(threads)
    options.optimized_model_filepath = str(partial / graph_cache.GRAPH)
    options.add_session_config_entry("session.optimized_model_external_initializers_file_name", graph_cache.DATA)
    options.add_session_config_entry("session.optimized_model_external_initializers_min_size_in_bytes", "1024")
    options.add_session_config_entry("session.save_external_prepacked_constant_initializers", "1")
    try:
        ort.InferenceSession(str(onnx_path), sess_options=options, providers=providers)
        graph_cache.commit(entry, partial)
    except Exception as exc:  # e.g. a full disk while writing: the cache is only an optimization
        log.info("could not cache the optimized graph of %s: %s", onnx_path, str(exc).splitlines()[:1])
        graph_cache.discard(partial)
        return False
    return True


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


ARENA_SHRINK = ("memory.enable_memory_arena_shrinkage", "cpu:0")


def new_run_options(terminate: bool = False) -> ort.RunOptions:
    options = ort.RunOptions()
    options.log_severity_level = 3
    options.add_run_config_entry(*ARENA_SHRINK)  # the run's buffers go back when it ends
    options.terminate = terminate
    return options
