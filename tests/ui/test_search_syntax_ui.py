"""The window's side of the query syntax: the help popup, the custom date range, and what the
answer says about the query shown on the search bar and the status line."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime

from PySide6.QtCore import QDate, Qt

from qfinder.core.results import SearchResponse
from qfinder.ui.filters_bar import CUSTOM_RANGE


def test_f1_and_the_question_mark_open_the_syntax_help(qtbot, window):
    bar = window.ui.search_bar
    help_window = bar.syntax_help
    assert not help_window.isVisible()
    bar.setFocus()
    qtbot.keyClick(bar, Qt.Key.Key_F1)
    qtbot.waitUntil(help_window.isVisible)
    text = help_window.table.toPlainText().replace("\xa0", " ")
    for form in ("ext:pdf", "*.pdf", "type:code", "path:Finance", "size:>1mb", "modified:2024-03",
                 "-deposit", "NOT", "rent OR lease", "rent AND deposit", "postgres*", '"fiscal year 2024"'):
        assert form in text, form
    help_window.close()
    assert bar.help_action.toolTip() == "Search syntax (F1)"
    bar.help_action.trigger()
    qtbot.waitUntil(help_window.isVisible)


def _choose_custom_range(qtbot, filters):
    filters.date_box.setCurrentIndex(filters.date_box.findData(CUSTOM_RANGE))
    qtbot.waitUntil(lambda: filters.range_dialog is not None and filters.range_dialog.isVisible())
    return filters.range_dialog


def test_a_custom_date_range_filters_from_the_first_day_to_the_end_of_the_last(qtbot, window, fake_engine):
    with qtbot.waitSignal(window.search.response_ready, timeout=3000):
        qtbot.keyClicks(window.ui.search_bar, "budget")
    filters = window.ui.filters
    dialog = _choose_custom_range(qtbot, filters)
    sent = len(fake_engine.requests)
    dialog.from_edit.setDate(QDate(2024, 1, 15))
    dialog.to_edit.setDate(QDate(2024, 3, 31))
    with qtbot.waitSignal(window.search.request_sent, timeout=3000):
        dialog.accept()
    chosen = fake_engine.requests[-1].filters
    assert len(fake_engine.requests) == sent + 1
    assert chosen.modified_after == datetime(2024, 1, 15).timestamp()
    assert datetime(2024, 3, 31, 23, 59, 59).timestamp() < chosen.modified_before < datetime(2024, 4, 1).timestamp()
    assert filters.date_box.currentText() == "2024-01-15 – 2024-03-31"
    assert filters.custom_range == (date(2024, 1, 15), date(2024, 3, 31))


def test_the_end_of_a_custom_range_cannot_come_before_its_start(qtbot, window):
    dialog = _choose_custom_range(qtbot, window.ui.filters)
    dialog.from_edit.setDate(QDate(2024, 5, 1))
    dialog.to_edit.setDate(QDate(2024, 4, 1))
    assert dialog.chosen() == (date(2024, 5, 1), date(2024, 5, 1))


def test_cancelling_a_custom_range_goes_back_to_the_choice_before(qtbot, window, fake_engine):
    filters = window.ui.filters
    filters.date_box.setCurrentIndex(filters.date_box.findText("Past week"))
    sent = len(fake_engine.calls)
    dialog = _choose_custom_range(qtbot, filters)
    dialog.reject()
    assert filters.date_box.currentText() == "Past week" and len(fake_engine.calls) == sent
    assert filters.filters().modified_before is None


def test_notes_and_syntax_errors_show_on_the_search_bar_and_the_status_line(qtbot, window, fake_engine):
    fake_engine.answer = False
    bar = window.ui.search_bar
    with qtbot.waitSignal(window.search.request_sent, timeout=3000):
        qtbot.keyClicks(bar, 'rent "zebra" size:huge')
    request = window.search.last_request
    answer = SearchResponse(request, (), 1.0, None, False, False, notes=("no exact match for “zebra”",),
                            syntax_error="size: 'huge' is not a size")
    with qtbot.waitSignal(window.search.response_ready, timeout=3000):
        fake_engine.results.emit(answer)
    assert "Left out of the search: size: 'huge' is not a size" in bar.toolTip()
    assert "no exact match for “zebra”" in bar.toolTip() and bar.styleSheet()
    assert "not a size" in window.ui.status.notice_label.text()
    with qtbot.waitSignal(window.search.response_ready, timeout=3000):
        fake_engine.results.emit(dataclasses.replace(answer, notes=(), syntax_error=None))
    assert not bar.styleSheet() and "Left out" not in bar.toolTip()
