"""The search syntax at a glance: a small window opened by the search bar's "?" or F1."""

from __future__ import annotations

from html import escape

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QVBoxLayout, QWidget

from qfinder.core.search.query_syntax import SYNTAX_HELP

FOOTER = ("AND, OR and NOT work in capitals. Quote marks inside a sentence without spaces "
          "(是“对”的) are punctuation. Filters combine with the rest of the query and with the "
          "filters under the search bar.")


def syntax_table() -> str:
    rows = "".join(f"<tr><td><code>{escape(form)}</code></td><td>&nbsp;&nbsp;{escape(meaning)}</td></tr>"
                   for form, meaning in SYNTAX_HELP)
    return f"<table cellspacing='4'>{rows}</table><p>{escape(FOOTER)}</p>"


class SyntaxHelp(QDialog):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Search syntax")
        self.setAccessibleName("Search syntax")
        self.table = QLabel(syntax_table(), self)
        self.table.setTextFormat(Qt.TextFormat.RichText)
        self.table.setWordWrap(True)
        self.table.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addWidget(buttons)
