"""Background rebuilds that keep the current index answering: a new dimension, a new model.

DimBuilder: a dimension's hnswlib index is built from vectors already in the catalog (no
re-embedding) on a helper thread that only reads; the engine thread installs it when done, and
until then the current dimension (or exact search) keeps serving.

ModelSwitch: a second core for the new model is filled step by step by the engine's normal
indexing loop while the old core answers every query; when it has no work left the engine swaps
them and closes the old one.
"""

from __future__ import annotations

import logging
import threading
import traceback
from collections.abc import Callable

from PySide6.QtCore import QObject, Qt, Signal, Slot

from qfinder.core.config import LibraryConfig
from qfinder.core.errors import QfinderError
from qfinder.core.library.library import Library
from qfinder.core.library.opener import LibraryOpener
from qfinder.core.library.upkeep import Upkeep
from qfinder.core.vectors.dim_index import DimIndex

log = logging.getLogger(__name__)


class DimBuilder(QObject):
    """Builds one dimension's index on a helper thread; the engine thread installs it into the
    library it was built for, if that is still the current one (else the model changed).

    Signals (on the thread that owns the builder):
        changed(): a build started, was installed or failed (the status should say so)
        failed(str): building or installing it failed, in a person's words
    """

    changed = Signal()
    failed = Signal(str)
    _done = Signal(object, int, object)  # from the helper thread: Library, dim, DimIndex | Exception

    def __init__(self, current: Callable[[], Library | None], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._current = current
        self.building: int | None = None
        self._thread: threading.Thread | None = None
        self._done.connect(self._finish, Qt.ConnectionType.QueuedConnection)

    def request(self, library: Library, dim: int) -> None:
        """Search at `dim`: at once when its index is ready, else once it has been built."""
        if library.dim_ready(dim):
            library.set_dim(dim)
        elif self.building != dim:
            self.building = dim
            self._thread = threading.Thread(target=self._build, args=(library, dim),
                                            name=f"qfinder-dim-{dim}", daemon=True)
            self._thread.start()
        self.changed.emit()

    def _build(self, library: Library, dim: int) -> None:
        try:
            result: DimIndex | Exception = library.build_dim(dim)
        except Exception as exc:  # reported on the engine thread
            log.error("building the %d-d index failed:\n%s", dim, traceback.format_exc())
            result = exc
        self._done.emit(library, dim, result)

    @Slot(object, int, object)
    def _finish(self, library: Library, dim: int, result: DimIndex | Exception) -> None:
        if self.building == dim:
            self.building = None
        try:
            if isinstance(result, Exception):
                raise result
            if library is self._current():
                library.install_dim(result)
                library.set_dim(dim)
        except Exception as exc:
            self.failed.emit(f"Building the {dim}-d index failed: {exc}")
        self.changed.emit()

    def stop(self, timeout: float = 1.0) -> None:
        """Wait briefly for a build in flight; it only reads, so abandoning it is safe."""
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                log.warning("a dimension build is still running; it is abandoned")
            self._thread = None


class ModelSwitch:
    """The library being switched to (another model or chunking), filled while the current
    one answers."""

    def __init__(self, opener: LibraryOpener) -> None:
        self._opener = opener
        self.pending: Library | None = None

    def begin(self, current: Library, config: LibraryConfig) -> None:
        if current.read_only_reason:
            raise QfinderError(f"The model cannot be changed now: {current.read_only_reason}.",
                               "Try again when the other qfinder process has finished.")
        self.close_pending()
        staged = self._opener.open_staging(config)
        upkeep = writer_of(staged)
        for root in current.roots():
            upkeep.add_root(root)
        upkeep.reconcile(None)
        self.pending = staged

    def for_pending(self, action: Callable[[Library], None]) -> None:
        if self.pending is not None:
            action(self.pending)

    def promote(self, current: Library) -> Library:
        """The staged library caught up: it becomes the data folder's (both closed, reopened)."""
        staged, self.pending = self.pending, None
        assert staged is not None
        return self._opener.promote(current, staged)

    def close_pending(self) -> None:
        staged, self.pending = self.pending, None
        if staged is not None:
            staged.close()


def writer_of(library: Library) -> Upkeep:
    """The library's writer side, or the reason it has none (another process writes)."""
    if library.upkeep is None:
        raise QfinderError(f"Folders cannot be changed now: {library.read_only_reason}.",
                           "Try again when the other qfinder process has finished.")
    return library.upkeep
