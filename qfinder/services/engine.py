"""EngineClient: the GUI thread's handle on the engine thread.

    client = EngineClient(LibraryOpener(data_dir), settings=EngineSettings(), model_folder=None)
    client.results.connect(...); client.status.connect(...); ...
    client.start()
    rid = client.search(SearchRequest("budget 2024"))     # results(SearchResponse) echoes rid
    client.add_roots(["/home/me/Documents"]); client.pause(); client.resume()
    client.shutdown(timeout_s=3)                          # also run on QCoreApplication.aboutToQuit

Every method returns at once: it posts a queued call to the worker on the engine thread and
returns the request's id (ids only increase). A newer search makes older queued ones moot: the
worker skips any search whose id is below the newest issued. Signals carry plain frozen data
from qfinder.core.results / qfinder.core.state and arrive on the GUI thread.
"""

from __future__ import annotations

import dataclasses
import itertools
import logging
import threading
import time
from collections.abc import Callable, Iterable

from PySide6.QtCore import QCoreApplication, QObject, Qt, QThread, Signal

from qfinder.core.config import LibraryConfig
from qfinder.core.library.opener import LibraryOpener
from qfinder.core.results import SearchRequest

from .jobs import LatestSearch, StepTimes, worth_preempting
from .settings import EngineSettings
from .worker import EngineWorker

log = logging.getLogger(__name__)

_Q = Qt.ConnectionType.QueuedConnection


class EngineClient(QObject):
    results = Signal(object)  # SearchResponse (response.request.request_id = the id search() gave)
    progress = Signal(object)  # IndexProgress
    status = Signal(object)  # EngineStatus
    roots = Signal(object)  # tuple[RootState, ...]
    file_failed = Signal(object)  # FileFailure
    reembed_estimate = Signal(object)  # ReembedEstimate (answers estimate_reembed())
    index_changed = Signal(object)  # IndexChange: what to refresh in an open result list
    error = Signal(str)  # a human message
    stopped = Signal()

    # requests to the worker (queued onto the engine thread)
    _search = Signal(object)
    _add_roots = Signal(object)
    _remove_root = Signal(object)  # str; object keeps a name's undecodable bytes
    _rescan = Signal(object)
    _retry = Signal(object)
    _pause = Signal()
    _resume = Signal()
    _cancel = Signal()
    _set_dim = Signal(int)
    _set_model = Signal(object)
    _configure = Signal(object)
    _estimate = Signal()
    _close = Signal()

    def __init__(self, opener: LibraryOpener, settings: EngineSettings | None = None,
                 model_folder: str | None = None, parent: QObject | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(parent)
        self.settings = settings or EngineSettings()
        self._ids = itertools.count(1)
        self._gate = LatestSearch()
        self._stop = threading.Event()
        self._thread = QThread()
        self._thread.setObjectName("qfinder-engine")
        self.step_times = StepTimes()  # how long recent indexing steps took (any thread)
        self.worker = EngineWorker(opener, self.settings, model_folder, self._stop, self._gate,
                                   self.step_times, clock)
        self.worker.moveToThread(self._thread)
        self._wire()
        self._started = False
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)

    def _wire(self) -> None:
        w = self.worker
        for ours, theirs in ((self.results, w.results), (self.progress, w.progress),
                             (self.status, w.status), (self.roots, w.roots),
                             (self.file_failed, w.file_failed), (self.error, w.error),
                             (self.reembed_estimate, w.reembed_estimate),
                             (self.index_changed, w.index_changed),
                             (self.stopped, w.closed)):
            theirs.connect(ours, _Q)
        for request, slot in ((self._search, w.search), (self._add_roots, w.add_roots),
                              (self._remove_root, w.remove_root), (self._rescan, w.rescan),
                              (self._retry, w.retry_failed), (self._pause, w.pause),
                              (self._resume, w.resume), (self._cancel, w.cancel_indexing),
                              (self._set_dim, w.set_dim), (self._set_model, w.set_model),
                              (self._configure, w.configure), (self._estimate, w.estimate_reembed),
                              (self._close, w.close)):
            request.connect(slot, _Q)
        self._thread.started.connect(w.open)

    # -- lifetime ----------------------------------------------------------------------------
    def start(self) -> None:
        if not self._started:
            self._started = True
            self._thread.start()

    @property
    def preempted_steps(self) -> int:
        """Indexing steps a query has cancelled so far (each was redone after the query)."""
        return self.worker.preemption.count

    @property
    def thread_nice(self) -> int | None:
        """The engine thread's nice value once lowered (Linux; None elsewhere or not yet)."""
        return self.worker.nice

    @property
    def running(self) -> bool:
        return self._thread.isRunning()

    def shutdown(self, timeout_s: float = 3.0) -> bool:
        """Stop the engine: cancel inference, close the index cleanly, end the thread.

        Returns True when the thread ended within `timeout_s`. Never terminates the thread.
        """
        if not self._started or self._thread.isFinished():
            return True
        started = time.monotonic()
        self._stop.set()
        self.worker.cancel_running()  # thread-safe: Embedder.cancel() -> RunOptions.terminate
        self._close.emit()
        finished = self._thread.wait(int(timeout_s * 1000))
        if not finished:
            log.error("the engine did not stop within %.1f s; waiting for it", timeout_s)
            self._thread.wait()  # never QThread.terminate(): it corrupts the catalog
        log.info("engine stopped in %.2f s", time.monotonic() - started)
        return finished

    # -- requests ----------------------------------------------------------------------------
    def _next_id(self) -> int:
        return next(self._ids)

    def search(self, request: SearchRequest) -> int:
        request_id = self._next_id()
        self._gate.latest = request_id
        self._search.emit(dataclasses.replace(request, request_id=request_id))
        if worth_preempting(self.step_times.recent(), self.settings.preempt_steps_longer_than_s):
            self.worker.preemption.preempt()  # the query goes first; the step is redone after
        return request_id

    def add_roots(self, paths: Iterable[str]) -> int:
        self._add_roots.emit(tuple(str(p) for p in paths))
        return self._next_id()

    def remove_root(self, path: str) -> int:
        self._remove_root.emit(str(path))
        return self._next_id()

    def rescan(self, path: str | None = None) -> int:
        self._rescan.emit(None if path is None else str(path))
        return self._next_id()

    def retry_failed(self, paths: Iterable[str] = ()) -> int:
        self._retry.emit(tuple(str(p) for p in paths))
        return self._next_id()

    def pause(self) -> int:
        self._pause.emit()
        return self._next_id()

    def resume(self) -> int:
        self._resume.emit()
        return self._next_id()

    def cancel_indexing(self) -> int:
        self._cancel.emit()
        return self._next_id()

    def set_dim(self, dim: int) -> int:
        self._set_dim.emit(int(dim))
        return self._next_id()

    def set_model(self, folder: str) -> int:
        self._set_model.emit(str(folder))
        return self._next_id()

    def configure(self, config: LibraryConfig) -> int:
        """The data folder's new configuration (status.config has the current one): a change
        of model or chunking re-indexes in the background while the current index answers."""
        self._configure.emit(config)
        return self._next_id()

    def estimate_reembed(self) -> int:
        """Ask how much re-embedding every file would be: answered by reembed_estimate."""
        self._estimate.emit()
        return self._next_id()
