"""The model work the setup dialog starts: listing, downloading, optimizing, checking folders.

These functions run on a background thread (see background.py) and call the core's model
registry, downloader and optimizer (qfinder.core.model.*). They raise QfinderError subclasses
with a message and a hint for the dialog to show.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qfinder.core.errors import CancelledError, DownloadError, ModelError

Report = Callable[[Any], None]
_OFFLINE_WORDS = ("offline", "connect", "resolve", "network", "unreachable", "timed out",
                  "name or service", "temporary failure")


@dataclass(frozen=True)
class ChoiceRow:
    name: str
    variant: str
    download: str
    ram: str
    note: str


def choice_rows() -> list[ChoiceRow]:
    """Every downloadable model variant with its sizes, for the setup dialog's table."""
    from qfinder.core.model.registry import REGISTRY

    return [ChoiceRow(spec.name, v.name, _gb(v.download_mb), f"~{_gb(v.ram_mb)} RAM", v.note)
            for spec in REGISTRY for v in spec.variants if not v.made_locally]


def _gb(megabytes: int) -> str:
    return f"{megabytes / 1024:.1f} GB" if megabytes >= 1000 else f"{megabytes} MB"


def download(name: str, variant: str, report: Report, cancel: threading.Event) -> Path:
    """Download into qfinder's models folder; cancelling raises from the progress callback."""
    from qfinder.core.model.download import download_model

    def progress(done: int, total: int, _filename: str) -> None:
        if cancel.is_set():
            raise CancelledError("Download cancelled.", "Start it again to resume where it stopped.")
        report((done, total))

    return download_model(name, variant, progress=progress)


def optimize(folder: str | Path, report: Report, cancel: threading.Event) -> Path:
    """The folder to use after optimizing `folder` for this CPU: the 8-bit copy (kept only if it
    matches fp32, ModelError if not) when it is faster here, else `folder` itself. Reports
    ("optimized", verdict) so the dialog can say which one it picked and why."""
    from qfinder.core.model.optimize import optimize_model, preferred_folder

    report(("optimizing", 0, 0))
    result = optimize_model(folder)
    report(("optimized", f"The 8-bit model is {result.verdict}."))
    return preferred_folder(result)


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
