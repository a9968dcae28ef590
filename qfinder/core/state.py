"""Plain immutable data describing what the indexer and engine are doing, for any front end."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from qfinder.core.config import LibraryConfig
from qfinder.core.paths import is_within

EngineState = Literal["starting", "idle", "indexing", "paused", "rebuilding", "error", "stopped"]
RootAvailability = Literal["watching", "polling", "indexing", "paused", "unavailable", "error"]
# Where onnxruntime's optimized graph came from on the model's last open (qfinder.core.model.graph_cache):
# read from the cache (fast), optimized now and saved to it, optimized now and not kept (no room,
# a GPU provider, no cache), or not recorded (an engine without a local graph)
GraphOrigin = Literal["cached", "saved", "optimized", "unknown"]


@dataclass(frozen=True)
class IndexProgress:
    files_done: int
    files_pending: int
    chunks_done: int
    chunks_pending: int
    tokens_per_s: float
    eta_s: float | None  # None while unknown
    current_file: str | None
    chunks_embedded: int = 0  # chunks run through the model so far (the rest came from the cache)


@dataclass(frozen=True)
class ProviderReport:
    requested: str  # "auto", "cpu", "cuda", "directml", "coreml"
    used: str  # the provider onnxruntime actually runs on
    fallback_reason: str | None = None  # why a requested GPU was not used

    @property
    def fell_back(self) -> bool:
        return self.fallback_reason is not None


@dataclass(frozen=True)
class ModelSummary:
    """What a front end needs to know about the loaded model (from the core's ModelInfo)."""

    name: str
    full_dim: int
    min_dim: int  # == full_dim when the model has no Matryoshka dimensions
    default_dim: int
    instruction_aware: bool


@dataclass(frozen=True)
class ModelOpening:
    """How long the model takes to open: what the first semantic search or indexing step waits for."""

    seconds: float  # wall time of the last open (in this process or an earlier one)
    graph: GraphOrigin
    loaded: bool  # open in this process now (a lazily opened model: not until it is first used)

    def describe(self) -> str:
        where = {"cached": "from the cached optimized graph", "saved": "optimized and cached",
                 "optimized": "optimized, not cached", "unknown": ""}[self.graph]
        how = f"{self.seconds:.1f} s" + (f", {where}" if where else "")
        return f"opened in {how}" if self.loaded else f"opens on first use (last time {how})"


@dataclass(frozen=True)
class EngineStatus:
    state: EngineState
    model_name: str | None  # None: no model loaded (filename/keyword search only)
    provider: ProviderReport | None
    dim: int | None  # current search dimension
    message: str = ""  # human text for the status bar
    model: ModelSummary | None = None  # the loaded model's facts; None: none loaded (yet)
    index_memory_bytes: int | None = None  # RAM of the current dimension's vector index
    config: LibraryConfig | None = None  # the data folder's configuration; None: not open
    opening: ModelOpening | None = None  # None: no model, or one whose opening is not timed


@dataclass(frozen=True)
class RootState:
    path: str
    availability: RootAvailability
    files_indexed: int
    files_pending: int
    files_failed: int


@dataclass(frozen=True)
class FileFailure:
    path: str
    reason: str  # human text: what happened and, where useful, what to do
    # Found by name only (empty, binary, no text): not an error, as `qfinder status` says
    name_only: bool = False


@dataclass(frozen=True)
class ReembedEstimate:
    """How much embedding every indexed file again would be (before a model or chunking change)."""

    files: int  # files with text in the index
    tokens: int  # about how many tokens the model would read


@dataclass(frozen=True)
class IndexChange:
    """What committed writes changed in the searchable index since the last report: a front end
    drops results that are gone at once and asks its open query again when files changed."""

    updated: frozenset[str] = frozenset()  # files added, or whose content or status changed
    removed: frozenset[str] = frozenset()  # files no longer in the index
    removed_folders: frozenset[str] = frozenset()  # folders gone with every file under them
    roots_removed: frozenset[str] = frozenset()  # indexed folders the user removed

    def __bool__(self) -> bool:
        return bool(self.updated or self.removed or self.removed_folders or self.roots_removed)

    def gone(self, path: str) -> bool:
        """Whether `path` left the index with this change (a file of a removed folder too)."""
        if path in self.removed:
            return True
        return any(is_within(path, folder) for folder in (*self.removed_folders, *self.roots_removed))
