"""The open result list follows the index: a file that left it goes at once, and the query is
asked again when files changed, at most once per `interval_s`, keeping the reader's place.

    live = LiveResults(search_controller, results_model, parent)
    engine.index_changed.connect(live.on_index_changed)

Indexing commits a step every second or so while a folder is being added: asking again after
every step would redo the query (and repaint the list) that often for nothing, so changes that
come within `interval_s` of the last refresh wait for its end and go as one.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from qfinder.core.state import IndexChange
from qfinder.ui.results_model import ResultsModel
from qfinder.ui.search_controller import SearchController

REFRESH_INTERVAL_S = 1.0


class RefreshPacer(QObject):
    """`request()` emits `due` now, or once at the end of the interval since the last `due`."""

    due = Signal()

    def __init__(self, interval_s: float = REFRESH_INTERVAL_S, clock: Callable[[], float] = time.monotonic,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.interval_s = interval_s
        self._clock = clock
        self._last: float | None = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._fire)

    @property
    def waiting(self) -> bool:
        return self._timer.isActive()

    def request(self) -> None:
        if self._timer.isActive():
            return  # the refresh already due covers this change too
        since = None if self._last is None else self._clock() - self._last
        if since is None or since >= self.interval_s:
            self._fire()
        else:
            self._timer.start(max(1, int((self.interval_s - since) * 1000)))

    @Slot()
    def _fire(self) -> None:
        self._last = self._clock()
        self.due.emit()


class LiveResults(QObject):
    def __init__(self, search: SearchController, model: ResultsModel, parent: QObject | None = None,
                 pacer: RefreshPacer | None = None) -> None:
        super().__init__(parent)
        self._search = search
        self._model = model
        self.pacer = pacer or RefreshPacer(parent=self)
        self.pacer.due.connect(self._refresh)

    @Slot(object)
    def on_index_changed(self, change: IndexChange) -> None:
        if self._search.last_response is None:
            return  # nothing shown: the next query reads the index as it is then
        self._model.drop_gone(change.gone)
        self.pacer.request()

    @Slot()
    def _refresh(self) -> None:
        if self._search.has_query():
            self._search.refresh()
