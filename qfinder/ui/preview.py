"""The preview pane: the selected match in its chunk, highlighted, with where it is in the file."""

from __future__ import annotations

import html
import os

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from qfinder.core.results import ChunkHit, FileResult
from qfinder.ui.background import BackgroundJob
from qfinder.ui.dim_slider import human_bytes
from qfinder.ui.preview_context import Context, load_context
from qfinder.ui.results_delegate import format_date, location_label
from qfinder.ui.results_model import shown_path


def context_html(context: Context, mark: str) -> str:
    """Surrounding text greyed, the chunk in full colour, the match marked."""
    def esc(text: str) -> str:
        return html.escape(text).replace("\n", "<br>")

    return (
        f"<span style='color:gray'>{'…' if context.before else ''}{esc(context.before)}</span>"
        f"{esc(context.chunk_before)}<a name='match'></a>"
        f"<span style='background-color:{mark}; font-weight:600'>{esc(context.match)}</span>"
        f"{esc(context.chunk_after)}"
        f"<span style='color:gray'>{esc(context.after)}{'…' if context.after else ''}</span>"
    )


def chunk_html(chunk: ChunkHit, mark: str) -> str:
    """Full chunk text as HTML paragraphs with the matching span marked."""
    text = chunk.snippet
    start, end = chunk.highlight or (0, 0)
    start, end = max(0, min(start, len(text))), max(0, min(end, len(text)))
    if end > start:
        body = (
            html.escape(text[:start])
            + f'<a name="match"></a><span style="background-color:{mark}; font-weight:600">'
            + html.escape(text[start:end])
            + "</span>"
            + html.escape(text[end:])
        )
    else:
        body = html.escape(text)
    return body.replace("\n", "<br>")


# The passage is laid out a moment after the selection changes, in its own event-loop turn:
# a new response already resets and repaints the results list in the turn it arrives, and
# quick successive selections (arrow keys, a keyword pass then its refinement) lay out once.
BODY_DELAY_MS = 15


class PreviewPane(QWidget):
    open_requested = Signal(object, object)  # path, page (objects: a Qt string would drop
    reveal_requested = Signal(object)        # the undecodable bytes of a name)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._result: FileResult | None = None
        self._chunk: ChunkHit | None = None
        self._job: BackgroundJob | None = None
        self.title = QLabel(self)
        self.title.setWordWrap(True)
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.meta = QLabel(self)
        self.meta.setWordWrap(True)
        self.meta.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.body = QTextBrowser(self)
        self.body.setAccessibleName("Preview of the selected match")
        self.body.setOpenLinks(False)
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

    def _layout(self) -> None:
        buttons = QHBoxLayout()
        buttons.addWidget(self.open_button)
        buttons.addWidget(self.reveal_button)
        buttons.addStretch(1)
        column = QVBoxLayout(self)
        column.setContentsMargins(8, 4, 4, 4)
        column.addWidget(self.title)
        column.addWidget(self.meta)
        column.addWidget(self.body, 1)
        column.addLayout(buttons)

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
            self.body.clear()
            self.open_button.setText("Open")
            return
        path = shown_path(result)
        self.title.setText(f"<b>{html.escape(os.path.basename(path))}</b>")
        where = location_label(chunk)
        parts = [format_date(result.mtime), human_bytes(result.size), where]
        folder = html.escape(os.path.dirname(path))
        self.meta.setText(f"{folder}<br>{'  ·  '.join(p for p in parts if p)}")
        self.meta.setToolTip(path)
        self.open_button.setText(f"Open at page {chunk.page}" if chunk and chunk.page else "Open")
        self._body_timer.start()  # the passage follows in its own turn (BODY_DELAY_MS)

    def _fill_body(self, chunk: ChunkHit | None) -> None:
        if chunk is None:
            self.body.setHtml("<p><i>Matched by its name or path; no text passage.</i></p>")
            return
        self.body.setHtml(f"<div style='line-height:135%'>{chunk_html(chunk, self._mark())}</div>")
        self.body.scrollToAnchor("match")
        self._load_context(chunk)

    def _mark(self) -> str:
        mark = QColor(self.palette().color(QPalette.ColorRole.Highlight))
        return f"rgba({mark.red()},{mark.green()},{mark.blue()},0.35)"

    def _load_context(self, chunk: ChunkHit) -> None:
        """Read the surrounding text off the GUI thread; a newer selection wins."""
        if self._job is not None:
            self._job.cancel()
            self._job.deleteLater()
        path = self._result.path if self._result else ""
        job = BackgroundJob(lambda _report, _cancel: load_context(path, chunk), "qfinder-preview", self)
        job.succeeded.connect(lambda context: self._show_context(job, context))
        self._job = job
        job.start()

    def _show_context(self, job: BackgroundJob, context: Context | None) -> None:
        if job is not self._job or context is None or job.cancel_event.is_set():
            return
        self.body.setHtml(f"<div style='line-height:135%'>{context_html(context, self._mark())}</div>")
        self.body.scrollToAnchor("match")

    def _open(self) -> None:
        if self._result:
            self.open_requested.emit(self._result.path, self._chunk.page if self._chunk else None)

    def _reveal(self) -> None:
        if self._result:
            self.reveal_requested.emit(self._result.path)
