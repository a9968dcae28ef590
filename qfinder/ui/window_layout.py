"""Builds the main window's widgets and layout (no behaviour: main_window wires them)."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import (
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QMainWindow,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from qfinder.ui.dim_slider import DimSlider
from qfinder.ui.filters_bar import FiltersBar
from qfinder.ui.folders_panel import FoldersPanel
from qfinder.ui.instruction_picker import InstructionPicker
from qfinder.ui.preview import PreviewPane
from qfinder.ui.results_model import ResultsModel
from qfinder.ui.results_view import ResultsView
from qfinder.ui.search_bar import SearchBar
from qfinder.ui.settings import AppSettings
from qfinder.ui.status_bar import StatusBar


@dataclass
class WindowParts:
    search_bar: SearchBar
    instructions: InstructionPicker
    dim: DimSlider
    filters: FiltersBar
    model: ResultsModel
    results: ResultsView
    preview: PreviewPane
    folders: FoldersPanel
    status: StatusBar
    splitter: QSplitter
    filter_row: QHBoxLayout
    extra_row: QHBoxLayout  # holds the dimension controls when the window is narrow


def fit_rows(parts: WindowParts, width: int) -> None:
    """Filters and the dimension controls share a row when there is room, else stack."""
    needed = parts.filters.sizeHint().width() + parts.dim.sizeHint().width() + 40
    in_filter_row = parts.filter_row.indexOf(parts.dim) >= 0
    if width < needed and in_filter_row:
        parts.filter_row.removeWidget(parts.dim)
        parts.extra_row.addWidget(parts.dim)
    elif width >= needed and not in_filter_row:
        parts.extra_row.removeWidget(parts.dim)
        parts.filter_row.addWidget(parts.dim)


def _boxed(title: str, widget: QWidget, parent: QWidget) -> QGroupBox:
    box = QGroupBox(title, parent)
    box.setFlat(True)
    layout = QVBoxLayout(box)
    layout.setContentsMargins(0, 4, 0, 0)
    layout.addWidget(widget)
    return box


def build_parts(window: QMainWindow, settings: AppSettings) -> WindowParts:
    central = QWidget(window)
    search_bar = SearchBar(central)
    instructions = InstructionPicker(settings.recent_instructions, central)
    dim = DimSlider(central)
    dim.rerank_box.setChecked(settings.rerank)
    filters = FiltersBar(central)
    model = ResultsModel(window)
    parts = WindowParts(search_bar, instructions, dim, filters, model, ResultsView(model, central),
                        PreviewPane(central), FoldersPanel(central), StatusBar(window),
                        QSplitter(Qt.Orientation.Horizontal, central), QHBoxLayout(), QHBoxLayout())
    _fill_splitter(parts)
    _lay_out(central, parts)
    window.setCentralWidget(central)
    window.setStatusBar(parts.status)
    _set_tab_order(parts)
    return parts


def _fill_splitter(parts: WindowParts) -> None:
    """Folders | results | preview, the results widest."""
    splitter = parts.splitter
    splitter.setObjectName("main-splitter")
    splitter.addWidget(_boxed("Folders", parts.folders, splitter))
    splitter.addWidget(parts.results)
    splitter.addWidget(_boxed("Preview", parts.preview, splitter))
    splitter.setStretchFactor(0, 0)
    splitter.setStretchFactor(1, 3)
    splitter.setStretchFactor(2, 2)
    splitter.setSizes([240, 560, 400])
    splitter.setChildrenCollapsible(False)
    parts.results.setFrameShape(QFrame.Shape.StyledPanel)


def _lay_out(central: QWidget, parts: WindowParts) -> None:
    """Search row, filter row, the dimension controls' own row (used when narrow), the splitter."""
    top = QHBoxLayout()
    top.addWidget(parts.search_bar, 3)
    top.addWidget(parts.instructions, 1)
    parts.filter_row.addWidget(parts.filters, 0)
    parts.filter_row.addStretch(1)
    parts.extra_row.addWidget(parts.dim, 0)  # the dimension controls start here; fit_rows lifts them up
    parts.extra_row.addStretch(1)
    # An explicit minimum lets the window shrink below "everything on one row"; fit_rows
    # then moves the dimension controls to their own row instead of clipping them.
    central.setMinimumSize(680, 420)
    column = QVBoxLayout(central)
    column.setContentsMargins(10, 10, 10, 4)
    column.setSpacing(8)
    column.addLayout(top)
    column.addLayout(parts.filter_row)
    column.addLayout(parts.extra_row)
    column.addWidget(parts.splitter, 1)


def _set_tab_order(parts: WindowParts) -> None:
    filters, dim = parts.filters, parts.dim
    order = [parts.search_bar, parts.instructions, parts.results, parts.preview.body,
             parts.preview.open_button, filters.mode_box, filters.kind_box, filters.folder_box,
             filters.date_box, dim.slider, dim.rerank_box, parts.folders.list, parts.folders.add_button]
    for first, then in zip(order, order[1:], strict=False):
        QWidget.setTabOrder(first, then)


def restore_layout(window: QMainWindow, splitter: QSplitter) -> None:
    """Window geometry and splitter positions from QSettings, or first-start proportions."""
    store = QSettings("qfinder", "qfinder")
    geometry = store.value("window/geometry")
    if geometry is not None:
        window.restoreGeometry(geometry)
    else:
        window.resize(1200, 760)
    state = store.value("window/splitter")
    if state is not None:
        splitter.restoreState(state)
    else:  # first start: folders narrow, results widest, preview in between
        width = max(900, window.width() - 24)
        splitter.setSizes([int(width * 0.2), int(width * 0.46), int(width * 0.34)])


def save_layout(window: QMainWindow, splitter: QSplitter) -> None:
    store = QSettings("qfinder", "qfinder")
    store.setValue("window/geometry", window.saveGeometry())
    store.setValue("window/splitter", splitter.saveState())
