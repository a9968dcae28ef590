"""A `Library`: one data folder opened for use — the single composition of the core.

    lib = Library.open(data_dir, writer=True, model_folder="/models/qwen3-0.6b")  # the indexer
    lib = Library.open(data_dir)                    # a reader: search/status while another writes
    lib = Library.open(data_dir, writer="prefer")   # the app: the writer, or a reader when busy
    lib.read_only_reason  # None for a writer/plain reader; why a "prefer" open fell back
    Library.writer_free(data_dir) -> bool           # cheap poll: could a writer open now?
    lib.indexer.plan([...]); lib.indexer.step()     # writer only (Indexer: see qfinder.core.indexing.indexer)
    lib.search(SearchRequest("invoices from march"))
    lib.take_changes() -> IndexChange   # files written since the last call, for open result lists
    lib.status() -> LibraryStatus;  lib.root_states();  lib.set_dim(256);  lib.close()

Both the CLI and the desktop engine thread build exactly this. Only one process may write to a
data folder (an OS lock, `qfinder.core.library.writelock`); readers open the catalog read-only and never
save index files. The model folder given to a writer is remembered in ``settings.json`` so later
readers load the same model; without a model (none given, none remembered, or `load_model=False`)
keyword and filename search still work and embedding waits for one (`Indexer.words_only`). The indexer's
rules always skip the data folder (``ExcludeRules.skip_folders``), so a root that contains it
never indexes qfinder's own files; ``lib.indexer.rules`` serves the watcher's `is_excluded` too.

``writer="prefer"`` is for a front end that indexes when it can (the desktop app): when another
process holds the write lock (e.g. `qfinder index` running), it returns a read-only Library
(searchable; ``upkeep`` and ``indexer`` None; nothing saved) whose ``read_only_reason`` says so, instead of
raising `WriterBusyError`. Poll `Library.writer_free(data_dir)` and open again as the writer once
it is True (the other process finished). When no catalog exists yet (the other writer is still
creating it) there is nothing to read and WriterBusyError is raised as with ``writer=True``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from qfinder.core.config import LibraryConfig, ModelRuntime
from qfinder.core.errors import QfinderError
from qfinder.core.heap import return_free_memory
from qfinder.core.indexing.indexer import Indexer, IndexSettings
from qfinder.core.indexing.walk import ExcludeRules
from qfinder.core.library.opening import (
    CATALOG_NAME,
    INDEX_FOLDER,
    chosen_config,
    indexing_of,
    model_cache_bytes,
    rules_of,
    skipping_data_dir,
    take_lock,
    writer_free,
)
from qfinder.core.library.sources import aligned, embedder_for, lazily_opened
from qfinder.core.library.upkeep import Upkeep
from qfinder.core.library.writelock import WriteLock
from qfinder.core.model.remote.errors import ServerError
from qfinder.core.results import SearchRequest, SearchResponse
from qfinder.core.search.searcher import Searcher
from qfinder.core.state import (
    GraphOrigin,
    IndexChange,
    ModelOpening,
    ModelSummary,
    ProviderReport,
    ReembedEstimate,
    RootState,
)
from qfinder.core.storage.catalog import Catalog, CatalogCounts
from qfinder.core.vectors.dim_index import DimIndex
from qfinder.core.vectors.indexes import IndexCost, VectorIndexes

if TYPE_CHECKING:  # onnxruntime only when a model is used
    from qfinder.core.model.protocol import TextEmbedder

__all__ = ["CATALOG_NAME", "INDEX_FOLDER", "Library", "LibraryStatus", "ModelRuntime"]


@dataclass(frozen=True)
class LibraryStatus:
    data_dir: str
    roots: tuple[RootState, ...]
    counts: CatalogCounts  # over all roots
    failures: tuple[tuple[str, str], ...]  # (path, reason), most recent first
    model_folder: str | None
    model_name: str | None
    provider: ProviderReport | None
    dim: int | None
    indexes: tuple[IndexCost, ...]
    rescore_bytes: int = 0  # the full-size vectors the funnel re-scores with (memory-mapped)
    model_loaded: bool = False  # opened by this process (a lazily opened model: not until used)
    model_open_s: float | None = None  # how long the model took to open, last time it was
    model_cache_bytes: int = 0  # the optimized graphs kept so that it opens fast
    model_graph: GraphOrigin | None = None  # where the last open's optimized graph came from


CHARS_PER_TOKEN = 4  # a rough average over prose and code, for estimates only


class Library:
    def __init__(self, data_dir: Path, catalog: Catalog, config: LibraryConfig,
                 embedder: TextEmbedder | None, lock: WriteLock | None,
                 index_settings: IndexSettings | None = None, rules: ExcludeRules | None = None,
                 target_step_s: float | None = None) -> None:
        self.data_dir = data_dir
        self.catalog = catalog
        self.config = config
        self.embedder = embedder
        self._lock = lock
        self.vectors = VectorIndexes(catalog, data_dir / INDEX_FOLDER, persist=lock is not None)
        self.searcher = Searcher(catalog, self.vectors, embedder, config.dim)
        self.indexer: Indexer | None = None
        self.upkeep: Upkeep | None = None  # the writer's side; None when opened read-only
        self.read_only_reason: str | None = None  # set when writer="prefer" fell back to reading
        self._memory_estimate: tuple[tuple[int, int, bool], int] | None = None
        if lock is not None:
            self.indexer = Indexer(catalog, embedder, index_settings, rules)
            self.upkeep = Upkeep(catalog, self.indexer, str(data_dir), target_step_s)

    @classmethod
    def open(cls, data_dir: str | os.PathLike[str], *, writer: bool | Literal["prefer"] = False,
             model_folder: str | None = None, load_model: bool = True, provider: str | None = None,
             steps: IndexSettings | None = None, index_settings: IndexSettings | None = None,
             rules: ExcludeRules | None = None, runtime: ModelRuntime | None = None,
             target_step_s: float | None = None) -> Library:
        """Open `data_dir`. writer=True raises WriterBusyError when another process writes;
        writer="prefer" then opens it read-only with `read_only_reason` set (see the module doc).

        The folder's LibraryConfig says how files are indexed and the model run; `steps` only
        how much one step does (IndexSettings' step sizes; None: the CLI's). `index_settings`,
        `rules` and `runtime` replace the configuration's (tests, benchmarks).
        `target_step_s`: size each upkeep step to last about this long (None: step_tokens)."""
        folder = Path(data_dir)
        lock, reason = take_lock(folder, writer)
        try:
            saved = LibraryConfig.load(folder)
            config = chosen_config(saved, model_folder, provider)
            embedder = embedder_for(config, runtime or config.runtime, folder) if (
                load_model and (config.model_folder or config.on_server)) else None
            if lock is not None and config != saved:
                # Before the catalog exists: a run killed right after creating it must still be
                # resumable without --model (the catalog alone says nothing about the model).
                config.save(folder)
            catalog = Catalog(folder / CATALOG_NAME, readonly=lock is None)
            if embedder is not None:
                embedder = aligned(embedder, catalog.stamp(), folder)
            library = cls(folder, catalog, config, embedder, lock,
                          index_settings or indexing_of(config, steps or IndexSettings()),
                          skipping_data_dir(rules or rules_of(config), folder), target_step_s)
        except BaseException:
            if lock is not None:
                lock.release()
            raise
        library.read_only_reason = reason
        return library

    writer_free = staticmethod(writer_free)

    # --- the model ------------------------------------------------------------------------------
    @property
    def model_name(self) -> str | None:
        return None if self.embedder is None else str(self.embedder.info.name)

    @property
    def provider(self) -> ProviderReport | None:
        return None if self.embedder is None else self.embedder.provider

    @property
    def model_summary(self) -> ModelSummary | None:
        if self.embedder is None:
            return None
        info = self.embedder.info
        return ModelSummary(info.name, info.full_dim, info.min_dim, info.default_dim,
                            info.instruction_aware)

    @property
    def model_opening(self) -> ModelOpening | None:
        """How long the model took to open and from what; None without a lazily opened model."""
        lazy = lazily_opened(self.embedder)
        return lazy.opening if lazy is not None else None

    def release_model(self) -> bool:
        """Close an opened model and give the freed heap back to the OS (an idle app's memory);
        it opens again when next needed. Whether there was one open."""
        lazy = lazily_opened(self.embedder)
        if lazy is None or not lazy.release():
            return False
        return_free_memory()
        return True

    def cancel(self) -> None:
        """Any thread: stop the inference in flight (and later ones until reset_cancel)."""
        if self.embedder is not None:
            self.embedder.cancel()

    def reset_cancel(self) -> None:
        if self.embedder is not None:
            self.embedder.reset_cancel()

    # --- searching ------------------------------------------------------------------------------
    @property
    def dim(self) -> int | None:
        return self.searcher.resolve_dim(self.config.dim) if self.embedder is not None else None

    def set_dim(self, dim: int | None) -> None:
        self.config = self.config.with_changes(dim=dim)
        self.searcher.default_dim = dim
        if self._lock is not None:
            self.config.save(self.data_dir)

    def reconfigure(self, config: LibraryConfig) -> None:
        """Take settings that need no re-embedding (writer only): which files are indexed now;
        provider and threads when the model is next loaded. See LibraryConfig.reembeds."""
        if self.indexer is None:
            raise QfinderError(f"Settings cannot be changed now: {self.read_only_reason}.",
                               "Try again when the other qfinder process has finished.")
        if self.config.reembeds(config):
            raise QfinderError("These settings need every file embedded again.",
                               "Switch to them with a re-index (the current index keeps answering).")
        self.config = config
        config.save(self.data_dir)
        self.indexer.rules = skipping_data_dir(rules_of(config), self.data_dir)
        self.indexer.settings = indexing_of(config, self.indexer.settings)
        self.searcher.default_dim = config.dim

    def reembed_estimate(self) -> ReembedEstimate:
        """How much embedding every file again would be (files, about how many tokens)."""
        files, chars = self.catalog.content_size()
        return ReembedEstimate(files, chars // CHARS_PER_TOKEN)

    def dim_ready(self, dim: int) -> bool:
        return self.vectors.has(dim)

    def build_dim(self, dim: int) -> DimIndex:
        """Build `dim` from a read-only connection: may run on another thread. Saved only by a
        writer: a read-only library must not write the other process's files."""
        reader = Catalog(self.catalog.path, readonly=True)
        try:
            builder = VectorIndexes(reader, self.vectors.folder, persist=self._lock is not None,
                                    exact_below=self.vectors.exact_below)
            return builder.build(dim)
        finally:
            reader.close()

    def install_dim(self, built: DimIndex) -> None:
        self.vectors.adopt(built)

    def search(self, request: SearchRequest) -> SearchResponse:
        """The answer; while the embedding server is unreachable (and no local copy of its model
        can stand in) by keyword and file name, with a note saying so."""
        try:
            return self.searcher.search(request)
        except ServerError as exc:
            if request.like_paths:
                raise
            answer = self.searcher.search(replace(request, mode="keyword"))
            note = f"{exc.message} Showing keyword matches only."
            return replace(answer, request=request, notes=(*answer.notes, note))

    def take_changes(self) -> IndexChange:
        """The files that writes added, changed or removed since the last call (none for a reader)."""
        return self.catalog.changes.take()

    # --- state ----------------------------------------------------------------------------------
    def roots(self) -> tuple[str, ...]:
        return tuple(r.path for r in self.catalog.roots())

    def root_states(self) -> tuple[RootState, ...]:
        states = []
        for root in self.catalog.roots():
            counts = self.catalog.counts(root.path)
            availability = root.state if root.state in ("unavailable", "paused", "error") else "watching"
            states.append(RootState(root.path, availability, counts.indexed + counts.name_only,  # type: ignore[arg-type]
                                    counts.pending, counts.failed))
        return tuple(states)

    def recovery_notice(self) -> str | None:
        """What happened when the catalog was found unusable and moved aside on opening."""
        recovery = self.catalog.recovery
        if recovery is None:
            return None
        again = "" if recovery.roots_kept else " Add your folders again to search them."
        return f"The index database {recovery.describe()}; a new index was started.{again}"

    def status(self) -> LibraryStatus:
        failures = tuple((f.path, f.reason) for f in self.catalog.failures())
        return LibraryStatus(
            str(self.data_dir), self.root_states(), self.catalog.counts(), failures,
            self.config.model_folder, self.model_name, self.provider, self.dim, self.index_costs(),
            self.vectors.rescore_bytes(), *self._model_opening(),
        )

    def _model_opening(self) -> tuple[bool, float | None, int, GraphOrigin | None]:
        opening = self.model_opening
        if opening is None:
            return self.embedder is not None, None, 0, None
        return opening.loaded, opening.seconds, model_cache_bytes(self.data_dir), opening.graph

    def index_costs(self) -> tuple[IndexCost, ...]:
        """Per dimension: the loaded structures, plus graphs saved on disk and the current dim."""
        loaded = {cost.dim: cost for cost in self.vectors.costs()}
        on_disk = self.vectors.saved_dims()
        wanted = set(loaded) | set(on_disk) | ({self.dim} if self.dim else set())
        costs = []
        for dim in sorted(wanted):
            cost = loaded.get(dim) or self.vectors.estimate(dim)
            costs.append(replace(cost, disk_bytes=max(cost.disk_bytes, on_disk.get(dim, 0))))
        return tuple(costs)

    def index_memory_bytes(self) -> int | None:
        """RAM of the current dimension's index: measured once loaded, else estimated."""
        dim = self.dim
        if dim is None:
            return None
        key = (dim, self.catalog.generation(), self.dim_ready(dim))
        if self._memory_estimate is None or self._memory_estimate[0] != key:
            # estimate() counts the catalog's vectors when `dim` is not loaded: once per change
            self._memory_estimate = (key, int(self.vectors.estimate(dim).ram_bytes))
        return self._memory_estimate[1]

    def drop_index_files(self) -> None:
        """Delete the saved graphs (writer only): they are rebuilt from the catalog when needed."""
        if self._lock is None:
            return
        self.vectors.delete_saved()

    # --- lifetime -------------------------------------------------------------------------------
    def close(self) -> None:
        try:
            if self._lock is not None:
                self.vectors.close()
            if self.indexer is not None:
                self.indexer.close()
            self.catalog.close()
            if self.embedder is not None:
                self.embedder.close()
        finally:
            if self._lock is not None:
                self._lock.release()

    def __enter__(self) -> Library:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
