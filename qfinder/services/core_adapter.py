"""IndexCore: the EngineCore the engine thread drives, on top of the core's `Library`.

    cores = LibraryCores(data_dir)            # a CoreProvider for EngineClient
    core = cores.open(model_folder)           # on the engine thread; takes the writer lock

Watcher batches are applied in ONE `Indexer.refresh_paths` call (removed + changed + scanned
together) so that a move reported as "old gone, new created" is recognised as a rename by the
core's stat-signature diff and nothing is re-embedded. A root is never purged for being away:
`mark_root(path, available=False)` only changes its state.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence

from qfinder.core.errors import QfinderError
from qfinder.core.extract.worker import default_extractor
from qfinder.core.indexing.exclude import is_excluded
from qfinder.core.indexing.indexer import Indexer
from qfinder.core.library.library import Library
from qfinder.core.paths import is_within as _under
from qfinder.core.results import SearchRequest, SearchResponse
from qfinder.core.state import FileFailure, IndexProgress, ModelSummary, ProviderReport, RootState
from qfinder.core.storage.catalog import Catalog
from qfinder.core.vectors.dim_index import DimIndex
from qfinder.core.vectors.indexes import VectorIndexes

log = logging.getLogger(__name__)

MIN_STEP_TOKENS = 64


class IndexCore:
    """One opened Library (catalog + indexer + vector indexes + searcher + embedder)."""

    def __init__(self, library: Library, target_step_s: float | None = None) -> None:
        # read-only: another process holds the write lock; this core only searches meanwhile
        self.read_only_reason: str | None = library.read_only_reason
        if library.indexer is None and self.read_only_reason is None:
            raise QfinderError("The engine needs the data folder opened for writing.")
        self.library = library
        self.catalog = library.catalog
        self._indexer: Indexer | None = library.indexer
        self.vectors = library.vectors
        self.searcher = library.searcher
        self.embedder = library.embedder
        self._failures: list[FileFailure] = []
        self._failed_seen = {f.path for f in self.catalog.failures(limit=100_000)}
        # read by the watcher's thread (is_excluded) without touching SQLite
        self._root_paths: tuple[str, ...] = self.roots()
        self._data_dir = os.path.abspath(library.data_dir)
        self.target_step_s = target_step_s
        self._memory_estimate: tuple[tuple[int, int, bool], int] | None = None  # (dim, gen, loaded), bytes

    # -- what is loaded --------------------------------------------------------------------
    @property
    def model_name(self) -> str | None:
        return self.embedder.info.name if self.embedder is not None else None

    @property
    def provider(self) -> ProviderReport | None:
        return self.embedder.provider if self.embedder is not None else None

    @property
    def dim(self) -> int | None:
        return self.library.dim

    @property
    def model_summary(self) -> ModelSummary | None:
        if self.embedder is None:
            return None
        info = self.embedder.info
        return ModelSummary(info.name, info.full_dim, info.min_dim, info.default_dim,
                            info.instruction_aware)

    def index_memory_bytes(self) -> int | None:
        """RAM of the current dimension's index: measured once loaded, else estimated."""
        dim = self.dim
        if dim is None or self.embedder is None:
            return None
        key = (dim, self.catalog.generation(), self.dim_ready(dim))
        if self._memory_estimate is None or self._memory_estimate[0] != key:
            # estimate() counts the catalog's vectors when `dim` is not loaded: once per change
            self._memory_estimate = (key, int(self.vectors.estimate(dim).ram_bytes))
        return self._memory_estimate[1]

    def recovery_notice(self) -> str | None:
        """What happened when the catalog was found unusable and moved aside on opening."""
        recovery = self.catalog.recovery
        if recovery is None:
            return None
        again = "" if recovery.roots_kept else " Add your folders again to search them."
        return f"The index database {recovery.describe()}; a new index was started.{again}"

    # -- searching -------------------------------------------------------------------------
    def search(self, request: SearchRequest) -> SearchResponse:
        response: SearchResponse = self.searcher.search(request)
        return response

    # -- roots -----------------------------------------------------------------------------
    def roots(self) -> tuple[str, ...]:
        return tuple(r.path for r in self.catalog.roots())

    def root_states(self) -> tuple[RootState, ...]:
        return self.library.root_states()

    def add_root(self, path: str) -> None:
        self._require_writer()
        self.catalog.add_root(os.path.abspath(path))
        self._root_paths = self.roots()

    def remove_root(self, path: str) -> None:
        self.indexer.remove_root(path)
        self._root_paths = self.roots()

    def mark_root(self, path: str, available: bool) -> None:
        if self._indexer is not None:  # read-only: the writing process keeps the roots' state
            self.catalog.mark_root(path, "watching" if available else "unavailable")

    @property
    def indexer(self) -> Indexer:
        return self._require_writer()

    def _require_writer(self) -> Indexer:
        """The writer's indexer; a read-only core refuses changes, saying why."""
        if self._indexer is None:
            raise QfinderError(f"Folders cannot be changed now: {self.read_only_reason}.",
                               "Try again when the other qfinder process has finished.")
        return self._indexer

    # -- queuing work ----------------------------------------------------------------------
    def reconcile(self, roots: Sequence[str] | None = None) -> None:
        if self._indexer is None:
            return  # the writing process indexes; the engine reconciles when it takes over
        targets = list(self.roots() if roots is None else roots)
        report = self.indexer.plan(targets)
        log.info("reconciled %d root(s): %d new, %d changed, %d renamed, %d gone, %d queued",
                 len(targets), report.new, report.changed, report.renamed, report.gone,
                 report.queued)

    def apply_changes(self, removed: Sequence[str], changed: Sequence[str]) -> None:
        if (removed or changed) and self._indexer is not None:
            self._failed_seen.difference_update(changed)  # a changed file may fail anew: report it
            self.indexer.refresh_paths([*removed, *changed])

    def retry_failed(self, paths: Sequence[str]) -> None:
        self._require_writer()
        rows = self.catalog.failures(limit=100_000)
        wanted = set(paths)
        self._failed_seen.difference_update(wanted or {f.path for f in rows})
        with self.catalog.write():
            for failure in rows:
                row = self.catalog.file(failure.path)
                if row is not None and (not wanted or failure.path in wanted):
                    self.catalog.mark_file(row.id, "pending")
        self.reconcile(None)

    def clear_pending(self) -> None:
        """Drop queued content work; the files stay 'pending' for the next reconcile."""
        if self._indexer is not None:
            self._indexer.clear_pending()

    # -- doing work ------------------------------------------------------------------------
    def has_work(self) -> bool:
        return self._indexer is not None and self._indexer.pending() > 0

    def step(self) -> IndexProgress:
        progress = self.indexer.step(max_tokens=self.step_tokens())
        self._collect_failures()
        return progress

    def step_tokens(self) -> int:
        """Tokens for the next step: what the model embeds in about `target_step_s`.

        A query waits for at most one step, so on a slow machine or a big model the step shrinks
        (down to one chunk: an inference cannot be split), and on a fast one it grows up to
        IndexSettings.step_tokens (bigger batches, fewer commits).
        """
        ceiling = self.indexer.settings.step_tokens
        stats = self.indexer.stats
        if self.target_step_s is None:
            return ceiling
        if stats.embed_seconds <= 0 or stats.tokens_embedded <= 0:
            return min(ceiling, MIN_STEP_TOKENS)  # measure on a small first step
        rate = stats.tokens_embedded / stats.embed_seconds
        return max(MIN_STEP_TOKENS, min(ceiling, int(rate * self.target_step_s)))

    def _collect_failures(self) -> None:
        for failure in self.catalog.failures(limit=200):
            if failure.path not in self._failed_seen:
                self._failed_seen.add(failure.path)
                self._failures.append(failure)

    def settle(self) -> None:
        if self._indexer is not None:  # a reader must not write the other process's catalog
            self.catalog.settle()

    def take_failures(self) -> list[FileFailure]:
        taken, self._failures = self._failures, []
        return taken

    def is_excluded(self, path: str, is_dir: bool) -> bool:
        """Called from the watcher's thread: cached roots, no SQLite."""
        if _under(path, self._data_dir):
            return True  # our own catalog's writes must never trigger indexing
        root = next((r for r in self._root_paths if _under(path, r)), None)
        if root is None or path == root or self._indexer is None:
            return False
        return is_excluded(path, root, self._indexer.rules)

    # -- dimension -------------------------------------------------------------------------
    def dim_ready(self, dim: int) -> bool:
        return self.vectors.has(dim)

    def build_dim(self, dim: int) -> object:
        """Build `dim` from a read-only connection (another thread); the structure is its result.

        Saved only by a writer: a read-only core must not write the other process's files."""
        reader = Catalog(self.catalog.path, readonly=True)
        try:
            builder = VectorIndexes(reader, self.vectors.folder, persist=self._indexer is not None,
                                    exact_below=self.vectors.exact_below)
            return builder.build(dim)
        finally:
            reader.close()

    def install_dim(self, dim: int, built: object) -> None:
        if isinstance(built, DimIndex):
            self.vectors.adopt(built)

    def set_dim(self, dim: int) -> None:
        self.library.set_dim(dim)

    # -- lifetime --------------------------------------------------------------------------
    def cancel(self) -> None:
        if self.embedder is not None:
            self.embedder.cancel()

    def reset_cancel(self) -> None:
        if self.embedder is not None:
            self.embedder.reset_cancel()

    def close(self) -> None:
        try:
            self.library.close()
        finally:
            # the extractor child process (PDF, Office) is the engine's: stop it with the engine
            default_extractor().close()
