"""The preview pane: the selected match in its chunk, highlighted, with where it is in the file."""

from __future__ import annotations

import html
import logging
import os

from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtGui import QAction, QKeySequence, QPalette
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QToolButton, QVBoxLayout, QWidget

from qfinder.core.results import ChunkHit, FileResult
from qfinder.core.search.query_syntax import parse_query
from qfinder.core.units import format_size
from qfinder.services.thread_job import ThreadJob, start_job
from qfinder.ui.code_colors import code_tokens
from qfinder.ui.preview_context import (
    Context,
    Look,
    RoleSpan,
    code_text,
    context_passage,
    load_context,
    look_of,
    snippet_passage,
)
from qfinder.ui.preview_text import PreviewText
from qfinder.ui.result_labels import format_date, location_label
from qfinder.ui.results_model import shown_path

# The passage is laid out a moment after the selection changes, in its own event-loop turn:
# a new response already resets and repaints the results list in the turn it arrives, and
# quick successive selections (arrow keys, a keyword pass then its refinement) lay out once.
BODY_DELAY_MS = 15

log = logging.getLogger(__name__)


class PreviewPane(QWidget):
    # paths go as objects: a Qt string would drop the undecodable bytes of a name
    open_requested = Signal(object, object)  # path: str, page: int | None
    reveal_requested = Signal(object)  # path: str

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._result: FileResult | None = None
        self._chunk: ChunkHit | None = None
        self._job: ThreadJob | None = None  # the newest context read; older ones are ignored
        self._query = parse_query("")
        self.title = QLabel(self)
        self.title.setWordWrap(True)
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.meta = QLabel(self)
        self.meta.setWordWrap(True)
        self.meta.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.body = PreviewText(self)
        self.body.setAccessibleName("Preview of the selected match")
        self.previous_hit_button = self._hit_button("▲", "Previous match (Shift+F3)", "Shift+F3",
                                                    self.body.previous_hit)
        self.next_hit_button = self._hit_button("▼", "Next match (F3)", "F3", self.body.next_hit)
        self.open_button = QPushButton("Open", self)
        self.open_button.setAccessibleName("Open the file at this place")
        self.reveal_button = QPushButton("Show in folder", self)
        self.open_button.clicked.connect(self._open)
        self.reveal_button.clicked.connect(self._reveal)
        self._body_timer = QTimer(self)
        self._body_timer.setSingleShot(True)
        self._body_timer.setInterval(BODY_DELAY_MS)
        self._body_timer.timeout.connect(lambda: self._fill_body(self._chunk))
        self._layout()
        self.show_hit(None, None)

    def _hit_button(self, text: str, tip: str, keys: str, slot: object) -> QToolButton:
        """A button and its window-wide shortcut: F3 works while the results list has focus."""
        action = QAction(text, self)
        action.setToolTip(tip)
        action.setShortcut(QKeySequence(keys))
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        action.triggered.connect(slot)
        self.addAction(action)
        button = QToolButton(self)
        button.setDefaultAction(action)
        button.setAccessibleName(tip)
        return button

    def _layout(self) -> None:
        buttons = QHBoxLayout()
        buttons.addWidget(self.open_button)
        buttons.addWidget(self.reveal_button)
        buttons.addStretch(1)
        buttons.addWidget(self.previous_hit_button)
        buttons.addWidget(self.next_hit_button)
        column = QVBoxLayout(self)
        column.setContentsMargins(8, 4, 4, 4)
        column.addWidget(self.title)
        column.addWidget(self.meta)
        column.addWidget(self.body, 1)
        column.addLayout(buttons)

    def set_query(self, text: str) -> None:
        """The words to mark in the passages shown from now on."""
        self._query = parse_query(text)

    def hits(self) -> tuple[tuple[int, int], ...]:
        return self.body.hits()

    def show_hit(self, result: FileResult | None, chunk: ChunkHit | None) -> None:
        self._result, self._chunk = result, chunk
        has = result is not None
        self.open_button.setEnabled(has)
        self.reveal_button.setEnabled(has)
        self.title.setVisible(result is not None)
        if result is None:
            self._body_timer.stop()
            self.title.setText("")
            self.meta.setText("Select a result to see the matching passage here.")
            self.body.show_message("")
            self.open_button.setText("Open")
            return
        path = shown_path(result)
        self.title.setText(f"<b>{html.escape(os.path.basename(path))}</b>")
        where = location_label(chunk)
        parts = [format_date(result.mtime), format_size(result.size), where]
        folder = html.escape(os.path.dirname(path))
        self.meta.setText(f"{folder}<br>{'  ·  '.join(p for p in parts if p)}")
        self.meta.setToolTip(path)
        self.open_button.setText(f"Open at page {chunk.page}" if chunk and chunk.page else "Open")
        self._body_timer.start()  # the passage follows in its own turn (BODY_DELAY_MS)

    def _fill_body(self, chunk: ChunkHit | None) -> None:
        if chunk is None or self._result is None:
            self.body.show_message("Matched by its name or path; no text passage.")
            return
        look = look_of(self._result.path)
        self.body.show_passage(snippet_passage(chunk, look, self._query))
        self._load_context(self._result.path, chunk, look)

    def _load_context(self, path: str, chunk: ChunkHit, look: Look) -> None:
        """Read the surrounding text (and lex code) off the GUI thread; a newer selection wins."""

        def work() -> tuple[Look, Context, tuple[RoleSpan, ...]] | None:
            context = load_context(path, chunk)
            if context is None:
                return None
            return look, context, code_tokens(path, code_text(context)) if look == "code" else ()

        self._job = start_job(work, "qfinder-preview", self._show_context, self._context_failed)

    @Slot(object)
    def _context_failed(self, exc: BaseException) -> None:
        log.info("the preview could not read the file: %s", exc)  # the snippet stays shown

    @Slot(object)
    def _show_context(self, found: tuple[Look, Context, tuple[RoleSpan, ...]] | None) -> None:
        """found: what the job read, or None when the file no longer holds the passage."""
        if self.sender() is not self._job or found is None:
            return
        look, context, tokens = found
        self.body.show_passage(context_passage(context, look, self._query, tokens))

    def _open(self) -> None:
        if self._result:
            self.open_requested.emit(self._result.path, self._chunk.page if self._chunk else None)

    def _reveal(self) -> None:
        if self._result:
            self.reveal_requested.emit(self._result.path)
