"""Search results as a tree model: each file is a row, its other matching chunks its children.

Top-level rows hold a `FileResult` (its best chunk is shown on the row itself) or a `Marker`:
the close matches (relevance from CLOSE, core/search/relevance.py) come first, then a "n weaker
matches" row that shows or hides the rest (`toggle_weaker()`); with no close match a "no close
matches" row leads, the nearest few below it. Child rows hold the file's remaining `ChunkHit`s.
Internal ids: 0 for a top-level row, row + 1 for a chunk row, so `parent()` needs no Python
objects kept alive by Qt.

`set_response(response, keep_place=True)` (the same query asked again because the index
changed) and `drop_gone(is_gone)` tell the view to keep the selected file and the scroll
position where that file is still listed (`keeping_place` during the reset).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, replace
from enum import IntEnum
from typing import Any, Literal

from PySide6.QtCore import (
    QAbstractItemModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
)

from qfinder.core.pathnames import readable_path
from qfinder.core.results import ChunkHit, FileResult, SearchResponse
from qfinder.core.search.relevance import NEAREST, close_split

AnyIndex = QModelIndex | QPersistentModelIndex
_ROOT = QModelIndex()
# Made once: the view asks every row's flags on each layout, and each `|` of these Python
# enums costs more than the rest of flags().
_ROW_FLAGS = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
_HEADING_FLAGS = Qt.ItemFlag.ItemIsEnabled


class Role(IntEnum):
    FILE = Qt.ItemDataRole.UserRole + 1  # FileResult of the row (chunk rows: their file)
    CHUNK = Qt.ItemDataRole.UserRole + 2  # ChunkHit shown on the row (None for name-only)
    PATH = Qt.ItemDataRole.UserRole + 3
    RELEVANCE = Qt.ItemDataRole.UserRole + 4  # 0..1, the result's calibrated relevance
    IS_CHUNK = Qt.ItemDataRole.UserRole + 5
    MARKER = Qt.ItemDataRole.UserRole + 6  # Marker of a "no close matches" / "weaker" row


@dataclass(frozen=True)
class Marker:
    kind: Literal["no-close", "weaker"]
    count: int = 0  # weaker matches behind the row
    expanded: bool = False

    def text(self) -> str:
        if self.kind == "no-close":
            return "No close matches — the nearest files:"
        arrow = "▾" if self.expanded else "▸"
        noun = "match" if self.count == 1 else "matches"
        return f"{arrow} {self.count} weaker {noun}" + (" — hide" if self.expanded else "")


Row = FileResult | Marker


def layout_rows(results: tuple[FileResult, ...], expanded: bool) -> tuple[Row, ...]:
    """Close matches first, then the weaker ones behind a marker (shown when `expanded`)."""
    close, weaker = close_split(results)
    lead: tuple[Row, ...] = close
    if not close and weaker:
        lead, weaker = (Marker("no-close"), *weaker[:NEAREST]), weaker[NEAREST:]
    if not weaker:
        return lead
    return (*lead, Marker("weaker", len(weaker), expanded), *(weaker if expanded else ()))


class ResultsModel(QAbstractItemModel):
    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._files: tuple[FileResult, ...] = ()
        self._rows: tuple[Row, ...] = ()
        self._expanded = False
        self.keeping_place = False  # True during a reset that keeps the selected file
        self.response: SearchResponse | None = None

    # -- content -------------------------------------------------------------------------
    def set_response(self, response: SearchResponse | None, keep_place: bool = False) -> None:
        if not keep_place:
            self._expanded = False  # a new query starts with its weaker matches folded
        self._reset(response, response.results if response else (), keep_place)

    def _reset(self, response: SearchResponse | None, files: tuple[FileResult, ...],
               keep_place: bool = True) -> None:
        self.keeping_place = keep_place
        self.beginResetModel()
        self.response = response
        self._files = files
        self._rows = layout_rows(files, self._expanded)
        self.endResetModel()
        self.keeping_place = False

    def clear(self) -> None:
        self.set_response(None)

    def toggle_weaker(self) -> None:
        self._expanded = not self._expanded
        self._reset(self.response, self._files)

    def drop_gone(self, is_gone: Callable[[str], bool]) -> int:
        """Remove the files that left the index at once; returns how many rows went."""
        kept = tuple(f for f in self._files if not is_gone(f.path))
        dropped = len(self._files) - len(kept)
        if dropped and self.response is not None:
            self._reset(replace(self.response, results=kept), kept)
        return dropped

    def files(self) -> tuple[FileResult, ...]:
        return self._files

    def _row_item(self, index: AnyIndex) -> Row | None:
        if not index.isValid():
            return None
        row = index.row() if index.internalId() == 0 else index.internalId() - 1
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def file_at(self, index: AnyIndex) -> FileResult | None:
        item = self._row_item(index)
        return item if isinstance(item, FileResult) else None

    def marker_at(self, index: AnyIndex) -> Marker | None:
        item = self._row_item(index) if index.isValid() and index.internalId() == 0 else None
        return item if isinstance(item, Marker) else None

    def row_of(self, path: str) -> int | None:
        """The top-level row showing `path`, if it is shown."""
        return next((i for i, r in enumerate(self._rows) if isinstance(r, FileResult) and r.path == path), None)

    def row_of_marker(self, kind: str) -> int | None:
        return next((i for i, r in enumerate(self._rows) if isinstance(r, Marker) and r.kind == kind), None)

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
            return len(self._rows)
        if parent.column() != 0 or parent.internalId() != 0:
            return 0
        item = self._rows[parent.row()] if parent.row() < len(self._rows) else None
        return max(0, len(item.chunks) - 1) if isinstance(item, FileResult) else 0

    def columnCount(self, parent: AnyIndex = _ROOT) -> int:  # noqa: N802 - Qt API
        return 1

    def flags(self, index: AnyIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        marker = self.marker_at(index)
        return _HEADING_FLAGS if marker is not None and marker.kind == "no-close" else _ROW_FLAGS

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        result = self.file_at(index)
        if result is None:
            marker = self.marker_at(index)
            if marker is not None and role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
                return marker.text()
            return marker if marker is not None and role == Role.MARKER else None
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

    @staticmethod
    def _relevance(result: FileResult, chunk: ChunkHit | None, is_chunk: bool) -> float:
        """The file's calibrated relevance; a chunk row has none of its own (-1: no bar)."""
        return -1.0 if is_chunk else max(0.0, min(1.0, result.relevance))

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
