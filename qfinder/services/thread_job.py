"""Run one slow function (a download, an optimizer, reading a file to preview) on its own QThread.

    job = start_job(lambda: read(path), "qfinder-preview", show, report)
    # show(result) / report(exc) arrive queued on the thread that started the job

A running QThread may not be destroyed (Qt aborts the process), and the widget that started a
job may close before it ends: so the job keeps itself alive until its thread has finished, and
the application waits for running jobs when it quits (a download stops at its next chunk once
cancelled; an optimizer runs to its end).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QCoreApplication, QThread, Signal, Slot

log = logging.getLogger(__name__)

_running: set[ThreadJob] = set()  # started jobs, held until their thread has finished


class ThreadJob(QThread):
    """Signals:
        succeeded(object): what the work returned
        failed(object): the exception (BaseException) the work raised
    """

    succeeded = Signal(object)
    failed = Signal(object)

    def __init__(self, work: Callable[[], Any], name: str) -> None:
        super().__init__()  # no parent: a closed dialog must not take a running thread with it
        self.setObjectName(name)
        self._work = work
        self.finished.connect(self._release)  # queued: this object lives on the starting thread
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self._wait_out)

    def run(self) -> None:
        try:
            result = self._work()
        except BaseException as exc:  # noqa: BLE001 - handed to the starting thread, never lost
            log.info("job %s failed: %s", self.objectName(), exc)
            self.failed.emit(exc)
        else:
            self.succeeded.emit(result)

    @Slot()
    def _release(self) -> None:
        _running.discard(self)

    @Slot()
    def _wait_out(self) -> None:
        if self.isRunning():
            log.info("waiting for %s to finish before quitting", self.objectName())
            self.wait()


def start_job(work: Callable[[], Any], name: str, on_success: Callable[[Any], None],
              on_failure: Callable[[BaseException], None]) -> ThreadJob:
    """Start `work()` on a new thread; its outcome goes to `on_success` or `on_failure`. They are
    connected before the thread starts: a signal emitted with nothing connected is lost, and a
    quick job can end before the caller's next line runs."""
    job = ThreadJob(work, name)
    job.succeeded.connect(on_success)
    job.failed.connect(on_failure)
    _running.add(job)
    job.start()
    return job
