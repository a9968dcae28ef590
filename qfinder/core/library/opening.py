"""The parts `Library.open` puts together: the write lock, the remembered settings, the model.

Kept apart from `Library` so that the facade reads as what a library does, and these as how
one comes to be opened.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from qfinder.core.config import LibrarySettings
from qfinder.core.errors import IndexError_, ModelError
from qfinder.core.indexing.walk import ExcludeRules
from qfinder.core.library.writelock import WriteLock, WriterBusyError
from qfinder.core.paths import ensure_private_dir

if TYPE_CHECKING:
    from qfinder.core.model.protocol import TextEmbedder

CATALOG_NAME = "catalog.db"
INDEX_FOLDER = "indexes"
BUSY_REASON = "another qfinder process is indexing this data folder; indexing resumes when it finishes"


@dataclass(frozen=True)
class ModelRuntime:
    """How to run the remembered model: which variant file of its folder, how many CPU threads."""

    variant: str | None = None  # e.g. "fp32", "int8"; None: the folder's default graph
    threads: int | None = None  # onnxruntime intra-op threads; None: onnxruntime's choice


def take_lock(folder: Path, writer: bool | Literal["prefer"]) -> tuple[WriteLock | None, str | None]:
    """(the write lock or None, why read-only): writer=True raises WriterBusyError when another
    process writes; "prefer" falls back to reading an existing catalog."""
    if not writer:
        if not (folder / CATALOG_NAME).exists():
            raise IndexError_(f"No qfinder index in {folder}.",
                              "Index a folder first: qfinder index PATH --model DIR")
        return None, None
    ensure_private_dir(folder)
    lock = WriteLock(folder)
    try:
        lock.acquire()
    except WriterBusyError:
        if writer != "prefer" or not (folder / CATALOG_NAME).exists():
            raise
        return None, BUSY_REASON
    return lock, None


def writer_free(data_dir: str | os.PathLike[str]) -> bool:
    """Whether no other process holds the write lock now (taken and released at once)."""
    if not Path(data_dir).is_dir():
        return True
    lock = WriteLock(Path(data_dir))
    try:
        lock.acquire()
    except (WriterBusyError, OSError):
        return False
    lock.release()
    return True


def chosen_settings(folder: Path, model_folder: str | None, provider: str | None) -> LibrarySettings:
    settings = LibrarySettings.load(folder)
    if model_folder is not None:
        settings = settings.with_changes(model_folder=str(Path(model_folder).expanduser().resolve()))
    if provider is not None:
        settings = settings.with_changes(provider=provider)
    return settings


def load_embedder(settings: LibrarySettings, runtime: ModelRuntime) -> TextEmbedder:
    from qfinder.core.model import Embedder, EmbedOptions  # onnxruntime only when a model is used

    folder = settings.model_folder or ""
    if not Path(folder).is_dir():
        raise ModelError(f"The model folder {folder} does not exist.",
                         "Pass --model DIR with a downloaded model folder.")
    return Embedder.from_folder(folder, provider=settings.provider, variant=runtime.variant,
                                options=EmbedOptions(threads=runtime.threads))


def skipping_data_dir(rules: ExcludeRules, data_dir: Path) -> ExcludeRules:
    """`rules` that never index the data folder itself (its catalog, graphs, settings), also
    when it lies inside an indexed root."""
    own = {os.path.abspath(data_dir), os.path.realpath(data_dir)}
    return replace(rules, skip_folders=tuple(dict.fromkeys((*rules.skip_folders, *sorted(own)))))
