"""WriterWait: while another process indexes the data folder, wait for its write lock.

The desktop engine opens the data folder as its writer, or read-only when another process (a
`qfinder index` run, another data-folder user) holds the write lock: it then searches what that
process has indexed so far and polls the lock, cheaply, every `interval_s`; `free` fires on the
engine thread once the lock could be taken, and the engine reopens itself as the writer.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer, Signal, Slot


class WriterWait(QObject):
    free = Signal()  # the write lock could be taken now (emitted once per start())

    def __init__(self, writer_free: Callable[[], bool], interval_s: float,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._writer_free = writer_free
        self._timer = QTimer(self)
        self._timer.setInterval(max(1, int(interval_s * 1000)))
        self._timer.timeout.connect(self._poll)

    def start(self) -> None:
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    @Slot()
    def _poll(self) -> None:
        if self._writer_free():
            self._timer.stop()
            self.free.emit()
