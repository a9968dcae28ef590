"""The query field: search as you type (debounced), Enter = now, Esc = clear, F1 or "?" = the
search syntax; what the last answer noted about the query (a syntax error, "no exact match")
shows as the field's tooltip, a syntax error also as a red frame."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QLineEdit, QStyle, QToolButton, QWidget

from qfinder.ui.syntax_help import SyntaxHelp

DEBOUNCE_MS = 200
TIP = "Type to search as you type; Enter searches now; Esc clears; F1: search syntax. Ctrl+L or Ctrl+F focuses."
ERROR_FRAME = "QLineEdit { border: 1px solid #c0392b; }"


class SearchBar(QLineEdit):
    """Emits `search_requested(text)` after typing pauses, or at once on Enter.

    `cleared` fires on Esc (or when the text becomes empty) so the window can show its
    empty state. The debounce timer lives in the GUI thread and is restarted per keystroke.
    """

    search_requested = Signal(str)
    cleared = Signal()
    down_pressed = Signal()  # move into the results, as in Everything

    def __init__(self, parent: QWidget | None = None, debounce_ms: int = DEBOUNCE_MS) -> None:
        super().__init__(parent)
        self.setPlaceholderText("Search your files — describe what you're looking for")
        self.setClearButtonEnabled(True)
        self.setAccessibleName("Search query")
        self.setToolTip(TIP)
        self.setMinimumHeight(32)
        self.syntax_help = SyntaxHelp(self)
        icon = self.style().standardIcon(QStyle.StandardPixmap.SP_DialogHelpButton)
        self.help_action = self.addAction(icon, QLineEdit.ActionPosition.TrailingPosition)
        self.help_action.setText("Search syntax")
        self.help_action.setToolTip("Search syntax (F1)")
        self.help_action.triggered.connect(self.show_syntax_help)
        for button in self.findChildren(QToolButton):  # F1 is the keyboard's way: no extra Tab stop
            if button.defaultAction() is self.help_action:
                button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(debounce_ms)
        self._debounce.timeout.connect(self._emit_now)
        self.textEdited.connect(self._on_edited)
        self.returnPressed.connect(self.search_now)

    @Slot(str)
    def _on_edited(self, text: str) -> None:
        if not text.strip():
            self._debounce.stop()
            self.cleared.emit()
            return
        self._debounce.start()

    @Slot()
    def _emit_now(self) -> None:
        text = self.text().strip()
        if text:
            self.search_requested.emit(text)

    @Slot()
    def search_now(self) -> None:
        self._debounce.stop()
        self._emit_now()

    def pending(self) -> bool:
        return self._debounce.isActive()

    @Slot()
    def show_syntax_help(self) -> None:
        self.syntax_help.show()
        self.syntax_help.raise_()

    def show_feedback(self, notes: Sequence[str], syntax_error: str | None) -> None:
        """What the answer to the current text says about it; nothing to say restores the tip."""
        lines = [f"Left out of the search: {syntax_error}"] if syntax_error else []
        self.setToolTip("\n".join([*lines, *notes]) or TIP)
        self.setStyleSheet(ERROR_FRAME if syntax_error else "")

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt override
        if event.key() == Qt.Key.Key_F1:
            self.show_syntax_help()
            event.accept()
            return
        if event.key() == Qt.Key.Key_Down:
            self.down_pressed.emit()
            event.accept()
            return
        if event.key() == Qt.Key.Key_Escape and self.text():
            self._debounce.stop()
            self.clear()
            self.cleared.emit()
            event.accept()
            return
        super().keyPressEvent(event)
