"""Nothing in the toolbar and filter rows moves when results arrive or go: a click aimed at the
dimension slider, the re-score toggle or the Folders panel must land where the user aimed."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, QRect


def _places(window) -> dict[str, QRect]:
    ui = window.ui
    window.centralWidget().layout().activate()  # what the next paint would show
    widgets = {"slider": ui.dim.slider, "rerank": ui.dim.rerank_box, "folders": ui.folders,
               "mode": ui.filters.mode_box, "search": ui.search_bar, "results": ui.results}
    return {name: QRect(w.mapTo(window, QPoint(0, 0)), w.size()) for name, w in widgets.items()}


def _search(qtbot, window, text: str) -> None:
    with qtbot.waitSignal(window.search.response_ready, timeout=3000):
        window.search.search_text(text)
    qtbot.waitUntil(lambda: window.ui.dim.stats_label.text() != "", timeout=3000)


@pytest.mark.parametrize("width", [900, 1100, 1200, 1400])
def test_results_arriving_or_going_move_nothing(qtbot, window, docs_folder, width):
    window.add_folders([str(docs_folder)])
    window.resize(width, 700)
    qtbot.waitUntil(lambda: window.width() == width)
    empty = _places(window)
    _search(qtbot, window, "budget 2024")
    assert window.ui.model.rowCount() > 0
    assert _places(window) == empty, "results arrived: widgets moved"
    _search(qtbot, window, "nothing-matches-this")
    assert window.ui.model.rowCount() == 0
    assert _places(window) == empty, "no results: widgets moved"
