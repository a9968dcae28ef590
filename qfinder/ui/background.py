"""Run a slow function (download, optimize, folder check) off the GUI thread.

`BackgroundJob` runs `work(report, cancel_event)` in a plain Python thread; its signals are
emitted from that thread and delivered queued to slots in the GUI thread, so the window never
waits. `report(value)` forwards progress; setting the cancel event asks `work` to stop.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal

log = logging.getLogger(__name__)

Work = Callable[[Callable[[Any], None], threading.Event], Any]


class BackgroundJob(QObject):
    progress = Signal(object)
    succeeded = Signal(object)
    failed = Signal(object)  # the exception
    done = Signal()

    def __init__(self, work: Work, name: str = "qfinder-job", parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._work = work
        self.cancel_event = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def cancel(self) -> None:
        self.cancel_event.set()

    def is_running(self) -> bool:
        return self._thread.is_alive()

    def wait(self, timeout_s: float | None = None) -> bool:
        self._thread.join(timeout_s)
        return not self._thread.is_alive()

    def _run(self) -> None:
        try:
            result = self._work(self._report, self.cancel_event)
        except BaseException as exc:  # noqa: BLE001 - reported to the GUI, never lost
            log.info("background job %s failed: %s", self._thread.name, exc)
            self._emit(self.failed, exc)
        else:
            self._emit(self.succeeded, result)
        finally:
            self._emit(self.done)

    def _report(self, value: Any) -> None:
        self._emit(self.progress, value)

    def _emit(self, signal: Any, *args: Any) -> None:
        """Emit unless the receiving widgets are gone (a dialog closed while the job ran)."""
        try:
            signal.emit(*args)
        except RuntimeError:  # the C++ side was deleted: nobody is listening any more
            log.debug("background job %s finished after its owner was deleted", self._thread.name)
