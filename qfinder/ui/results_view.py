"""The results tree: keyboard navigation, open/reveal/copy/find-similar, and empty states.

The view only emits intent signals; the main window routes them to the shared opener and the
engine, so tests can drive everything through keys and assert on the intercepted opener.
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, Qt, Signal, SignalInstance, Slot
from PySide6.QtGui import QAction, QContextMenuEvent, QKeyEvent, QKeySequence, QPainter, QPaintEvent
from PySide6.QtWidgets import QAbstractItemView, QMenu, QTreeView, QWidget

from qfinder.core.results import ChunkHit, FileResult
from qfinder.ui.results_delegate import ResultsDelegate, warm_up
from qfinder.ui.results_model import ResultsModel, Role

EMPTY_NO_ROOTS = "Drop a folder here to start\n\nor use “Add folder…” in the Folders panel."
EMPTY_NO_RESULTS = "No results — try keyword mode or another instruction."
EMPTY_TYPE = "Type to search your files."


class ResultsView(QTreeView):
    # paths go as objects: a Qt string would drop the undecodable bytes of a name
    open_requested = Signal(object, object)  # path: str, page: int | None
    reveal_requested = Signal(object)  # path: str
    open_with_requested = Signal(object)  # path: str
    copy_requested = Signal(object)  # path: str
    similar_requested = Signal(object)  # path: str
    hit_selected = Signal(object, object)  # FileResult | None, ChunkHit | None

    def __init__(self, model: ResultsModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setModel(model)
        delegate = ResultsDelegate(self)
        self.setItemDelegate(delegate)
        warm_up(self, delegate)
        self.setHeaderHidden(True)
        self.setUniformRowHeights(False)
        self.setAlternatingRowColors(True)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setExpandsOnDoubleClick(False)
        self.setAccessibleName("Search results")
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.DefaultContextMenu)
        self.empty_text = EMPTY_NO_ROOTS
        self._place: tuple[object, int] | None = None  # (current row's key, scroll) over a reset
        self.doubleClicked.connect(lambda index: self._emit_open(index))
        self.clicked.connect(self._on_clicked)
        self.selectionModel().currentChanged.connect(self._on_current)
        model.modelAboutToBeReset.connect(self._remember_place)
        model.modelReset.connect(self._on_reset)

    def results_model(self) -> ResultsModel:
        model = self.model()
        assert isinstance(model, ResultsModel)
        return model

    def set_empty_text(self, text: str) -> None:
        # Called on every engine roots/response update: repaint only when the text shown
        # changes (it is drawn on an empty list only), as a repaint of the rows is not free.
        if text == self.empty_text:
            return
        self.empty_text = text
        if self.results_model().rowCount() == 0:
            self.viewport().update()

    @Slot()
    def _remember_place(self) -> None:
        model = self.results_model()
        current = self.currentIndex()
        top = current.parent() if current.parent().isValid() else current
        result = model.file_at(top)
        key = result.path if result is not None else model.marker_at(top)
        self._place = (key, self.verticalScrollBar().value()) if model.keeping_place and key else None

    @Slot()
    def _on_reset(self) -> None:
        """A new answer selects its first file; the same query's fresher answer keeps the
        selected file and the scroll position while that file is still listed."""
        model = self.results_model()
        place, self._place = self._place, None
        row = self._row_of_key(place[0]) if place else None
        if row is None:
            row = next((r for r in range(model.rowCount()) if model.file_at(model.index(r, 0))), None)
        if row is None:
            self.hit_selected.emit(None, None)
            return
        self.setCurrentIndex(model.index(row, 0))
        if place is not None and self._row_of_key(place[0]) is not None:
            self.verticalScrollBar().setValue(place[1])

    def _row_of_key(self, key: object) -> int | None:
        model = self.results_model()
        return model.row_of(key) if isinstance(key, str) else model.row_of_marker(getattr(key, "kind", ""))

    @Slot(QModelIndex)
    def _on_clicked(self, index: QModelIndex) -> None:
        marker = self.results_model().marker_at(index)
        if marker is not None and marker.kind == "weaker":
            self.results_model().toggle_weaker()

    @Slot(QModelIndex, QModelIndex)
    def _on_current(self, current: QModelIndex, _previous: QModelIndex) -> None:
        model = self.results_model()
        if model.marker_at(current) is not None:
            return  # a "weaker matches" row: the preview stays on the file it shows
        self.hit_selected.emit(model.file_at(current), model.chunk_at(current))

    def current_path(self) -> str | None:
        result = self.results_model().file_at(self.currentIndex())
        return result.path if result else None

    # -- keys and menu ---------------------------------------------------------------------
    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt override
        index = self.currentIndex()
        key, mods = event.key(), event.modifiers()
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Space) and self.results_model().marker_at(index):
            self._on_clicked(index)
            event.accept()
            return
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and index.isValid():
            if mods & Qt.KeyboardModifier.ControlModifier:
                self._emit_path(self.reveal_requested)
            else:
                self._emit_open(index)
            event.accept()
            return
        if event.matches(QKeySequence.StandardKey.Copy) and index.isValid():
            self._emit_path(self.copy_requested)
            event.accept()
            return
        super().keyPressEvent(event)

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:  # noqa: N802 - Qt override
        index = self.indexAt(event.pos())
        if not index.isValid():
            return
        self.setCurrentIndex(index)
        self.build_menu().exec(event.globalPos())

    def build_menu(self) -> QMenu:
        menu = QMenu(self)
        entries = (
            ("Open", "Return", lambda: self._emit_open(self.currentIndex())),
            ("Open with…", "", lambda: self._emit_path(self.open_with_requested)),
            ("Show in folder", "Ctrl+Return", lambda: self._emit_path(self.reveal_requested)),
            ("Copy path", "Ctrl+C", lambda: self._emit_path(self.copy_requested)),
            ("Find similar files", "", lambda: self._emit_path(self.similar_requested)),
        )
        for label, shortcut, slot in entries:
            action = QAction(label, menu)
            if shortcut:
                action.setShortcut(QKeySequence(shortcut))
            action.triggered.connect(slot)
            menu.addAction(action)
        return menu

    def _emit_open(self, index: QModelIndex) -> None:
        result: FileResult | None = self.results_model().file_at(index)
        chunk: ChunkHit | None = index.data(Role.CHUNK) if index.isValid() else None
        if result is not None:
            self.open_requested.emit(result.path, chunk.page if chunk else None)

    def _emit_path(self, signal: SignalInstance) -> None:
        path = self.current_path()
        if path:
            signal.emit(path)

    # -- empty state -----------------------------------------------------------------------
    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt override
        super().paintEvent(event)
        if self.results_model().rowCount() > 0 or not self.empty_text:
            return
        painter = QPainter(self.viewport())
        color = self.palette().color(self.palette().ColorRole.PlaceholderText)
        painter.setPen(color)
        font = painter.font()
        font.setPointSizeF(font.pointSizeF() * 1.25)
        painter.setFont(font)
        painter.drawText(
            self.viewport().rect().adjusted(24, 24, -24, -24),
            Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
            self.empty_text,
        )
        painter.end()
