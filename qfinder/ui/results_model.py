"""Search results as a tree model: each file is a row, its other matching chunks its children.

Top-level rows hold a `FileResult` (its best chunk is shown on the row itself); child rows hold
the file's remaining `ChunkHit`s. Internal ids: 0 for a file row, file_row + 1 for a chunk row,
so `parent()` needs no Python objects kept alive by Qt.
"""

from __future__ import annotations

import os
from enum import IntEnum
from typing import Any

from PySide6.QtCore import (
    QAbstractItemModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
)

from qfinder.core.pathnames import readable_path
from qfinder.core.results import ChunkHit, FileResult, SearchResponse

AnyIndex = QModelIndex | QPersistentModelIndex
_ROOT = QModelIndex()
# Made once: the view asks every row's flags on each layout, and each `|` of these Python
# enums costs more than the rest of flags().
_ROW_FLAGS = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable


class Role(IntEnum):
    FILE = Qt.ItemDataRole.UserRole + 1  # FileResult of the row (chunk rows: their file)
    CHUNK = Qt.ItemDataRole.UserRole + 2  # ChunkHit shown on the row (None for name-only)
    PATH = Qt.ItemDataRole.UserRole + 3
    RELEVANCE = Qt.ItemDataRole.UserRole + 4  # 0..1, relative to the best result
    IS_CHUNK = Qt.ItemDataRole.UserRole + 5


class ResultsModel(QAbstractItemModel):
    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._files: tuple[FileResult, ...] = ()
        self._top_score = 1.0
        self.response: SearchResponse | None = None

    # -- content -------------------------------------------------------------------------
    def set_response(self, response: SearchResponse | None) -> None:
        self.beginResetModel()
        self.response = response
        self._files = response.results if response else ()
        scores = [f.score for f in self._files if f.score > 0]
        self._top_score = max(scores) if scores else 1.0
        self.endResetModel()

    def clear(self) -> None:
        self.set_response(None)

    def files(self) -> tuple[FileResult, ...]:
        return self._files

    def file_at(self, index: AnyIndex) -> FileResult | None:
        if not index.isValid():
            return None
        row = index.row() if index.internalId() == 0 else index.internalId() - 1
        return self._files[row] if 0 <= row < len(self._files) else None

    def chunk_at(self, index: AnyIndex) -> ChunkHit | None:
        result = self.file_at(index)
        if result is None:
            return None
        if index.internalId() == 0:
            return result.best
        position = index.row() + 1  # children are chunks[1:]
        return result.chunks[position] if position < len(result.chunks) else None

    # -- QAbstractItemModel ----------------------------------------------------------------
    def index(self, row: int, column: int = 0, parent: AnyIndex = _ROOT) -> QModelIndex:
        # Bounds checked here rather than with hasIndex(): that C++ call comes back into
        # Python for rowCount and columnCount, and the view asks for every row on each reset.
        if column != 0 or row < 0 or row >= self.rowCount(parent):
            return QModelIndex()
        if not parent.isValid():
            return self.createIndex(row, column, 0)
        return self.createIndex(row, column, parent.row() + 1)

    def parent(self, index: AnyIndex = _ROOT) -> QModelIndex:  # type: ignore[override]
        if not index.isValid() or index.internalId() == 0:
            return QModelIndex()
        return self.createIndex(index.internalId() - 1, 0, 0)

    def rowCount(self, parent: AnyIndex = _ROOT) -> int:  # noqa: N802 - Qt API
        if not parent.isValid():
            return len(self._files)
        if parent.column() != 0 or parent.internalId() != 0:
            return 0
        row = parent.row()
        return max(0, len(self._files[row].chunks) - 1) if row < len(self._files) else 0

    def columnCount(self, parent: AnyIndex = _ROOT) -> int:  # noqa: N802 - Qt API
        return 1

    def flags(self, index: AnyIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return _ROW_FLAGS

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        result = self.file_at(index)
        if result is None:
            return None
        chunk = self.chunk_at(index)
        if role == Qt.ItemDataRole.DisplayRole:
            if index.internalId() == 0:
                return os.path.basename(shown_path(result)) or shown_path(result)
            return chunk.snippet if chunk else ""
        if role in (Qt.ItemDataRole.ToolTipRole, Role.PATH):
            return shown_path(result)  # Qt strings cannot hold undecodable bytes: see file_at()
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return _accessible_text(result, chunk, index.internalId() != 0)
        return self._custom_data(result, chunk, index, role)

    def row_view(self, index: AnyIndex) -> tuple[FileResult | None, ChunkHit | None, bool, float]:
        """(file, chunk, is_chunk row, relevance) in one call: the delegate paints from this
        instead of four data() round trips through C++ per row."""
        result = self.file_at(index)
        if result is None:
            return None, None, False, 0.0
        chunk = self.chunk_at(index)
        is_chunk = index.internalId() != 0
        return result, chunk, is_chunk, self._relevance(result, chunk, is_chunk)

    def _relevance(self, result: FileResult, chunk: ChunkHit | None, is_chunk: bool) -> float:
        score = chunk.score if (chunk and is_chunk) else result.score
        return max(0.0, min(1.0, score / self._top_score)) if self._top_score > 0 else 0.0

    def _custom_data(
        self, result: FileResult, chunk: ChunkHit | None, index: AnyIndex, role: int
    ) -> Any:
        if role == Role.FILE:
            return result
        if role == Role.CHUNK:
            return chunk
        if role == Role.IS_CHUNK:
            return index.internalId() != 0
        if role == Role.RELEVANCE:
            return self._relevance(result, chunk, index.internalId() != 0)
        return None

    def headerData(  # noqa: N802 - Qt API
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return "Results"
        return None


def shown_path(result: FileResult) -> str:
    """The path as widgets show it. The exact one (a Python str that may hold undecodable
    bytes, which a Qt string would drop) stays in the FileResult and travels as an object."""
    return readable_path(result.path)


def _accessible_text(result: FileResult, chunk: ChunkHit | None, is_chunk: bool) -> str:
    path = shown_path(result)
    name = os.path.basename(path)
    snippet = chunk.snippet[:120] if chunk else ""
    if is_chunk:
        return f"Match in {name}: {snippet}"
    return f"{name} in {os.path.dirname(path)}. {snippet}"
