"""`LibraryOpener`: opens a data folder's `Library` with fixed settings, and swaps in a re-embedded one.

    opener = LibraryOpener(data_dir, index_settings=..., rules=..., runtime=...)
    library = opener.open(model_folder)     # the writer; read-only while another process writes
    staged = opener.open_staging(config)    # an empty second library: new model or chunking
    library = opener.promote(library, staged)

A model switch must not leave the person without search while every file is re-embedded, and
the catalog holds one model's vectors only (its pipeline stamp). So the new model indexes into
a staging data folder (`<data dir>/next-model/`, its own catalog, indexes and lock) while the
current one keeps answering; `promote` then closes both and moves the staged files over the
current ones. Every file carries the pipeline stamp, so an interrupted move can never mix two
models' vectors: at worst the next start re-embeds.
"""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path
from typing import Literal

from qfinder.core.config import SETTINGS_NAME, LibraryConfig, ModelRuntime
from qfinder.core.indexing.indexer import IndexSettings
from qfinder.core.indexing.walk import ExcludeRules
from qfinder.core.library.library import CATALOG_NAME, INDEX_FOLDER, Library
from qfinder.core.paths import ensure_private_dir

log = logging.getLogger(__name__)

STAGING_FOLDER = "next-model"
# The engine's default step: a query waits for at most one step, so steps are kept much smaller
# than the CLI's (IndexSettings() embeds 4096 tokens per step: seconds on a 0.6B model on CPU).
# step_tokens is the ceiling; each step is sized to last about TARGET_STEP_S at the measured rate.
ENGINE_STEP = IndexSettings(step_files=8, step_tokens=1024)
TARGET_STEP_S = 0.5
_MOVED = (SETTINGS_NAME, CATALOG_NAME, f"{CATALOG_NAME}-wal", f"{CATALOG_NAME}-shm")


class LibraryOpener:
    def __init__(self, data_dir: str | os.PathLike[str], *,
                 index_settings: IndexSettings | None = None,
                 rules: ExcludeRules | None = None,
                 target_step_s: float | None = TARGET_STEP_S,
                 runtime: ModelRuntime | None = None) -> None:
        """Libraries follow their folder's LibraryConfig with the engine's short steps;
        `index_settings`, `rules` and `runtime` replace the configuration's (tests)."""
        self.data_dir = Path(data_dir)
        self._runtime = runtime
        self._index_settings = index_settings
        self._rules = rules
        self._target_step_s = target_step_s  # None: always step_tokens

    def _open(self, folder: Path, model_folder: str | None,
              writer: bool | Literal["prefer"] = True) -> Library:
        return Library.open(folder, writer=writer, model_folder=model_folder, steps=ENGINE_STEP,
                            index_settings=self._index_settings,
                            rules=self._rules, runtime=self._runtime,
                            target_step_s=self._target_step_s)

    def open(self, model_folder: str | None) -> Library:
        """The writer; read-only (searching) while another process holds the write lock."""
        return self._open(self.data_dir, model_folder, writer="prefer")

    def writer_free(self) -> bool:
        return Library.writer_free(self.data_dir)

    def open_staging(self, config: LibraryConfig) -> Library:
        """An empty library for `config` beside the current one (a model or chunking change)."""
        staging = self.data_dir / STAGING_FOLDER
        shutil.rmtree(staging, ignore_errors=True)  # a switch interrupted earlier starts over
        ensure_private_dir(staging)
        config.save(staging)
        return self._open(staging, None)

    def promote(self, current: Library, staged: Library) -> Library:
        """Close both, move the staged catalog, indexes and settings over the current ones."""
        staged.close()
        current.close()
        staging = self.data_dir / STAGING_FOLDER
        for name in _MOVED:
            source = staging / name
            if source.exists():
                os.replace(source, self.data_dir / name)
            else:
                (self.data_dir / name).unlink(missing_ok=True)
        shutil.rmtree(self.data_dir / INDEX_FOLDER, ignore_errors=True)
        if (staging / INDEX_FOLDER).exists():
            os.replace(staging / INDEX_FOLDER, self.data_dir / INDEX_FOLDER)
        shutil.rmtree(staging, ignore_errors=True)
        log.info("switched to the re-embedded index")
        return self.open(None)
