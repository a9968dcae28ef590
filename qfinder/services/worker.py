"""The engine worker: a QObject living on the engine thread that owns the open `Library`.

Everything that touches the embedder, the catalog or the vector indexes runs here, one job at a
time. Requests arrive as queued slot calls (posted events, handled in arrival order). Indexing
runs in small steps between them (`IndexingLoop`, composed); a dimension is built off-thread
(`DimBuilder`); a model switch fills a second library while the current one answers.

Longer than the ~300 lines a module should be: it is the engine's whole request surface (one
short slot per EngineClient request) plus the library's lifetime on this thread; the work itself
lives in the composed parts.

Signals (queued to the client's thread by EngineClient):
    results(SearchResponse), progress(IndexProgress), status(EngineStatus),
    reembed_estimate(ReembedEstimate),
    roots(tuple[RootState, ...]), file_failed(FileFailure), error(str), closed(),
    index_changed(IndexChange): files the searchable index gained, changed or lost (after each
        committed step, watcher batch or removal; never empty)
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable

from PySide6.QtCore import QObject, QThread, QTimer, Signal, Slot

from qfinder.core.config import LibraryConfig
from qfinder.core.errors import QfinderError
from qfinder.core.library.library import Library
from qfinder.core.library.opener import LibraryOpener
from qfinder.core.library.upkeep import Upkeep
from qfinder.core.library.writelock import WriterBusyError
from qfinder.core.results import SearchRequest
from qfinder.core.state import EngineState
from qfinder.core.storage.recovery import CatalogDamaged

from .idle_model import IdleModel
from .indexing_loop import IndexingLoop
from .jobs import LatestSearch, StepPreemption, StepTimes, run_guarded
from .priority import lower_current_thread
from .rebuild import DimBuilder, ModelSwitch, writer_of
from .reporting import make_status, merge_root_states
from .settings import EngineSettings
from .watch_bridge import WatchBridge
from .writer_wait import WriterWait

log = logging.getLogger(__name__)

CREATING_ELSEWHERE = ("Another qfinder process is creating the index in this data folder; "
                      "searching and indexing start when it finishes.")


class EngineWorker(QObject):
    results = Signal(object)  # SearchResponse
    progress = Signal(object)  # IndexProgress
    status = Signal(object)  # EngineStatus
    roots = Signal(object)  # tuple[RootState, ...]
    file_failed = Signal(object)  # FileFailure
    reembed_estimate = Signal(object)  # ReembedEstimate
    index_changed = Signal(object)  # IndexChange
    error = Signal(str)
    closed = Signal()

    def __init__(self, opener: LibraryOpener, settings: EngineSettings, model_folder: str | None,
                 stop: threading.Event, gate: LatestSearch, step_times: StepTimes | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self._opener = opener
        self._settings = settings
        self._model_folder = model_folder
        self._stop = stop
        self._gate = gate
        self.core: Library | None = None
        self._bridge: WatchBridge | None = None
        self._state: EngineState = "starting"
        self._message = ""
        self._switch = ModelSwitch(opener)
        self._loop = IndexingLoop(lambda: self.core, self._switch, settings, stop, gate,
                                  step_times or StepTimes(), clock, self._guard, self)
        self._dims = DimBuilder(lambda: self.core, self)
        self._idle_model = IdleModel(lambda: self.core, settings, clock, self)
        self._wire_parts()
        self.nice: int | None = None  # the engine thread's nice value once lowered (Linux)
        self._reconcile_timer: QTimer | None = None
        self._writer_wait: WriterWait | None = None  # polls the write lock while read-only
        self._creating_elsewhere = False  # the lock was busy and there was no catalog to read

    def _wire_parts(self) -> None:
        loop = self._loop
        loop.progress.connect(self.progress)
        loop.progress.connect(self._emit_changes)
        loop.file_failed.connect(self.file_failed)
        loop.stepping.connect(self._on_stepping)
        loop.roots_due.connect(self._emit_roots)
        loop.caught_up.connect(self._finish_idle)
        loop.held.connect(self._on_held)
        self._dims.changed.connect(self._emit_status)
        self._dims.failed.connect(self.error)
        self._idle_model.released.connect(self._emit_status)

    @property
    def preemption(self) -> StepPreemption:
        """The running step's preemption (any thread may call `preempt()`)."""
        return self._loop.preemption

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
        self._reopen("Closing the damaged index")

    def _reopen(self, what: str) -> None:
        """Close the library and open it again as its folder's settings now say; catch up."""
        closing, self.core = self.core, None
        if closing is not None:
            self._guard(what, closing.close)
        self._open_library()
        self._rewatch()
        self._upkeep().reconcile(None)
        self._after_change()

    # -- lifetime ----------------------------------------------------------------------------
    @Slot()
    def open(self) -> None:
        self.nice = lower_current_thread(self._settings.nice)
        QThread.currentThread().setPriority(QThread.Priority.LowPriority)
        self._writer_wait = WriterWait(self._opener.writer_free, self._settings.writer_poll_s, self)
        self._writer_wait.free.connect(self._take_over)
        self._guard("Opening the index", self._open_library)
        self._idle_model.start()
        self._begin()

    def _begin(self) -> None:
        """Index and watch as the writer, or search read-only until the writer lock is free."""
        if self.core is None:
            self._set_state(*(("idle", CREATING_ELSEWHERE) if self._creating_elsewhere else
                              ("error", self._message or "The index could not be opened.")))
            if self._creating_elsewhere:
                self._writer_wait.start()  # type: ignore[union-attr]
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
        self._guard("Checking folders for changes", lambda: self._upkeep().reconcile(None))
        self._after_change()

    @Slot()
    def _take_over(self) -> None:
        """The other process finished: reopen as the writer and catch up with the folders."""
        if self._stop.is_set():
            return
        reader, self.core = self.core, None
        if reader is not None:
            self._guard("Closing the read-only index", reader.close)
        self._guard("Opening the index", self._open_library)
        log.info("took over indexing (writer lock free)")
        self._begin()

    def _open_library(self) -> None:
        self._creating_elsewhere = False
        try:
            self.core = self._opener.open(self._model_folder)
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
        self._bridge = WatchBridge(self._settings, lambda: self.core, self._each_writer, self)
        self._bridge.applied.connect(self._after_change)
        self._bridge.trouble.connect(self.error)
        self._bridge.start(self._core().roots())

    @Slot()
    def close(self) -> None:
        """Stop watching, finish or roll back the open transaction, and end the thread's loop."""
        self._loop.stop()
        for timer in (self._reconcile_timer, self._writer_wait, self._idle_model):
            if timer is not None:
                timer.stop()
        if self._bridge is not None:
            self._guard("Stopping the watcher", self._bridge.stop)
        self._dims.stop()
        self._guard("Closing the new model's index", self._switch.close_pending)
        if self.core is not None:
            self._guard("Closing the index", self.core.close)
        self.core = None
        self._set_state("stopped", "")
        self.closed.emit()
        QThread.currentThread().quit()

    def cancel_running(self) -> None:
        """Any thread: stop the inference in flight (current library and a model switch's)."""
        for library in (self.core, self._switch.pending):
            if library is not None:
                library.cancel()

    def _core(self) -> Library:
        if self.core is None:
            raise QfinderError("The index is not open.", "See the earlier error for the cause.")
        return self.core

    def _upkeep(self) -> Upkeep:
        return writer_of(self._core())

    # -- searching ---------------------------------------------------------------------------
    @Slot(object)
    def search(self, request: SearchRequest) -> None:
        self._gate.take(request.request_id)  # off the queue: a step held back for it may run
        if self._stop.is_set() or request.request_id < self._gate.latest:
            return  # a newer query is already queued: this one's answer would be thrown away
        self._idle_model.used()
        self._guard("Searching", lambda: self.results.emit(self._core().search(request)))

    # -- roots and work ----------------------------------------------------------------------
    def _each_writer(self, what: str, action: Callable[[Upkeep], None]) -> None:
        """Apply to the current library and to a model switch's staged one."""
        def job() -> None:
            action(self._upkeep())
            self._switch.for_pending(lambda staged: action(writer_of(staged)))

        self._guard(what, job)

    @Slot(object)
    def add_roots(self, paths: tuple[str, ...]) -> None:
        def add(upkeep: Upkeep) -> None:
            for path in paths:
                upkeep.add_root(path)

        self._each_writer("Adding folders", add)
        self._after_change()
        self._rewatch()  # watch before walking: nothing changed meanwhile is missed
        self._each_writer("Checking new folders", lambda upkeep: upkeep.reconcile(list(paths)))
        self._after_change()

    @Slot(object)
    def remove_root(self, path: str) -> None:
        self._each_writer("Removing a folder", lambda upkeep: upkeep.remove_root(path))
        self._after_change()
        self._rewatch()

    def _rewatch(self) -> None:
        if self._bridge is not None and self.core is not None:
            self._guard("Watching folders", lambda: self._bridge.set_roots(self._core().roots()))  # type: ignore[union-attr]

    @Slot(object)
    def rescan(self, path: str | None) -> None:
        roots = None if path is None else [path]
        self._each_writer("Rescanning", lambda upkeep: upkeep.reconcile(roots))
        self._after_change()

    @Slot()
    def reconcile_all(self) -> None:
        self.rescan(None)

    @Slot(object)
    def retry_failed(self, paths: tuple[str, ...]) -> None:
        self._guard("Retrying failed files", lambda: self._upkeep().retry_failed(list(paths)))
        self._after_change()

    # -- pause / resume / cancel -------------------------------------------------------------
    @Slot()
    def pause(self) -> None:
        self._loop.paused = True
        self._set_state("paused", "Indexing paused.")
        self._emit_roots()

    @Slot()
    def resume(self) -> None:
        self._loop.paused = False
        self._loop.retry_now()
        self._after_change()

    @Slot(str)
    def _on_held(self, message: str) -> None:
        """The embedding server is away or changed: search goes on, indexing waits (says why)."""
        self._set_state("paused", message)
        self._emit_roots()

    @Slot()
    def cancel_indexing(self) -> None:
        self._guard("Cancelling indexing", lambda: self._upkeep().clear_pending())
        self._after_change()

    # -- dimension and model -----------------------------------------------------------------
    @Slot(int)
    def set_dim(self, dim: int) -> None:
        self._guard("Changing the search dimension", lambda: self._dims.request(self._core(), dim))

    @Slot(object)
    def set_model(self, folder: str) -> None:
        self.configure_with(lambda config: config.with_changes(
            model_folder=os.path.abspath(os.path.expanduser(folder))))

    @Slot(object)
    def configure(self, config: LibraryConfig) -> None:
        self.configure_with(lambda _current: config)

    def configure_with(self, change: Callable[[LibraryConfig], LibraryConfig]) -> None:
        """Settings that re-embed (model, variant, chunking) fill a second library while this
        one answers; the others apply at once (a rescan picks up what they include)."""
        def job() -> None:
            current = self._core()
            config = change(current.config)
            if current.config.reembeds(config):
                self._set_state("rebuilding", "Re-indexing with the new settings…")
                self._switch.begin(current, config)
            elif current.config.switches_source(config):  # same model, embedded elsewhere
                current.reconfigure(config)
                self._reopen("Closing the index to embed elsewhere")
            else:
                current.reconfigure(config)
                self._upkeep().reconcile(None)

        self._guard("Applying the settings", job)
        self._after_change()

    @Slot()
    def estimate_reembed(self) -> None:
        self._guard("Estimating a re-index",
                    lambda: self.reembed_estimate.emit(self._core().reembed_estimate()))

    # -- indexing states ---------------------------------------------------------------------
    def _after_change(self) -> None:
        self._emit_status()
        self._emit_roots()
        self._emit_changes()
        self._loop.post()

    @Slot()
    def _on_stepping(self) -> None:
        self._idle_model.used()
        if self._state not in ("indexing", "rebuilding"):
            self._set_state("rebuilding" if self._switch.pending else "indexing", "Indexing…")

    @Slot()
    def _finish_idle(self) -> None:
        """No work left: a staged model switch is promoted, the catalog settles (its WAL
        truncated: after a full disk the space freed is not refilled), and "Up to date"."""
        if self._switch.pending is not None and self.core is not None:
            current, self.core = self.core, None
            try:
                self.core = self._switch.promote(current)
            except Exception as exc:
                log.exception("switching to the new model failed")
                self._set_state("error", f"Switching models failed: {exc}")
                self.error.emit(f"Switching models failed: {exc}")
                return
            self._rewatch()
            self._emit_changes()  # every file of the new index
        if self._state != "idle":
            self._guard("Tidying the index", lambda: self._upkeep().settle())
            self._set_state("idle", "Up to date.")
            self._emit_roots()

    # -- reporting ---------------------------------------------------------------------------
    def _set_state(self, state: EngineState, message: str) -> None:
        self._state = state
        self._message = message
        self._emit_status()

    @Slot()
    def _emit_status(self) -> None:
        self.status.emit(make_status(self.core, self._state, self._message, self._dims.building))

    @Slot()
    def _emit_changes(self) -> None:
        """Only the library searched counts: a model switch's files matter once it is promoted."""
        if self.core is not None:
            change = self.core.take_changes()
            if change:
                self.index_changed.emit(change)

    @Slot()
    def _emit_roots(self) -> None:
        if self.core is None:
            return
        self._loop.roots_sent()
        modes = self._bridge.modes() if self._bridge is not None else {}
        # the library being indexed: during a model switch the new one, whose progress the
        # status bar shows (the current one's counts stand still until it is replaced)
        indexed = self._switch.pending or self._core()
        self._guard("Reporting folders", lambda: self.roots.emit(
            merge_root_states(indexed.root_states(), modes, self._loop.paused)))
