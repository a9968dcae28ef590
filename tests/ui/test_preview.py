"""The preview pane as a reader sees it: code keeps its indentation in a fixed-pitch font, every
query word is marked, and F3 / Shift+F3 walk through the marks."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QFontInfo, QTextCursor

from qfinder.core.results import ChunkHit, FileResult
from qfinder.ui.preview import PreviewPane

CODE = (
    "import os\n\n\n"
    "def total_budget(items):\n"
    "    \"\"\"Sum the budget lines.\"\"\"\n"
    "    if not items:\n"
    "        return 0\n"
    "    return sum(item.budget for item in items)\n"
    "\n\n# the end of the module\n"
)
NOTES = ("Budget notes. The budget for travel is small; the BUDGET for books is large. "
         "Nobody reads the rebudgeting guide. " * 3)


def _result_for(path: Path, text: str, needle: str) -> tuple[FileResult, ChunkHit]:
    start = text.index(needle)
    end = start + len(needle) + 60
    chunk = ChunkHit(1, 0.9, text[start:end], (start, end), (0, len(needle)), None, 4, (0, len(needle)))
    return FileResult(str(path), 0.9, len(text), 0.0, (chunk,)), chunk


def _pane(qtbot, path: Path, text: str, needle: str, query: str = "") -> PreviewPane:
    path.write_text(text, encoding="utf-8")
    pane = PreviewPane()
    qtbot.addWidget(pane)
    pane.resize(600, 500)
    pane.show()
    if query:
        pane.set_query(query)
    result, chunk = _result_for(path, text, needle)
    pane.show_hit(result, chunk)
    # the surrounding file text (outside the chunk) arrives from a background read
    qtbot.waitUntil(lambda: text.strip()[-15:] in pane.body.toPlainText(), timeout=5000)
    return pane


def test_code_preview_keeps_indentation_in_a_fixed_pitch_font(qtbot, tmp_path):
    pane = _pane(qtbot, tmp_path / "budget.py", CODE, "def total_budget")
    shown = pane.body.toPlainText()
    assert "\n        return 0\n" in shown, "leading spaces are kept"
    assert QFontInfo(pane.body.font()).fixedPitch()
    assert pane.body.line_numbers_visible()


def test_prose_preview_stays_proportional(qtbot, tmp_path):
    pane = _pane(qtbot, tmp_path / "notes.md", "# Notes\n\n" + NOTES, "Budget notes")
    assert not QFontInfo(pane.body.font()).fixedPitch()
    assert not pane.body.line_numbers_visible()


def _marked_texts(pane: PreviewPane) -> list[str]:
    """The text of every run in the document drawn with the hit background."""
    document, marked = pane.body.document(), []
    block = document.begin()
    while block.isValid():
        it = block.begin()
        while not it.atEnd():
            fragment = it.fragment()
            if fragment.charFormat().background() == pane.body.hit_format().background():
                marked.append(fragment.text())
            it += 1
        block = block.next()
    return marked


def test_every_occurrence_of_the_query_words_is_marked(qtbot, tmp_path):
    pane = _pane(qtbot, tmp_path / "notes.txt", NOTES, "Budget notes", query="the budget")
    marked = [t.lower() for t in _marked_texts(pane)]
    # 3 x "budget" per repetition; "the" is a stop word, "rebudgeting" another word
    assert marked.count("budget") == 9, marked
    assert "the" not in marked and "rebudgeting" not in marked
    assert len(pane.hits()) == 9


def test_f3_and_shift_f3_move_to_the_next_and_previous_hit(qtbot, tmp_path):
    pane = _pane(qtbot, tmp_path / "notes.txt", NOTES, "Budget notes", query="budget")
    hits = pane.hits()
    pane.activateWindow()
    qtbot.waitActive(pane)

    def selected() -> tuple[int, int]:
        cursor: QTextCursor = pane.body.textCursor()
        return cursor.selectionStart(), cursor.selectionEnd()

    first = selected()
    assert first in hits, "the best passage's hit is selected first"
    qtbot.keyClick(pane.body, Qt.Key.Key_F3)
    assert selected() == hits[hits.index(first) + 1]
    qtbot.keyClick(pane.body, Qt.Key.Key_F3, Qt.KeyboardModifier.ShiftModifier)
    assert selected() == first
    pane.next_hit_button.click()
    assert selected() == hits[hits.index(first) + 1]
    pane.previous_hit_button.click()
    assert selected() == first
