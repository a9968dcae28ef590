"""The engine worker: a QObject living on the engine thread that owns the core.

Everything that touches the embedder, the catalog or the vector indexes runs here, one job at a
time. Requests arrive as queued slot calls (posted events, handled in arrival order). Indexing
runs in small steps between them (qfinder.services.indexing_loop).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from PySide6.QtCore import QObject, Qt, QThread, QTimer, Signal, Slot

from qfinder.core.errors import QfinderError
from qfinder.core.library.writelock import WriterBusyError
from qfinder.core.results import SearchRequest
from qfinder.core.state import EngineState
from qfinder.core.storage.schema import CatalogDamaged
from qfinder.watch import ChangeBatch, WatchNotice

from .core_port import CoreProvider, EngineCore
from .indexing_loop import IndexingLoop
from .jobs import LatestSearch, StepPreemption, run_guarded
from .priority import lower_current_thread
from .rebuild import DimBuilder, ModelSwitch
from .reporting import make_status, merge_root_states
from .settings import EngineSettings
from .watch_bridge import WatchBridge, apply_batch, apply_notice
from .writer_wait import WriterWait

log = logging.getLogger(__name__)

CREATING_ELSEWHERE = ("Another qfinder process is creating the index in this data folder; "
                      "searching and indexing start when it finishes.")


class EngineWorker(QObject, IndexingLoop):
    results = Signal(object)  # SearchResponse
    progress = Signal(object)  # IndexProgress
    status = Signal(object)  # EngineStatus
    roots = Signal(object)  # tuple[RootState, ...]
    file_failed = Signal(object)  # FileFailure
    error = Signal(str)
    closed = Signal()
    _tick_posted = Signal()

    def __init__(self, cores: CoreProvider, settings: EngineSettings, model_folder: str | None,
                 stop: threading.Event, gate: LatestSearch,
                 clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self._clock = clock  # paces the folders' states; tests move it by hand
        self._cores = cores
        self._settings = settings
        self._model_folder = model_folder
        self._stop = stop
        self._gate = gate
        self.core: EngineCore | None = None
        self._bridge: WatchBridge | None = None
        self._paused = False
        self._tick_pending = False
        self._state: EngineState = "starting"
        self._message = ""
        self.batch_seconds: list[float] = []  # duration of recent steps (bench and tests)
        self._dims = DimBuilder(self)
        self._switch = ModelSwitch()
        self._tick_posted.connect(self._tick, Qt.ConnectionType.QueuedConnection)
        self._throttle_timer: QTimer | None = None
        self.nice: int | None = None  # the engine thread's nice value once lowered (Linux)
        self.preemption = StepPreemption()  # a query may cancel a long step (any thread)
        self._reconcile_timer: QTimer | None = None
        self._writer_wait: WriterWait | None = None  # polls the write lock while read-only
        self._creating_elsewhere = False  # the lock was busy and there was no catalog to read
        self._roots_due = 0.0  # monotonic time after which a step re-sends the folders' states

    def _guard(self, what: str, job: Callable[[], None]) -> None:
        def job_or_rebuild() -> None:
            try:
                job()
            except CatalogDamaged as exc:
                if self.core is None or self.core.read_only_reason:
                    raise  # the writing process owns the file: it rebuilds, this one reports
                log.warning("%s found the index database damaged: %s", what, exc)
                self._rebuild_damaged()

        run_guarded(what, job_or_rebuild, self.error.emit)

    def _rebuild_damaged(self) -> None:
        """quick_check confirmed the damage: reopening sets the file aside and starts a new
        catalog with the folders and vectors it could read (the notice says so); then re-index."""
        damaged, self.core = self.core, None
        if damaged is not None:
            self._guard("Closing the damaged index", damaged.close)
        self._open_core()
        self._rewatch()
        self._core().reconcile(None)
        self._after_change()

    # -- lifetime ----------------------------------------------------------------------------
    @Slot()
    def open(self) -> None:
        self.nice = lower_current_thread(self._settings.nice)
        QThread.currentThread().setPriority(QThread.Priority.LowPriority)
        self._throttle_timer = QTimer(self)
        self._throttle_timer.setSingleShot(True)
        self._throttle_timer.timeout.connect(self._tick)
        self._writer_wait = WriterWait(self._cores.writer_free, self._settings.writer_poll_s, self)
        self._writer_wait.free.connect(self._take_over)
        self._guard("Opening the index", self._open_core)
        self._begin()

    def _begin(self) -> None:
        """Index and watch as the writer, or search read-only until the writer lock is free."""
        if self.core is None and self._creating_elsewhere:
            self._set_state("idle", CREATING_ELSEWHERE)
            self._writer_wait.start()  # type: ignore[union-attr]
            return
        if self.core is None:
            self._set_state("error", self._message or "The index could not be opened.")
            return
        reason = self.core.read_only_reason
        if reason:
            self._set_state("idle", reason[:1].upper() + reason[1:] + ".")  # searching still works
            self._emit_roots()
            self._writer_wait.start()  # type: ignore[union-attr]
            return
        if self._settings.watch:
            self._start_watching()
        interval = self._settings.reconcile_interval_s
        if interval > 0 and self._reconcile_timer is None:
            self._reconcile_timer = QTimer(self)
            self._reconcile_timer.timeout.connect(self.reconcile_all)
            self._reconcile_timer.start(int(interval * 1000))
        self._guard("Checking folders for changes", lambda: self._core().reconcile(None))
        self._after_change()

    @Slot()
    def _take_over(self) -> None:
        """The other process finished: reopen as the writer and catch up with the folders."""
        if self._stop.is_set():
            return
        reader, self.core = self.core, None
        if reader is not None:
            self._guard("Closing the read-only index", reader.close)
        self._guard("Opening the index", self._open_core)
        log.info("took over indexing (writer lock free)")
        self._begin()

    def _open_core(self) -> None:
        self._creating_elsewhere = False
        try:
            self.core = self._cores.open(self._model_folder)
        except WriterBusyError:
            # another process holds the lock and has no catalog yet: nothing to search; wait
            self._creating_elsewhere = True
            log.info("another process is creating the index; waiting for it")
            return
        except QfinderError as exc:
            self._message = str(exc)
            raise
        notice = self.core.recovery_notice()
        if notice:
            log.warning("%s", notice)
            self.error.emit(notice)  # once: the next start opens the new catalog as is

    def _start_watching(self) -> None:
        core = self._core()
        self._bridge = WatchBridge(self._settings, accept=self._accept, parent=self)
        self._bridge.batch.connect(self.apply_batch, Qt.ConnectionType.QueuedConnection)
        self._bridge.notice.connect(self.apply_notice, Qt.ConnectionType.QueuedConnection)
        self._bridge.start()
        self._bridge.set_roots(core.roots())

    def _accept(self, path: str, is_dir: bool) -> bool:
        core = self.core  # read from the watcher's thread: is_excluded only reads rules and stats
        return core is None or not core.is_excluded(path, is_dir)

    @Slot()
    def close(self) -> None:
        """Stop watching, finish or roll back the open transaction, and end the thread's loop."""
        for timer in (self._throttle_timer, self._reconcile_timer, self._writer_wait):
            if timer is not None:
                timer.stop()
        if self._bridge is not None:
            self._guard("Stopping the watcher", self._bridge.stop)
        self._dims.stop()
        for core in (self._switch.take_pending(), self.core):
            if core is not None:
                self._guard("Closing the index", core.close)
        self.core = None
        self._set_state("stopped", "")
        self.closed.emit()
        QThread.currentThread().quit()

    def cancel_running(self) -> None:
        """Any thread: stop the inference in flight (current core and a model switch's)."""
        for core in (self.core, self._switch.pending):
            if core is not None:
                core.cancel()

    def _core(self) -> EngineCore:
        if self.core is None:
            raise QfinderError("The index is not open.", "See the earlier error for the cause.")
        return self.core

    # -- searching ---------------------------------------------------------------------------
    @Slot(object)
    def search(self, request: SearchRequest) -> None:
        self._gate.take(request.request_id)  # off the queue: a step held back for it may run
        if self._stop.is_set() or request.request_id < self._gate.latest:
            return  # a newer query is already queued: this one's answer would be thrown away
        self._guard("Searching", lambda: self.results.emit(self._core().search(request)))

    # -- roots and work ----------------------------------------------------------------------
    def _each_core(self, what: str, action: Callable[[EngineCore], None]) -> None:
        """Apply to the current core and to a model switch's staged core, then go on indexing."""
        def job() -> None:
            action(self._core())
            self._switch.for_pending(action)

        self._guard(what, job)
        self._after_change()

    @Slot(object)
    def add_roots(self, paths: tuple[str, ...]) -> None:
        def add(core: EngineCore) -> None:
            for path in paths:
                core.add_root(path)

        self._each_core("Adding folders", add)
        self._rewatch()  # watch before walking: nothing changed meanwhile is missed
        self._each_core("Checking new folders", lambda core: core.reconcile(list(paths)))

    @Slot(str)
    def remove_root(self, path: str) -> None:
        self._each_core("Removing a folder", lambda core: core.remove_root(path))
        self._rewatch()

    def _rewatch(self) -> None:
        if self._bridge is not None and self.core is not None:
            self._guard("Watching folders", lambda: self._bridge.set_roots(self._core().roots()))  # type: ignore[union-attr]

    @Slot(object)
    def rescan(self, path: str | None) -> None:
        roots = None if path is None else [path]
        self._each_core("Rescanning", lambda core: core.reconcile(roots))

    @Slot()
    def reconcile_all(self) -> None:
        self.rescan(None)

    @Slot(object)
    def retry_failed(self, paths: tuple[str, ...]) -> None:
        self._guard("Retrying failed files", lambda: self._core().retry_failed(list(paths)))
        self._after_change()

    @Slot(object)
    def apply_batch(self, batch: ChangeBatch) -> None:
        self._each_core("Applying file changes", lambda core: apply_batch(core, batch))

    @Slot(object)
    def apply_notice(self, notice: WatchNotice) -> None:
        self._guard("Handling a watcher notice", lambda: apply_notice(self._core(), notice))
        if notice.kind in ("watch-limit", "error", "polling"):
            self.error.emit(f"{notice.message} {notice.hint}".strip())
        self._after_change()

    # -- pause / resume / cancel -------------------------------------------------------------
    @Slot()
    def pause(self) -> None:
        self._paused = True
        self._set_state("paused", "Indexing paused.")
        self._emit_roots()

    @Slot()
    def resume(self) -> None:
        self._paused = False
        self._after_change()

    @Slot()
    def cancel_indexing(self) -> None:
        self._guard("Cancelling indexing", lambda: self._core().clear_pending())
        self._after_change()

    # -- dimension and model -----------------------------------------------------------------
    @Slot(int)
    def set_dim(self, dim: int) -> None:
        self._guard("Changing the search dimension", lambda: self._dims.request(self._core(), dim))
        self._emit_status()

    @Slot(object)
    def set_model(self, folder: str) -> None:
        def job() -> None:
            current = self._core()
            if current.read_only_reason:
                raise QfinderError(f"The model cannot be changed now: {current.read_only_reason}.",
                                   "Try again when the other qfinder process has finished.")
            self._set_state("rebuilding", f"Loading the model in {folder}…")
            self._switch.begin(self._cores.open_staging(folder), current.roots())

        self._guard("Switching models", job)
        self._after_change()

    # -- reporting ---------------------------------------------------------------------------
    def _set_state(self, state: EngineState, message: str) -> None:
        self._state = state
        self._message = message
        self._emit_status()

    def _emit_status(self) -> None:
        self.status.emit(make_status(self.core, self._state, self._message, self._dims.building))

    def _emit_roots(self) -> None:
        if self.core is None:
            return
        self._roots_due = self._clock() + self._settings.roots_interval_s
        modes = self._bridge.modes() if self._bridge is not None else {}
        self._guard("Reporting folders", lambda: self.roots.emit(
            merge_root_states(self._core().root_states(), modes, self._paused)))
