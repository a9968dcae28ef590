"""The parts `Library.open` puts together: the write lock, the remembered settings, the model.

Kept apart from `Library` so that the facade reads as what a library does, and these as how
one comes to be opened.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path
from typing import Literal

from qfinder.core.config import LibraryConfig
from qfinder.core.errors import IndexError_
from qfinder.core.indexing.indexer import IndexSettings
from qfinder.core.indexing.walk import ExcludeRules
from qfinder.core.library.sources import MODEL_CACHE
from qfinder.core.library.writelock import WriteLock, WriterBusyError
from qfinder.core.paths import ensure_private_dir

CATALOG_NAME = "catalog.db"
INDEX_FOLDER = "indexes"
BUSY_REASON = "another qfinder process is indexing this data folder; indexing resumes when it finishes"


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


def chosen_config(saved: LibraryConfig, model_folder: str | None, provider: str | None) -> LibraryConfig:
    """The folder's `saved` configuration, with a model or provider given now (a writer
    remembers them)."""
    config = saved
    if model_folder is not None:
        config = config.with_changes(model_folder=str(Path(model_folder).expanduser().resolve()))
    if provider is not None:
        config = config.with_changes(provider=provider)
    return config


def indexing_of(config: LibraryConfig, steps: IndexSettings) -> IndexSettings:
    """How files are cut and read, from the configuration; how much a step does, from `steps`
    (the CLI's long steps or the engine's short ones: that never changes the index)."""
    limits = replace(steps.limits, max_file_bytes=config.max_file_mb * 1_000_000)
    if config.on_server:  # one call per step: the client cuts it into requests, several in flight
        steps = replace(steps, batch_tokens=steps.step_tokens)
    return replace(steps, chunk_tokens=config.chunk_tokens,
                   max_chunks_per_file=config.max_chunks_per_file, limits=limits)


def rules_of(config: LibraryConfig) -> ExcludeRules:
    return ExcludeRules(include_hidden=config.index_hidden, globs=config.exclude_globs)


def model_cache_bytes(data_dir: Path) -> int:
    """Disk taken by the optimized graphs (each about the model's size, or twice it)."""
    graphs = data_dir / MODEL_CACHE / "graphs"
    return sum(p.stat().st_size for p in graphs.rglob("*") if p.is_file()) if graphs.is_dir() else 0


def skipping_data_dir(rules: ExcludeRules, data_dir: Path) -> ExcludeRules:
    """`rules` that never index the data folder itself (its catalog, graphs, settings), also
    when it lies inside an indexed root."""
    own = {os.path.abspath(data_dir), os.path.realpath(data_dir)}
    return replace(rules, skip_folders=tuple(dict.fromkeys((*rules.skip_folders, *sorted(own)))))
