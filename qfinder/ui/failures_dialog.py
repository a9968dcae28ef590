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

from qfinder.core.pathnames import readable_path
from qfinder.core.state import FileFailure


class FailuresDialog(QDialog):
    retry_requested = Signal(object)  # list[str] (an object: Qt strings drop undecodable bytes)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Files and folders that could not be indexed")
        self._paths: list[str] = []  # exact, per row; the table shows them readably
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
        hint = QLabel("These files are still found by name. They are retried when they change; "
                      "folders that could not be read are tried again at the next scan.")
        column.addWidget(hint)
        column.addWidget(self.table, 1)
        column.addWidget(buttons)

    def set_failures(self, failures: list[FileFailure]) -> None:
        self.table.setRowCount(len(failures))
        self._paths = [failure.path for failure in failures]
        for row, failure in enumerate(failures):
            shown = readable_path(failure.path)
            path_item = QTableWidgetItem(shown)
            path_item.setToolTip(shown)
            why = f"{'Found by name only' if failure.name_only else 'Failed'}: {failure.reason}"
            reason = QTableWidgetItem(why)
            reason.setToolTip(why)
            self.table.setItem(row, 0, path_item)
            self.table.setItem(row, 1, reason)
        self.retry_all.setEnabled(bool(failures))

    def paths(self) -> list[str]:
        return list(self._paths)

    def _selected_paths(self) -> list[str]:
        rows = sorted({index.row() for index in self.table.selectedIndexes()})
        return [self._paths[r] for r in rows]

    def _retry(self, paths: list[str]) -> None:
        if paths:
            self.retry_requested.emit(paths)
            self.table.setRowCount(0)
            self._paths = []
            self.table.setFocus(Qt.FocusReason.OtherFocusReason)
