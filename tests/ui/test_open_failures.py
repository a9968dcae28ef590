"""Open / Show in folder that fail say so (with the path to copy), and "Open with…" asks for a
program once per file type."""

from __future__ import annotations

import os

from PySide6.QtWidgets import QMessageBox


def _search(qtbot, window, text: str = "budget 2024") -> str:
    with qtbot.waitSignal(window.search.response_ready, timeout=3000):
        qtbot.keyClicks(window.ui.search_bar, text)
    return window.ui.results.current_path()


def _failure_box(window) -> QMessageBox:
    box = window.findChild(QMessageBox, "open-failure")
    assert box is not None and box.isVisible(), "a failed open is shown, not only logged"
    return box


def _button(box: QMessageBox, text: str):
    return next(b for b in box.buttons() if b.text().replace("&", "") == text)


def test_a_failed_open_says_why_and_offers_to_copy_the_path(qtbot, window, recording_opener):
    path = _search(qtbot, window)
    recording_opener.fails = True
    window.ui.preview.open_button.click()
    box = _failure_box(window)
    assert os.path.basename(path) in box.text() and "no program" in box.informativeText()
    _button(box, "Copy path").click()
    assert recording_opener.calls[-1] == ("copy", path)


def test_a_failed_show_in_folder_says_why(qtbot, window, recording_opener):
    path = _search(qtbot, window)
    recording_opener.fails = True
    window.ui.preview.reveal_button.click()
    box = _failure_box(window)
    assert "folder" in box.text() and path in box.detailedText()


def test_open_with_asks_for_a_program_and_remembers_it_per_type(qtbot, window, recording_opener,
                                                                monkeypatch):
    from qfinder.ui import open_with

    path = _search(qtbot, window)
    asked: list[str] = []

    def ask(_parent, shown_path: str, suggestion: str) -> str:
        asked.append(suggestion)
        return "my-editor --new-window"

    monkeypatch.setattr(open_with, "ask_program", ask)
    menu = window.ui.results.build_menu()
    action = next(a for a in menu.actions() if a.text() == "Open with…")
    action.trigger()
    assert recording_opener.calls[-1] == ("open-with", f"{path} my-editor --new-window")
    action.trigger()
    assert asked == ["", "my-editor --new-window"], "the program is suggested next time"
    assert open_with.remembered_program("other.txt") == "my-editor --new-window"
    assert open_with.remembered_program("other.pdf") == ""


def test_open_with_a_program_that_fails_says_so(qtbot, window, recording_opener, monkeypatch):
    from qfinder.ui import open_with

    _search(qtbot, window)
    monkeypatch.setattr(open_with, "ask_program", lambda *_args: "no-such-program")
    recording_opener.fails = True
    next(a for a in window.ui.results.build_menu().actions() if a.text() == "Open with…").trigger()
    assert "no-such-program" in _failure_box(window).informativeText()
    assert open_with.remembered_program("x.txt") == "", "a program that failed is not remembered"
