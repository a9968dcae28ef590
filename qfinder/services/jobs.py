"""How the engine runs one job: never fatal, always reported; and which search is the newest."""

from __future__ import annotations

import logging
import statistics
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from typing import Protocol

from qfinder.core.errors import CancelledError, QfinderError

log = logging.getLogger(__name__)


LONG_JOB_S = 0.5  # a job on the engine thread longer than this is logged (debug): who holds the loop


class LatestSearch:
    """The newest search id the client has issued; older queued searches are skipped.

    `latest` is written by the GUI thread and `answered` (the newest id the engine thread has
    taken off its queue) by the engine thread: single int attributes, so no lock. While
    `latest > answered` a search is queued, and an indexing step not yet begun waits behind it.
    """

    def __init__(self) -> None:
        self.latest = 0
        self.answered = 0

    def take(self, request_id: int) -> None:
        self.answered = max(self.answered, request_id)

    def queued(self) -> bool:
        return self.latest > self.answered


def run_guarded(what: str, job: Callable[[], None], report: Callable[[str], None]) -> bool:
    """Run one job; an exception is logged with its traceback and reported, never raised.

    A cancellation (shutdown stopping an inference) is expected and only logged.
    Returns True when the job finished.
    """
    started = time.perf_counter()
    try:
        job()
        return True
    except CancelledError:
        log.info("%s cancelled", what)
    except QfinderError as exc:
        log.warning("%s failed: %s", what, exc)
        report(f"{what} failed: {exc}")
    except Exception as exc:
        log.error("%s failed:\n%s", what, traceback.format_exc())
        report(f"{what} failed: {exc}")
    finally:
        elapsed = time.perf_counter() - started
        if elapsed > LONG_JOB_S:
            log.debug("%s held the engine thread for %.2f s", what, elapsed)
    return False


class StepTimes:
    """How long recent indexing steps took: recorded on the engine thread, read by the client's
    thread to decide whether a query should preempt the running step."""

    KEPT = 50

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seconds: list[float] = []

    def record(self, seconds: float) -> None:
        with self._lock:
            self._seconds = [*self._seconds[-(self.KEPT - 1):], seconds]

    def recent(self) -> list[float]:
        with self._lock:
            return list(self._seconds)

    def clear(self) -> None:
        with self._lock:
            self._seconds = []


class StepPreemption:
    """Lets a query interrupt a long indexing step (any thread may call `preempt`).

    An inference cannot be split, so on a big model on CPU one step can take seconds even when it
    holds a single chunk. A query arriving then cancels the step's inference (Embedder.cancel →
    RunOptions.terminate, well under a second); nothing was committed, the step's files stay
    queued and are embedded again by the next step, after the query. The lock makes sure a
    cancel can only hit a step: the flag is cleared under it when the step ends, before the
    query runs.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._core: Cancellable | None = None
        self.count = 0  # steps preempted so far

    def begin(self, core: Cancellable) -> None:
        with self._lock:
            self._core = core

    def end(self, stopping: bool) -> None:
        with self._lock:
            core, self._core = self._core, None
            if core is not None and not stopping:
                core.reset_cancel()

    def preempt(self) -> bool:
        with self._lock:
            if self._core is None:
                return False
            self._core.cancel()
            self.count += 1
            return True


class Cancellable(Protocol):
    def cancel(self) -> None: ...
    def reset_cancel(self) -> None: ...


def worth_preempting(recent_steps: Sequence[float], longer_than_s: float | None) -> bool:
    """Preempt only where steps are long: on a fast model the query waits less than a redo costs."""
    if longer_than_s is None or not recent_steps:
        return False
    return statistics.median(recent_steps[-5:]) > longer_than_s
