"""The model work the setup dialog starts: listing, downloading, optimizing, checking folders.

These functions run on a background thread (see background.py) and call the core's model
registry, downloader and optimizer (qfinder.core.model.*). They raise QfinderError subclasses
with a message and a hint for the dialog to show.
"""

from __future__ import annotations

import importlib
import inspect
import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from qfinder.core.errors import DownloadError, ModelError

log = logging.getLogger(__name__)
Report = Callable[[Any], None]
_OFFLINE_WORDS = ("offline", "connect", "resolve", "network", "unreachable", "timed out",
                  "name or service", "temporary failure")


def choices() -> list[tuple[str, str, str]]:
    """(model name, variant, human description with download size and RAM) for every download."""
    from qfinder.core.model.registry import REGISTRY

    rows = []
    for spec in REGISTRY:
        for variant in spec.variants:
            if variant.made_locally:
                continue
            size = f"{variant.download_mb / 1024:.1f} GB download, ~{variant.ram_mb / 1024:.1f} GB RAM"
            rows.append((spec.name, variant.name, f"{size}; {variant.note}" if variant.note else size))
    return rows


def _core_function(module_name: str, *names: str) -> Callable[..., Any]:
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise DownloadError("This build of qfinder cannot download models.",
                            "Use a model folder on disk instead.") from exc
    for name in names:
        function = getattr(module, name, None)
        if callable(function):
            return function
    raise DownloadError(f"{module_name} has none of {names}.", "Use a model folder on disk instead.")


def _call(function: Callable[..., Any], positional: tuple[Any, ...], **optional: Any) -> Any:
    """Call with the optional keyword arguments the function actually accepts."""
    accepted = inspect.signature(function).parameters
    kwargs = {k: v for k, v in optional.items() if k in accepted}
    return function(*positional, **kwargs)


def download(name: str, variant: str, report: Report, cancel: threading.Event) -> Path:
    function = _core_function("qfinder.core.model.download", "download_model", "download")

    def progress(done: Any, total: Any = None, *_rest: Any) -> None:
        if cancel.is_set():
            from qfinder.core.errors import CancelledError

            raise CancelledError("Download cancelled.")
        report((done, total))

    result = _call(function, (name,), variant=variant, progress=progress, on_progress=progress,
                   cancel=cancel)
    return Path(getattr(result, "folder", result))


def optimize(folder: str | Path, report: Report, cancel: threading.Event) -> Path:
    function = _core_function("qfinder.core.model.optimize", "optimize_model", "optimize")
    result = _call(function, (Path(folder),), progress=lambda *a: report(("optimizing", 0, 0)),
                   cancel=cancel)
    return Path(getattr(result, "folder", getattr(result, "dest", result)))


def check_folder(folder: str) -> str:
    """A usable model folder, or ModelError saying what is wrong (missing model.onnx, …)."""
    from qfinder.core.model.folder import find_model_folder

    found = find_model_folder(folder)
    if not found.tokenizer_path.exists():
        raise ModelError(f"No tokenizer.json in {folder}.", "Copy the model's tokenizer.json beside it.")
    return str(found.root)


def looks_offline(exc: BaseException) -> bool:
    text = str(exc).lower()
    return isinstance(exc, (DownloadError, OSError)) and any(w in text for w in _OFFLINE_WORDS)
