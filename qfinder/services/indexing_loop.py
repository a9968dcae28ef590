"""The engine's indexing loop: one small step per tick, each tick posted behind queued requests.

Indexing is never one long job: `_tick` does one step (one batch: extract, chunk, embed, one
committed transaction) and posts the next tick behind whatever arrived meanwhile, so a query
waits for at most the step that was running when it came in. A tick that comes up while a search
is still queued (it was posted before the search arrived) does not start a step: it re-posts
itself behind the search, else that search would wait for the running job AND a whole new step. A step may be preempted by a query
(StepPreemption), rested after (EngineSettings.throttle), and the folders' states are re-sent
from steps at most every `roots_interval_s`. When no work is left a staged model switch is
promoted, the catalog settles (its WAL truncated: after a full disk the space freed is not
taken back by the WAL) and the engine reports "Up to date".
"""

from __future__ import annotations

import logging
import time
import traceback
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QTimer, Slot

from qfinder.core.state import EngineState, IndexProgress

from .core_port import CoreProvider, EngineCore
from .jobs import LatestSearch, StepPreemption
from .rebuild import ModelSwitch
from .settings import EngineSettings

log = logging.getLogger(__name__)


class IndexingLoop:
    """Mixed into EngineWorker, which owns the signals, the core and the reporting."""

    # provided by EngineWorker
    core: EngineCore | None
    progress: Any  # Signal(IndexProgress)
    file_failed: Any  # Signal(FileFailure)
    error: Any  # Signal(str)
    _tick_posted: Any  # Signal(): queued to _tick
    _cores: CoreProvider
    _settings: EngineSettings
    _stop: Any  # threading.Event
    _gate: LatestSearch  # a search still queued holds back the next step
    _switch: ModelSwitch
    _state: EngineState
    _paused: bool
    _tick_pending: bool
    _throttle_timer: QTimer | None
    _roots_due: float  # clock time after which a step re-sends the folders' states
    _clock: Callable[[], float]
    batch_seconds: list[float]  # duration of recent steps (bench and tests)
    preemption: StepPreemption

    def _guard(self, what: str, job: Any) -> None: ...
    def _set_state(self, state: EngineState, message: str) -> None: ...
    def _emit_status(self) -> None: ...
    def _emit_roots(self) -> None: ...
    def _rewatch(self) -> None: ...

    def _after_change(self) -> None:
        self._emit_status()
        self._emit_roots()
        self._post_tick()

    def _post_tick(self) -> None:
        if self._tick_pending or self._paused or self._stop.is_set() or self.core is None:
            return
        self._tick_pending = True
        self._tick_posted.emit()

    @Slot()
    def _tick(self) -> None:
        self._tick_pending = False
        if self._paused or self._stop.is_set() or self.core is None:
            return
        if self._gate.queued():
            self._post_tick()  # behind the queued search: it goes first
            return
        worker_core = self._switch.pending or self.core
        if not worker_core.has_work():
            self._finish_idle()
            return
        started = time.perf_counter()
        self.preemption.begin(worker_core)
        try:
            self._guard("Indexing", lambda: self._step(worker_core))
        finally:
            self.preemption.end(stopping=self._stop.is_set())
        elapsed = time.perf_counter() - started
        self.batch_seconds = [*self.batch_seconds[-49:], elapsed]
        self._schedule_next(elapsed)

    def _step(self, core: EngineCore) -> None:
        if self._state not in ("indexing", "rebuilding"):
            self._set_state("rebuilding" if self._switch.pending else "indexing", "Indexing…")
        progress: IndexProgress = core.step()
        self.progress.emit(progress)
        for failure in core.take_failures():
            self.file_failed.emit(failure)
        if self._clock() >= self._roots_due:
            self._emit_roots()  # the folders panel's "indexing n/m", at a bounded rate

    def _schedule_next(self, elapsed: float) -> None:
        delay_ms = int(elapsed * self._settings.throttle * 1000)
        if delay_ms > 0 and self._throttle_timer is not None:
            self._throttle_timer.start(delay_ms)
        else:
            self._post_tick()

    def _finish_idle(self) -> None:
        staged = self._switch.finish()
        if staged is not None and self.core is not None:
            current, self.core = self.core, None
            try:
                self.core = self._cores.promote(current, staged)
            except Exception as exc:
                log.error("switching to the new model failed:\n%s", traceback.format_exc())
                self._set_state("error", f"Switching models failed: {exc}")
                self.error.emit(f"Switching models failed: {exc}")
                return
            self._rewatch()
        if self._state != "idle":
            self._guard("Tidying the index", lambda: self.core.settle() if self.core else None)
            self._set_state("idle", "Up to date.")
            self._emit_roots()
