"""A `Library`: one data folder opened for use — the single composition of the core.

    lib = Library.open(data_dir, writer=True, model_folder="/models/qwen3-0.6b")  # the indexer
    lib = Library.open(data_dir)                    # a reader: search/status while another writes
    lib = Library.open(data_dir, writer="prefer")   # the app: the writer, or a reader when busy
    lib.read_only_reason  # None for a writer/plain reader; why a "prefer" open fell back
    Library.writer_free(data_dir) -> bool           # cheap poll: could a writer open now?
    lib.indexer.plan([...]); lib.indexer.step()     # writer only (Indexer: see qfinder.core.indexing.indexer)
    lib.search(SearchRequest("invoices from march"))
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
(searchable; ``indexer`` None; nothing saved) whose ``read_only_reason`` says so, instead of
raising `WriterBusyError`. Poll `Library.writer_free(data_dir)` and open again as the writer once
it is True (the other process finished). When no catalog exists yet (the other writer is still
creating it) there is nothing to read and WriterBusyError is raised as with ``writer=True``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from qfinder.core.config import LibrarySettings
from qfinder.core.errors import IndexError_, ModelError
from qfinder.core.indexing.indexer import Indexer, IndexSettings
from qfinder.core.indexing.walk import ExcludeRules
from qfinder.core.library.writelock import WriteLock, WriterBusyError
from qfinder.core.paths import ensure_private_dir
from qfinder.core.results import SearchRequest, SearchResponse
from qfinder.core.search.searcher import Searcher
from qfinder.core.state import ProviderReport, RootState
from qfinder.core.storage.catalog import Catalog, CatalogCounts
from qfinder.core.vectors.indexes import IndexCost, VectorIndexes

if TYPE_CHECKING:  # onnxruntime only when a model is used
    from qfinder.core.model.protocol import TextEmbedder

CATALOG_NAME = "catalog.db"
INDEX_FOLDER = "indexes"
BUSY_REASON = "another qfinder process is indexing this data folder; indexing resumes when it finishes"


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


@dataclass(frozen=True)
class ModelRuntime:
    """How to run the remembered model: which variant file of its folder, how many CPU threads."""

    variant: str | None = None  # e.g. "fp32", "int8"; None: the folder's default graph
    threads: int | None = None  # onnxruntime intra-op threads; None: onnxruntime's choice


def _load_embedder(folder: str, provider: str, runtime: ModelRuntime) -> TextEmbedder:
    from qfinder.core.model import Embedder, EmbedOptions  # onnxruntime only when a model is used

    if not Path(folder).is_dir():
        raise ModelError(f"The model folder {folder} does not exist.",
                         "Pass --model DIR with a downloaded model folder.")
    return Embedder.from_folder(folder, provider=provider, variant=runtime.variant,
                                options=EmbedOptions(threads=runtime.threads))


def _skipping_data_dir(rules: ExcludeRules, data_dir: Path) -> ExcludeRules:
    """`rules` that never index the data folder itself (its catalog, graphs, settings), also
    when it lies inside an indexed root."""
    own = {os.path.abspath(data_dir), os.path.realpath(data_dir)}
    return replace(rules, skip_folders=tuple(dict.fromkeys((*rules.skip_folders, *sorted(own)))))


class Library:
    def __init__(self, data_dir: Path, catalog: Catalog, settings: LibrarySettings, embedder: TextEmbedder | None,
                 lock: WriteLock | None, index_settings: IndexSettings | None = None,
                 rules: ExcludeRules | None = None) -> None:
        self.data_dir = data_dir
        self.catalog = catalog
        self.settings = settings
        self.embedder = embedder
        self._lock = lock
        self.vectors = VectorIndexes(catalog, data_dir / INDEX_FOLDER, persist=lock is not None)
        self.searcher = Searcher(catalog, self.vectors, embedder, settings.dim)
        self.indexer: Indexer | None = None
        self.read_only_reason: str | None = None  # set when writer="prefer" fell back to reading
        if lock is not None:
            self.indexer = Indexer(catalog, embedder, index_settings, rules)

    @classmethod
    def open(cls, data_dir: str | os.PathLike[str], *, writer: bool | Literal["prefer"] = False,
             model_folder: str | None = None, load_model: bool = True, provider: str | None = None,
             index_settings: IndexSettings | None = None, rules: ExcludeRules | None = None,
             runtime: ModelRuntime | None = None) -> Library:
        """Open `data_dir`. writer=True raises WriterBusyError when another process writes;
        writer="prefer" then opens it read-only with `read_only_reason` set (see the module doc)."""
        folder = Path(data_dir)
        lock, reason = None, None
        if writer:
            ensure_private_dir(folder)
            lock = WriteLock(folder)
            try:
                lock.acquire()
            except WriterBusyError:
                if writer != "prefer" or not (folder / CATALOG_NAME).exists():
                    raise
                lock, reason = None, BUSY_REASON
        elif not (folder / CATALOG_NAME).exists():
            raise IndexError_(f"No qfinder index in {folder}.", "Index a folder first: qfinder index PATH --model DIR")
        try:
            library = cls._build(folder, lock, model_folder, load_model, provider, index_settings, rules,
                                 runtime or ModelRuntime())
        except BaseException:
            if lock is not None:
                lock.release()
            raise
        library.read_only_reason = reason
        return library

    @staticmethod
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

    @classmethod
    def _build(cls, folder: Path, lock: WriteLock | None, model_folder: str | None, load_model: bool,
               provider: str | None, index_settings: IndexSettings | None, rules: ExcludeRules | None,
               runtime: ModelRuntime) -> Library:
        settings = LibrarySettings.load(folder)
        if model_folder is not None:
            settings = settings.with_changes(model_folder=str(Path(model_folder).expanduser().resolve()))
        if provider is not None:
            settings = settings.with_changes(provider=provider)
        embedder = None
        if load_model and settings.model_folder:
            embedder = _load_embedder(settings.model_folder, settings.provider, runtime)
        if lock is not None and settings != LibrarySettings.load(folder):
            # Before the catalog exists: a run killed right after creating it must still be
            # resumable without --model (the catalog alone says nothing about the model).
            settings.save(folder)
        catalog = Catalog(folder / CATALOG_NAME, readonly=lock is None)
        rules = _skipping_data_dir(rules or ExcludeRules(), folder)
        return cls(folder, catalog, settings, embedder, lock, index_settings, rules)

    # --- searching ------------------------------------------------------------------------------
    @property
    def model_name(self) -> str | None:
        return None if self.embedder is None else str(self.embedder.info.name)

    @property
    def provider(self) -> ProviderReport | None:
        return None if self.embedder is None else self.embedder.provider

    @property
    def dim(self) -> int | None:
        return self.searcher.resolve_dim(self.settings.dim) if self.embedder is not None else None

    def set_dim(self, dim: int | None) -> None:
        self.settings = self.settings.with_changes(dim=dim)
        self.searcher.default_dim = dim
        if self._lock is not None:
            self.settings.save(self.data_dir)

    def search(self, request: SearchRequest) -> SearchResponse:
        return self.searcher.search(request)

    # --- state ----------------------------------------------------------------------------------
    def root_states(self) -> tuple[RootState, ...]:
        states = []
        for root in self.catalog.roots():
            counts = self.catalog.counts(root.path)
            availability = root.state if root.state in ("unavailable", "paused", "error") else "watching"
            states.append(RootState(root.path, availability, counts.indexed + counts.name_only,  # type: ignore[arg-type]
                                    counts.pending, counts.failed))
        return tuple(states)

    def status(self) -> LibraryStatus:
        failures = tuple((f.path, f.reason) for f in self.catalog.failures())
        return LibraryStatus(
            str(self.data_dir), self.root_states(), self.catalog.counts(), failures,
            self.settings.model_folder, self.model_name, self.provider, self.dim, self.index_costs(),
            self.vectors.rescore_bytes(),
        )

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

    def drop_index_files(self) -> None:
        """Delete the saved graphs (writer only): they are rebuilt from the catalog when needed."""
        if self._lock is None:
            return
        self.vectors.delete_saved()

    def close(self) -> None:
        try:
            if self._lock is not None:
                self.vectors.close()
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
