"""The failed-files list: path and reason per file, with retry."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from qfinder.core.state import FileFailure


class FailuresDialog(QDialog):
    retry_requested = Signal(list)  # list[str]

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Files whose content is not indexed")
        self.resize(760, 380)
        self.table = QTableWidget(0, 2, self)
        self.table.setHorizontalHeaderLabels(["File", "Reason"])
        self.table.setAccessibleName("Failed files")
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setColumnWidth(0, 340)
        self.table.verticalHeader().setVisible(False)
        self.table.setWordWrap(False)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        self.retry_selected = QPushButton("Retry selected", self)
        self.retry_all = QPushButton("Retry all", self)
        buttons.addButton(self.retry_selected, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(self.retry_all, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        self.retry_selected.clicked.connect(lambda: self._retry(self._selected_paths()))
        self.retry_all.clicked.connect(lambda: self._retry(self.paths()))
        self.retry_selected.setEnabled(False)
        self.table.itemSelectionChanged.connect(
            lambda: self.retry_selected.setEnabled(bool(self.table.selectedIndexes())))
        column = QVBoxLayout(self)
        hint = QLabel("These files are still found by name. They are retried when they change.")
        column.addWidget(hint)
        column.addWidget(self.table, 1)
        column.addWidget(buttons)

    def set_failures(self, failures: list[FileFailure]) -> None:
        self.table.setRowCount(len(failures))
        for row, failure in enumerate(failures):
            path_item = QTableWidgetItem(failure.path)
            path_item.setToolTip(failure.path)
            why = f"{'Found by name only' if failure.name_only else 'Failed'}: {failure.reason}"
            reason = QTableWidgetItem(why)
            reason.setToolTip(why)
            self.table.setItem(row, 0, path_item)
            self.table.setItem(row, 1, reason)
        self.retry_all.setEnabled(bool(failures))

    def paths(self) -> list[str]:
        items = (self.table.item(r, 0) for r in range(self.table.rowCount()))
        return [item.text() for item in items if item is not None]

    def _selected_paths(self) -> list[str]:
        rows = sorted({index.row() for index in self.table.selectedIndexes()})
        items = (self.table.item(r, 0) for r in rows)
        return [item.text() for item in items if item is not None]

    def _retry(self, paths: list[str]) -> None:
        if paths:
            self.retry_requested.emit(paths)
            self.table.setRowCount(0)
            self.table.setFocus(Qt.FocusReason.OtherFocusReason)
