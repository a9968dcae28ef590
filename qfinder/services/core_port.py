"""What the engine thread needs from the core, as a Protocol the composition object satisfies.

The engine worker only ever talks to an `EngineCore`; `qfinder.services.core_adapter` builds one
on top of the core's session object. Every method is called on the engine thread, except
`cancel()`, which any thread may call to stop a running inference (Embedder.cancel()).

Indexing is step-wise: `reconcile`/`apply_changes` only queue work (cheap: stats
and catalog rows), and each `step()` does one small batch of content work (extract, chunk, embed,
one committed transaction) so that a query never waits for more than one step.
`apply_changes(removed, changed)` takes files or folders (gone ones are forgotten, present ones
stat-compared, folders walked) in one call, so a move is seen as a rename, not a re-embed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from qfinder.core.results import SearchRequest, SearchResponse
from qfinder.core.state import FileFailure, IndexProgress, ModelSummary, ProviderReport, RootState


class EngineCore(Protocol):
    # -- what is loaded --------------------------------------------------------------------
    @property
    def model_name(self) -> str | None: ...
    @property
    def provider(self) -> ProviderReport | None: ...
    @property
    def dim(self) -> int | None: ...
    @property
    def model_summary(self) -> ModelSummary | None: ...
    def index_memory_bytes(self) -> int | None: ...  # the current dimension's index RAM
    def recovery_notice(self) -> str | None: ...  # the catalog was unusable and set aside: what
    @property
    def read_only_reason(self) -> str | None: ...  # another process writes: this core only searches

    # -- searching -------------------------------------------------------------------------
    def search(self, request: SearchRequest) -> SearchResponse: ...

    # -- roots -----------------------------------------------------------------------------
    def roots(self) -> tuple[str, ...]: ...
    def root_states(self) -> tuple[RootState, ...]: ...
    def add_root(self, path: str) -> None: ...
    def remove_root(self, path: str) -> None: ...
    def mark_root(self, path: str, available: bool) -> None: ...

    # -- queuing work (cheap) --------------------------------------------------------------
    def reconcile(self, roots: Sequence[str] | None = None) -> None: ...
    def apply_changes(self, removed: Sequence[str], changed: Sequence[str]) -> None: ...
    def retry_failed(self, paths: Sequence[str]) -> None: ...
    def clear_pending(self) -> None: ...

    # -- doing work (one batch) ------------------------------------------------------------
    def has_work(self) -> bool: ...
    def step(self) -> IndexProgress: ...
    def take_failures(self) -> list[FileFailure]: ...
    def settle(self) -> None: ...  # no work left: drop what only a rebuild needed, truncate the WAL
    def is_excluded(self, path: str, is_dir: bool) -> bool: ...

    # -- dimension -------------------------------------------------------------------------
    def dim_ready(self, dim: int) -> bool: ...
    def build_dim(self, dim: int) -> object: ...  # may run on another thread; reads only
    def install_dim(self, dim: int, built: object) -> None: ...
    def set_dim(self, dim: int) -> None: ...

    # -- lifetime --------------------------------------------------------------------------
    def cancel(self) -> None: ...  # any thread
    def reset_cancel(self) -> None: ...
    def close(self) -> None: ...


class CoreProvider(Protocol):
    """Opens cores on the engine thread (qfinder.services.library_cores.LibraryCores)."""

    def open(self, model_folder: str | None) -> EngineCore:
        """The data folder's core; `model_folder` None: the model the folder remembers.

        When another process holds the data folder's write lock the core is read-only
        (`read_only_reason` says why): it searches; poll `writer_free()` and open again."""
        ...

    def writer_free(self) -> bool:
        """Whether the data folder's write lock could be taken now."""
        ...

    def open_staging(self, model_folder: str) -> EngineCore:
        """A second, empty core for a model switch, indexed while the current one answers."""
        ...

    def promote(self, current: EngineCore, staged: EngineCore) -> EngineCore:
        """Close both and make the staged index the data folder's index; returns it reopened."""
        ...
