"""The preview's text: code and plain text in the fixed-pitch system font with their whitespace
(code with line numbers and colours), prose in the normal font; every query word marked, the best
passage set off, and next/previous hit.

Formats are laid on plain text with QTextCursor (no HTML): HTML collapses whitespace, which is
what lost the indentation of code."""

from __future__ import annotations

from PySide6.QtCore import QRect, QSize, Qt, Slot
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontDatabase,
    QPainter,
    QPaintEvent,
    QPalette,
    QResizeEvent,
    QTextCharFormat,
    QTextCursor,
)
from PySide6.QtWidgets import QPlainTextEdit, QWidget

from qfinder.ui.code_colors import role_formats
from qfinder.ui.preview_context import Passage, Span

GUTTER_PAD = 6


class _Gutter(QWidget):
    def __init__(self, editor: PreviewText) -> None:
        super().__init__(editor)
        self.editor = editor

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt override
        return QSize(self.editor.gutter_width(), 0)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt override
        self.editor.paint_gutter(self, event.rect())


class PreviewText(QPlainTextEdit):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setReadOnly(True)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse
                                     | Qt.TextInteractionFlag.TextSelectableByKeyboard)
        self._prose_font = QFont(self.font())
        self._fixed_font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        self._first_line: int | None = None
        self._hits: tuple[Span, ...] = ()
        self._gutter = _Gutter(self)
        self.blockCountChanged.connect(lambda _count: self._fit_gutter())
        self.updateRequest.connect(self._scroll_gutter)
        self._fit_gutter()

    # -- marks -------------------------------------------------------------------------------
    def _mark(self, alpha: float) -> QColor:
        colour = QColor(self.palette().color(QPalette.ColorRole.Highlight))
        colour.setAlphaF(alpha)
        return colour

    def hit_format(self) -> QTextCharFormat:
        fmt = QTextCharFormat()
        fmt.setBackground(self._mark(0.45))
        return fmt

    def _best_format(self) -> QTextCharFormat:
        fmt = QTextCharFormat()
        fmt.setBackground(self._mark(0.16))
        fmt.setFontWeight(QFont.Weight.DemiBold)
        return fmt

    def _context_format(self) -> QTextCharFormat:
        fmt = QTextCharFormat()
        fmt.setForeground(self.palette().color(QPalette.ColorRole.PlaceholderText))
        return fmt

    # -- showing -----------------------------------------------------------------------------
    def show_passage(self, passage: Passage) -> None:
        fixed = passage.look in ("code", "text")
        # Long lines wrap, code too: in a pane this narrow, scrolling sideways to a hit would
        # hide where the lines start, their indentation (a wrapped line has no number).
        self.setFont(self._fixed_font if fixed else self._prose_font)
        self._first_line = passage.first_line if passage.look == "code" else None
        self._set_text(passage.text)
        self._fit_gutter()
        cursor = QTextCursor(self.document())
        cursor.beginEditBlock()
        formats = role_formats(self.palette())
        for start, end, role in passage.tokens:
            self._merge(cursor, (start, end), formats[role])
        for span in passage.context:
            self._merge(cursor, span, self._context_format())
        if passage.best:
            self._merge(cursor, passage.best, self._best_format())
        for span in passage.hits:
            self._merge(cursor, span, self.hit_format())
        cursor.endEditBlock()
        self._hits = passage.hits
        self._go_to(self._first_hit_from(passage.best[0] if passage.best else 0))

    def show_message(self, text: str) -> None:
        self.setFont(self._prose_font)
        self._first_line, self._hits = None, ()
        self._set_text(text)
        self._fit_gutter()

    def _set_text(self, text: str) -> None:
        # Through the document: QPlainTextEdit.setPlainText would give all the new text the
        # format under the old cursor (a selected hit: everything would look like a hit).
        self.document().setPlainText(text)
        self.setTextCursor(QTextCursor(self.document()))

    def _merge(self, cursor: QTextCursor, span: Span, fmt: QTextCharFormat) -> None:
        end = min(span[1], self.document().characterCount() - 1)
        if end <= span[0]:
            return
        cursor.setPosition(span[0])
        cursor.setPosition(end, QTextCursor.MoveMode.KeepAnchor)
        cursor.mergeCharFormat(fmt)

    # -- hits --------------------------------------------------------------------------------
    def hits(self) -> tuple[Span, ...]:
        return self._hits

    def next_hit(self) -> None:
        self._step(+1)

    def previous_hit(self) -> None:
        self._step(-1)

    def _step(self, direction: int) -> None:
        if not self._hits:
            return
        at = self.textCursor().selectionStart()
        current = next((i for i, (start, _end) in enumerate(self._hits) if start == at), None)
        if current is not None:
            target = current + direction
        else:  # the reader moved the cursor: the hit after it, or the one before it
            target = self._first_hit_from(at) - (0 if direction > 0 else 1)
        self._go_to(target % len(self._hits))

    def _first_hit_from(self, position: int) -> int:
        return next((i for i, (start, _end) in enumerate(self._hits) if start >= position), 0)

    def _go_to(self, index: int) -> None:
        """Select hit `index` and scroll it into view; the start of the text without hits."""
        cursor = QTextCursor(self.document())
        if self._hits:
            start, end = self._hits[index]
            cursor.setPosition(start)
            cursor.setPosition(end, QTextCursor.MoveMode.KeepAnchor)
        self.setTextCursor(cursor)
        self.centerCursor()

    # -- line numbers ------------------------------------------------------------------------
    def line_numbers_visible(self) -> bool:
        return self._first_line is not None

    def gutter_width(self) -> int:
        if self._first_line is None:
            return 0
        digits = len(str(self._first_line + self.blockCount()))
        return 2 * GUTTER_PAD + self.fontMetrics().horizontalAdvance("9") * digits

    def _fit_gutter(self) -> None:
        width = self.gutter_width()
        self.setViewportMargins(width, 0, 0, 0)
        rect = self.contentsRect()
        self._gutter.setGeometry(QRect(rect.left(), rect.top(), width, rect.height()))
        self._gutter.setVisible(width > 0)

    @Slot(QRect, int)
    def _scroll_gutter(self, rect: QRect, dy: int) -> None:
        if dy:
            self._gutter.scroll(0, dy)
        else:
            self._gutter.update(0, rect.y(), self._gutter.width(), rect.height())

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        self._fit_gutter()

    def paint_gutter(self, gutter: QWidget, area: QRect) -> None:
        if self._first_line is None:
            return
        painter = QPainter(gutter)
        painter.fillRect(area, self.palette().color(QPalette.ColorRole.AlternateBase))
        painter.setFont(self.font())
        painter.setPen(self.palette().color(QPalette.ColorRole.PlaceholderText))
        block = self.firstVisibleBlock()
        top = round(self.blockBoundingGeometry(block).translated(self.contentOffset()).top())
        line_height = self.fontMetrics().height()
        while block.isValid() and top <= area.bottom():
            bottom = top + round(self.blockBoundingRect(block).height())
            if block.isVisible() and bottom >= area.top():
                painter.drawText(0, top, gutter.width() - GUTTER_PAD, line_height,
                                 Qt.AlignmentFlag.AlignRight, str(self._first_line + block.blockNumber()))
            block, top = block.next(), bottom
        painter.end()
