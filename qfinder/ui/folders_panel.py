"""The folders panel: indexed roots with their state, and add / remove / pause / rescan."""

from __future__ import annotations

import os
from collections.abc import Callable

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QPainter, QPaintEvent, QPalette
from PySide6.QtWidgets import (
    QFileDialog,
    QGridLayout,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from qfinder.core.state import RootState
from qfinder.ui.file_icons import folder_icon

REMOVE_WARNING = (
    "Stop indexing “{path}” and delete its index data (text, vectors, search index)?\n\n"
    "Your files themselves are not touched."
)


def describe_root(root: RootState) -> str:
    """One line of state, e.g. 'indexing 120/450 · 3 errors'."""
    total = root.files_indexed + root.files_pending
    words = {
        "watching": f"watching · {_files(root.files_indexed)}",
        "polling": f"watching (polling) · {_files(root.files_indexed)}",
        "indexing": (f"indexing {root.files_indexed}/{total}" if root.files_indexed
                     else f"indexing · {_files(root.files_pending)} queued"),
        "paused": f"paused · {root.files_indexed}/{total}",
        "unavailable": "unavailable — drive missing or folder moved; kept until you remove it",
        "error": "error — see the failed files list",
    }
    text = words.get(root.availability, root.availability)
    if root.files_failed:
        text += f" · {root.files_failed} failed"
    return text


def _files(count: int) -> str:
    return f"{count:,} file" if count == 1 else f"{count:,} files"


def ask_remove(parent: QWidget, path: str) -> bool:
    answer = QMessageBox.warning(
        parent, "Remove folder", REMOVE_WARNING.format(path=path),
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
        QMessageBox.StandardButton.Cancel,
    )
    return answer == QMessageBox.StandardButton.Yes


class _HintList(QListWidget):
    """A list that says what to do while it is empty."""

    HINT = "No folders yet.\n\nDrop folders anywhere on the window, or click “Add folder…”."

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt override
        super().paintEvent(event)
        if self.count():
            return
        painter = QPainter(self.viewport())
        painter.setPen(self.palette().color(QPalette.ColorRole.PlaceholderText))
        painter.drawText(self.viewport().rect().adjusted(12, 12, -12, -12),
                         int(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop
                             | Qt.TextFlag.TextWordWrap), self.HINT)
        painter.end()


class FoldersPanel(QWidget):
    add_requested = Signal(list)  # list[str] of folders
    remove_requested = Signal(str)
    rescan_requested = Signal(object)  # str | None: the folder, None for all of them
    pause_toggled = Signal(bool)  # True = pause

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.confirm_remove: Callable[[QWidget, str], bool] = ask_remove  # tests replace it
        self.list = _HintList(self)
        self.list.setAccessibleName("Indexed folders")
        self.list.setWordWrap(True)
        self.list.setUniformItemSizes(False)
        self.add_button = self._button("Add folder…", "Add a folder to index (or drop one anywhere)")
        self.remove_button = self._button("Remove", "Stop indexing the selected folder")
        self.pause_button = self._button("Pause", "Pause or resume indexing")
        self.pause_button.setCheckable(True)
        self.rescan_button = self._button("Rescan", "Look for changes in the selected folder")
        self._layout()
        self.add_button.clicked.connect(self._pick_folder)
        self.remove_button.clicked.connect(self._remove_selected)
        self.rescan_button.clicked.connect(lambda: self.rescan_requested.emit(self.selected()))
        self.pause_button.toggled.connect(self._on_pause)
        self.list.currentItemChanged.connect(lambda *_: self._update_buttons())
        self._update_buttons()

    def _button(self, text: str, tip: str) -> QPushButton:
        button = QPushButton(text, self)
        button.setToolTip(tip)
        button.setAccessibleName(text.rstrip("…"))
        return button

    def _layout(self) -> None:
        buttons = QGridLayout()  # two rows keep the panel narrow
        buttons.addWidget(self.add_button, 0, 0)
        buttons.addWidget(self.remove_button, 0, 1)
        buttons.addWidget(self.pause_button, 1, 0)
        buttons.addWidget(self.rescan_button, 1, 1)
        column = QVBoxLayout(self)
        column.setContentsMargins(4, 4, 4, 4)
        column.addWidget(self.list, 1)
        column.addLayout(buttons)

    def set_roots(self, roots: tuple[RootState, ...]) -> None:
        selected = self.selected()
        self.list.clear()
        for root in roots:
            name = os.path.basename(root.path.rstrip("/\\")) or root.path
            item = QListWidgetItem(folder_icon(), f"{name}\n{describe_root(root)}")
            item.setData(Qt.ItemDataRole.UserRole, root.path)
            item.setToolTip(root.path)
            self.list.addItem(item)
            if root.path == selected:
                self.list.setCurrentItem(item)
        self._update_buttons()

    def roots(self) -> list[str]:
        return [self.list.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.list.count())]

    def selected(self) -> str | None:
        item = self.list.currentItem()
        return item.data(Qt.ItemDataRole.UserRole) if item else None

    def set_paused(self, paused: bool) -> None:
        self.pause_button.blockSignals(True)
        self.pause_button.setChecked(paused)
        self.pause_button.setText("Resume" if paused else "Pause")
        self.pause_button.blockSignals(False)

    def _update_buttons(self) -> None:
        has = self.selected() is not None
        self.remove_button.setEnabled(has)
        self.rescan_button.setEnabled(self.list.count() > 0)
        self.pause_button.setEnabled(self.list.count() > 0 or self.pause_button.isChecked())

    @Slot()
    def _pick_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Add a folder to index")
        if folder:
            self.add_requested.emit([folder])

    @Slot()
    def _remove_selected(self) -> None:
        path = self.selected()
        if path and self.confirm_remove(self, path):
            self.remove_requested.emit(path)

    @Slot(bool)
    def _on_pause(self, paused: bool) -> None:
        self.pause_button.setText("Resume" if paused else "Pause")
        self.pause_toggled.emit(paused)
