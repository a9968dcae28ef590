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
from collections.abc import Callable, Sequence

from PySide6.QtCore import QObject, Qt, Signal, Slot

from .core_port import EngineCore

log = logging.getLogger(__name__)


class DimBuilder(QObject):
    _built = Signal(object, int, object)  # core, dim, built index (or an exception)

    def __init__(self, worker: QObject) -> None:
        super().__init__(worker)
        self._worker = worker
        self.building: int | None = None
        self._thread: threading.Thread | None = None
        self._built.connect(self._install, Qt.ConnectionType.QueuedConnection)

    def request(self, core: EngineCore, dim: int) -> None:
        if core.dim_ready(dim):
            core.set_dim(dim)
            return
        if self.building == dim:
            return
        self.building = dim
        self._thread = threading.Thread(
            target=self._build, args=(core, dim), name=f"qfinder-dim-{dim}", daemon=True
        )
        self._thread.start()

    def _build(self, core: EngineCore, dim: int) -> None:
        try:
            built: object = core.build_dim(dim)
        except Exception as exc:  # reported on the engine thread
            log.error("building the %d-d index failed:\n%s", dim, traceback.format_exc())
            built = exc
        self._built.emit(core, dim, built)

    @Slot(object, int, object)
    def _install(self, core: EngineCore, dim: int, built: object) -> None:
        if self.building == dim:
            self.building = None
        current = getattr(self._worker, "core", None)
        if core is not current:
            return  # the model changed meanwhile; this index belongs to the old one
        if isinstance(built, Exception):
            self._worker.error.emit(f"Building the {dim}-d index failed: {built}")  # type: ignore[attr-defined]
        else:
            try:
                core.install_dim(dim, built)
                core.set_dim(dim)
            except Exception as exc:
                log.error("installing the %d-d index failed:\n%s", dim, traceback.format_exc())
                self._worker.error.emit(f"Installing the {dim}-d index failed: {exc}")  # type: ignore[attr-defined]
        self._worker._emit_status()  # type: ignore[attr-defined]

    def stop(self, timeout: float = 1.0) -> None:
        """Wait briefly for a build in flight; it only reads, so abandoning it is safe."""
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                log.warning("a dimension build is still running; it is abandoned")
            self._thread = None


class ModelSwitch:
    """Holds the core of the model being switched to until it has caught up."""

    def __init__(self) -> None:
        self.pending: EngineCore | None = None

    def begin(self, new_core: EngineCore, roots: Sequence[str]) -> None:
        old_pending = self.take_pending()
        if old_pending is not None:
            old_pending.close()
        for root in roots:
            new_core.add_root(root)
        new_core.reconcile(None)
        self.pending = new_core

    def for_pending(self, action: Callable[[EngineCore], None]) -> None:
        if self.pending is not None:
            action(self.pending)

    def finish(self) -> EngineCore | None:
        core, self.pending = self.pending, None
        return core

    def take_pending(self) -> EngineCore | None:
        return self.finish()
