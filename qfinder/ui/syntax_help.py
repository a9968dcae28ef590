"""The search syntax at a glance: a small window opened by the search bar's "?" or F1."""

from __future__ import annotations

from html import escape

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTextBrowser, QVBoxLayout, QWidget

from qfinder.core.search.query_syntax import SYNTAX_HELP

FOOTER = ("AND, OR and NOT work in capitals. Quote marks inside a sentence without spaces "
          "(是“对”的) are punctuation. Filters combine with the rest of the query and with the "
          "filters under the search bar.")


def syntax_table() -> str:
    rows = "".join(f"<tr><td><code>{escape(form).replace(' ', '&nbsp;')}</code></td>"
                   f"<td>&nbsp;&nbsp;{escape(meaning)}</td></tr>" for form, meaning in SYNTAX_HELP)
    return f"<table cellspacing='4'>{rows}</table><p>{escape(FOOTER)}</p>"


class SyntaxHelp(QDialog):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Search syntax")
        self.setAccessibleName("Search syntax")
        # a text browser, not a label: it wraps the meanings and scrolls instead of cutting rows off
        self.table = QTextBrowser(self)
        self.table.setHtml(syntax_table())
        self.table.setMinimumSize(720, 330)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addWidget(buttons)
