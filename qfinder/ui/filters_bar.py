"""Filters under the search bar: mode (hybrid/semantic/keyword), file type, folder, modified date
(a past day … year, or a custom range of days)."""

from __future__ import annotations

import os
import time
from datetime import date, timedelta

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QWidget

from qfinder.core.results import SearchFilters, SearchMode
from qfinder.ui.date_range import DateRangeDialog, day_bounds

KINDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Any type", ()),
    ("Documents", ("pdf", "doc", "docx", "odt", "rtf", "txt", "md", "rst", "tex", "epub", "html")),
    ("PDF", ("pdf",)),
    ("Text & notes", ("txt", "md", "rst", "org", "log")),
    ("Code", ("py", "js", "ts", "java", "c", "h", "cpp", "hpp", "rs", "go", "rb", "sh", "cs")),
    ("Spreadsheets", ("xlsx", "xls", "ods", "csv", "tsv")),
    ("Slides", ("pptx", "ppt", "odp")),
)
CUSTOM_RANGE = "Custom range…"
DATES: tuple[tuple[str, float | str | None], ...] = (
    ("Any time", None),
    ("Past day", 86400.0),
    ("Past week", 7 * 86400.0),
    ("Past month", 31 * 86400.0),
    ("Past year", 366 * 86400.0),
    (CUSTOM_RANGE, CUSTOM_RANGE),
)
MODES: tuple[tuple[str, SearchMode, str], ...] = (
    ("Hybrid", "hybrid", "Meaning and keywords together (recommended)"),
    ("Semantic", "semantic", "By meaning only, using the embedding model"),
    ("Keyword", "keyword", "Exact words and file names only; works without a model"),
)
EVERYWHERE = "All folders"


class FiltersBar(QWidget):
    filters_changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._forced_keyword = False
        self.custom_range: tuple[date, date] | None = None
        self.range_dialog: DateRangeDialog | None = None
        self._date_index = 0  # the choice to go back to when a custom range is cancelled
        self.mode_box = self._combo("Search mode")
        for label, mode, tip in MODES:
            self.mode_box.addItem(label, mode)
            self.mode_box.setItemData(self.mode_box.count() - 1, tip, Qt.ItemDataRole.ToolTipRole)
        self.kind_box = self._combo("File type")
        for label, kinds in KINDS:
            self.kind_box.addItem(label, kinds)
        self.folder_box = self._combo("Folder")
        self.folder_box.addItem(EVERYWHERE, "")
        self.date_box = self._combo("Modified", emits=False)
        for label, age in DATES:
            self.date_box.addItem(label, age)
        self.date_box.currentIndexChanged.connect(self._on_date_choice)
        self.date_box.activated.connect(self._on_date_picked_again)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        for caption, box in (("&Mode", self.mode_box), ("&Type", self.kind_box),
                             ("&In", self.folder_box), ("Mo&dified", self.date_box)):
            caption_label = QLabel(caption, self)
            caption_label.setBuddy(box)
            row.addWidget(caption_label)
            row.addWidget(box)
        row.addStretch(1)

    def _combo(self, name: str, emits: bool = True) -> QComboBox:
        box = QComboBox(self)
        # Long folder paths must not widen the window: the popup shows them in full.
        box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        box.setMinimumContentsLength(9)
        box.setAccessibleName(name)
        if emits:
            box.currentIndexChanged.connect(lambda _i: self.filters_changed.emit())
        return box

    # -- modified date ---------------------------------------------------------------------
    @Slot(int)
    def _on_date_choice(self, index: int) -> None:
        if self.date_box.itemData(index) != CUSTOM_RANGE:
            self._date_index = index
            self.filters_changed.emit()
        else:
            self.ask_custom_range()

    @Slot(int)
    def _on_date_picked_again(self, index: int) -> None:
        """Picking the custom range that is already on opens its dates to change them."""
        if self.date_box.itemData(index) == CUSTOM_RANGE and index == self._date_index:
            self.ask_custom_range()

    def ask_custom_range(self) -> None:
        last = self.custom_range[1] if self.custom_range else date.today()
        first = self.custom_range[0] if self.custom_range else last - timedelta(days=30)
        self.range_dialog = DateRangeDialog(first, last, self)
        self.range_dialog.accepted.connect(self._use_custom_range)
        self.range_dialog.rejected.connect(self._cancel_custom_range)
        self.range_dialog.open()

    @Slot()
    def _use_custom_range(self) -> None:
        assert self.range_dialog is not None
        self.custom_range = self.range_dialog.chosen()
        first, last = self.custom_range
        self.date_box.setItemText(self.date_box.currentIndex(), f"{first:%Y-%m-%d} – {last:%Y-%m-%d}")
        self.date_box.setToolTip(f"Modified from {first:%Y-%m-%d} to {last:%Y-%m-%d}; choose again to change")
        self._date_index = self.date_box.currentIndex()
        self.filters_changed.emit()

    @Slot()
    def _cancel_custom_range(self) -> None:
        if self.date_box.currentIndex() != self._date_index:  # back to the choice before
            self.date_box.blockSignals(True)
            self.date_box.setCurrentIndex(self._date_index)
            self.date_box.blockSignals(False)

    def _modified_bounds(self, now: float) -> tuple[float | None, float | None]:
        choice = self.date_box.currentData()
        if choice == CUSTOM_RANGE:
            return day_bounds(*self.custom_range) if self.custom_range else (None, None)
        return (now - choice if choice else None), None

    def mode(self) -> SearchMode:
        return self.mode_box.currentData() or "hybrid"

    def set_mode(self, mode: str) -> None:
        index = self.mode_box.findData(mode)
        if index >= 0:
            self.mode_box.setCurrentIndex(index)

    def set_semantic_available(self, available: bool) -> None:
        """Without a model only keyword search works: say so instead of failing."""
        for row in (0, 1):
            item = self.mode_box.model().item(row)  # type: ignore[attr-defined]
            if item is not None:
                item.setEnabled(available)
        if not available and self.mode() != "keyword":
            self._forced_keyword = True
            self.set_mode("keyword")
        elif available and self._forced_keyword:  # a model arrived: back to meaning + words
            self._forced_keyword = False
            self.set_mode("hybrid")

    def set_roots(self, roots: list[str]) -> None:
        shown = [self.folder_box.itemData(i) for i in range(1, self.folder_box.count())]
        if self.folder_box.count() > 0 and shown == list(roots):
            return  # the engine reports roots with every progress step; most change nothing here
        current = self.folder_box.currentData()
        self.folder_box.blockSignals(True)
        self.folder_box.clear()
        self.folder_box.addItem(EVERYWHERE, "")
        for root in roots:
            self.folder_box.addItem(os.path.basename(root.rstrip("/\\")) or root, root)
            self.folder_box.setItemData(self.folder_box.count() - 1, root, Qt.ItemDataRole.ToolTipRole)
        index = self.folder_box.findData(current)
        self.folder_box.setCurrentIndex(max(index, 0))
        self.folder_box.blockSignals(False)

    def filters(self, now: float | None = None) -> SearchFilters:
        folder = self.folder_box.currentData()
        after, before = self._modified_bounds(now or time.time())
        return SearchFilters(
            folders=(folder,) if folder else (),
            kinds=tuple(self.kind_box.currentData() or ()),
            modified_after=after,
            modified_before=before,
        )
