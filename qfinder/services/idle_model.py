"""Close the model once it has gone unused for a while: an idle app gives its memory back.

A model open in the app holds far more than its file: on multilingual-e5-small (68 MB of ONNX)
an idle process that had indexed 300 files stood at 549 MB, 141 MB after the model was closed
(its XLM-R tokenizer alone holds ~280 MB; bench/bench_idle_rss.py). Reopening it from the
optimized-graph cache takes a fraction of a second on the next search or changed file, so after
`EngineSettings.model_idle_s` without an inference the engine closes it (0: never). The clock is
the engine's injected one: tests move it by hand.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from qfinder.core.library.library import Library

from .settings import EngineSettings


class IdleModel(QObject):
    released = Signal()  # the model was closed (the engine reports its status again)

    def __init__(self, current: Callable[[], Library | None], settings: EngineSettings,
                 clock: Callable[[], float], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._current = current
        self._idle_s = settings.model_idle_s
        self._clock = clock
        self._used_at = clock()
        self._timer = QTimer(self)
        self._timer.setInterval(int(settings.model_check_s * 1000))
        self._timer.timeout.connect(self.check)

    def start(self) -> None:
        if self._idle_s > 0:
            self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    def used(self) -> None:
        """The model ran (or may have: a search, an indexing step): its idle time starts again."""
        self._used_at = self._clock()

    @Slot()
    def check(self) -> None:
        core = self._current()
        if core is None or self._idle_s <= 0 or self._clock() - self._used_at < self._idle_s:
            return
        if core.release_model():
            self.released.emit()
