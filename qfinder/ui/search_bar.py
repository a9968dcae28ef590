"""The query field: search as you type (debounced), Enter = now, Esc = clear."""

from __future__ import annotations

from PySide6.QtCore import QTimer, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QLineEdit, QWidget

DEBOUNCE_MS = 200


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
        self.setToolTip(
            "Type to search as you type; Enter searches now; Esc clears. Ctrl+L or Ctrl+F focuses."
        )
        self.setMinimumHeight(32)
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(debounce_ms)
        self._debounce.timeout.connect(self._emit_now)
        self.textEdited.connect(self._on_edited)
        self.returnPressed.connect(self.search_now)

    def _on_edited(self, text: str) -> None:
        if not text.strip():
            self._debounce.stop()
            self.cleared.emit()
            return
        self._debounce.start()

    def _emit_now(self) -> None:
        text = self.text().strip()
        if text:
            self.search_requested.emit(text)

    def search_now(self) -> None:
        self._debounce.stop()
        self._emit_now()

    def pending(self) -> bool:
        return self._debounce.isActive()

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt override
        from PySide6.QtCore import Qt

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
