"""Test drivers that take the machine's speed out of engine tests.

`StepGate` holds every indexing step of an engine until the test lets it run, so how much
indexing happens between two actions of a test is decided by the test, not by how fast this
CPU embeds. `ManualClock` is a clock that only moves when the test moves it.

    gate = StepGate()
    client = EngineClient(gate.cores(LibraryOpener(data)), settings, model_folder=...)
    gate.wait_held(qtbot)       # the engine is inside a step, waiting
    gate.step(qtbot)            # exactly one step runs (returns once it is under way)
    gate.allow(3)               # three more steps may run, whenever the engine gets to them
    gate.open()                 # from now on steps run freely
    gate.close()                # ... until the gate is closed again
    gate.abort_held()           # held steps end as a cancelled inference would (shutdown)
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QCoreApplication

from qfinder.core.errors import CancelledError
from qfinder.core.library.library import Library
from qfinder.core.library.opener import LibraryOpener


class StepGate:
    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._permits = 0
        self._open = False
        self._abort = False
        self.held = 0  # steps waiting at the gate now
        self.passed = 0  # steps let through so far

    # -- the test's side ---------------------------------------------------------------------
    def allow(self, steps: int = 1) -> None:
        with self._cond:
            self._permits += steps
            self._cond.notify_all()

    def open(self) -> None:
        with self._cond:
            self._open = True
            self._cond.notify_all()

    def close(self) -> None:
        """Hold steps again (after `open`): each needs a permit from here on."""
        with self._cond:
            self._open = False
            self._permits = 0

    def abort_held(self) -> None:
        """Held and later steps raise CancelledError without running (what shutdown's
        RunOptions.terminate does to an inference in flight): nothing of them is committed."""
        with self._cond:
            self._abort = True
            self._cond.notify_all()

    def wait_held(self, qtbot: Any, timeout_ms: int = 30_000) -> None:
        """Wait until the engine is inside a step, held at the gate; every signal it sent before
        reaching the gate has been delivered when this returns."""
        qtbot.waitUntil(lambda: self.held > 0, timeout=timeout_ms)
        QCoreApplication.processEvents()  # posted before the engine got here: delivered now

    def step(self, qtbot: Any, timeout_ms: int = 30_000) -> None:
        """Let exactly one held step run and wait until it has gone through the gate."""
        before = self.passed
        self.allow(1)
        qtbot.waitUntil(lambda: self.passed > before, timeout=timeout_ms)

    def cores(self, opener: LibraryOpener) -> LibraryOpener:
        """`opener`, with every library it opens stepping through this gate."""
        def gate(library: Library) -> None:
            if library.upkeep is not None:  # a read-only library does no steps
                library.upkeep.step = self._gated(library.upkeep.step)  # type: ignore[method-assign]

        return as_opened(opener, gate)

    # -- the engine thread's side ------------------------------------------------------------

    def _gated(self, step: Callable[[], Any]) -> Callable[[], Any]:
        def gated_step() -> Any:
            self._pass()
            return step()

        return gated_step

    def _pass(self) -> None:
        with self._cond:
            self.held += 1
            try:
                while not (self._open or self._abort or self._permits > 0):
                    self._cond.wait()
                if self._abort:
                    raise CancelledError("the test ended this step")
                if not self._open:
                    self._permits -= 1
                self.passed += 1
            finally:
                self.held -= 1


def as_opened(opener: LibraryOpener, change: Callable[[Library], None]) -> LibraryOpener:
    """`opener`, calling `change(library)` on every library it opens (on the engine thread,
    before the engine uses it): how a test puts a stand-in into a part it is not about."""
    for name in ("open", "open_staging"):
        opens = getattr(opener, name)

        def open_changed(*args: Any, _opens: Callable[..., Library] = opens) -> Library:
            library = _opens(*args)
            change(library)
            return library

        setattr(opener, name, open_changed)
    return opener


class ManualClock:
    """A monotonic clock for code that takes `clock=`: it reads `now` and moves only on `advance`."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds
