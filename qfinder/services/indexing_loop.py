"""The engine's indexing loop: one small step per tick, each tick posted behind queued requests.

Indexing is never one long job: a tick does one step (one batch: extract, chunk, embed, one
committed transaction) and posts the next tick behind whatever arrived meanwhile, so a query
waits for at most the step that was running when it came in. A tick that comes up while a search
is still queued (it was posted before the search arrived) does not start a step: it re-posts
itself behind the search, else that search would wait for the running job AND a whole new step.
A step may be preempted by a query (StepPreemption) and rested after (EngineSettings.throttle);
the library being switched to (a model switch) is indexed before the current one.

Signals (on the engine thread):
    stepping(): a step is about to run (the engine says "Indexing…")
    progress(IndexProgress): a step finished
    file_failed(FileFailure): a file or folder failed (or was found by name only)
    roots_due(): the folders' states are due to be re-sent (at most every roots_interval_s)
    caught_up(): no work left
    held(str): indexing waits — the embedding server is unreachable (retried by itself, the
        message says when) or serves another model (stopped until resumed); nothing is lost:
        the step's files stay queued and pending in the catalog
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from PySide6.QtCore import QObject, Qt, QTimer, Signal, Slot

from qfinder.core.library.library import Library
from qfinder.core.model.remote.errors import IdentityMismatch, ServerUnavailable

from .jobs import LatestSearch, StepPreemption, StepTimes
from .rebuild import ModelSwitch
from .settings import EngineSettings

Guard = Callable[[str, Callable[[], None]], None]  # runs a job, reporting (never raising) errors


class IndexingLoop(QObject):
    stepping = Signal()
    progress = Signal(object)  # IndexProgress
    file_failed = Signal(object)  # FileFailure
    roots_due = Signal()
    caught_up = Signal()
    held = Signal(str)
    _tick_posted = Signal()

    def __init__(self, current: Callable[[], Library | None], switch: ModelSwitch,
                 settings: EngineSettings, stop: threading.Event, gate: LatestSearch,
                 step_times: StepTimes, clock: Callable[[], float], guard: Guard,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._current = current
        self._switch = switch
        self._settings = settings
        self._stop = stop
        self._gate = gate
        self._step_times = step_times
        self._clock = clock  # paces the folders' states; tests move it by hand
        self._guard = guard
        self.paused = False
        self.preemption = StepPreemption()  # a query may cancel a long step (any thread)
        self._pending = False
        self._roots_due = 0.0
        self._throttle = QTimer(self)
        self._throttle.setSingleShot(True)
        self._throttle.timeout.connect(self._tick)
        self.waiting = False  # for the embedding server: no step until the retry timer fires
        self._retry_s = settings.server_retry_s
        self._retry = QTimer(self)
        self._retry.setSingleShot(True)
        self._retry.timeout.connect(self.retry_now)
        self._tick_posted.connect(self._tick, Qt.ConnectionType.QueuedConnection)

    def roots_sent(self) -> None:
        """The folders' states were just sent: the next re-send from a step waits an interval."""
        self._roots_due = self._clock() + self._settings.roots_interval_s

    def post(self) -> None:
        if self._pending or self.paused or self.waiting or self._stop.is_set() or self._current() is None:
            return
        self._pending = True
        self._tick_posted.emit()

    def stop(self) -> None:
        self._throttle.stop()
        self._retry.stop()

    @Slot()
    def retry_now(self) -> None:
        """Try the server again (the retry timer, or a person resuming)."""
        self._retry.stop()
        self.waiting = False
        self.post()

    @Slot()
    def _tick(self) -> None:
        self._pending = False
        current = self._current()
        if self.paused or self.waiting or self._stop.is_set() or current is None:
            return
        if self._gate.queued():
            self.post()  # behind the queued search: it goes first
            return
        target = self._switch.pending or current
        upkeep = target.upkeep
        if upkeep is None or not upkeep.has_work():
            self.caught_up.emit()
            return
        started = time.perf_counter()
        self.preemption.begin(target)
        try:
            self._guard("Indexing", lambda: self._step_or_hold(target))
        finally:
            self.preemption.end(stopping=self._stop.is_set())
        elapsed = time.perf_counter() - started
        self._step_times.record(elapsed)
        if not self.waiting:
            self._schedule_next(elapsed)

    def _step_or_hold(self, target: Library) -> None:
        try:
            self._step(target)
        except ServerUnavailable as exc:
            wait = max(self._retry_s, min(exc.retry_in_s, self._settings.server_retry_max_s))
            self._retry_s = min(wait * 2, self._settings.server_retry_max_s)
            self.waiting = True
            self._retry.start(int(wait * 1000))
            self.held.emit(f"Indexing paused: {exc.message} Retrying in {wait:.0f} s.")
            return
        except IdentityMismatch as exc:
            self.paused = True  # until a person resumes: retrying cannot make the vectors agree
            self.held.emit(f"Indexing stopped: {exc}")
            return
        self._retry_s = self._settings.server_retry_s

    def _step(self, target: Library) -> None:
        assert target.upkeep is not None
        self.stepping.emit()
        self.progress.emit(target.upkeep.step())
        for failure in target.upkeep.take_failures():
            self.file_failed.emit(failure)
        if self._clock() >= self._roots_due:
            self.roots_due.emit()  # the folders panel's "indexing n/m", at a bounded rate

    def _schedule_next(self, elapsed: float) -> None:
        delay_ms = int(elapsed * self._settings.throttle * 1000)
        if delay_ms > 0:
            self._throttle.start(delay_ms)
        else:
            self.post()
