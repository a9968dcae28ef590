"""Paints one result row: icon, name, folder (elided in the middle), date, relevance bar, why it
matched (name, words: which ones, meaning) and the best snippet with its matching span
highlighted. Chunk rows show their snippet and page/line; marker rows ("no close matches",
"n weaker matches") one line of text."""

from __future__ import annotations

import os
import time

from PySide6.QtCore import QModelIndex, QObject, QPersistentModelIndex, QRect, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QImage, QPainter, QPalette
from PySide6.QtWidgets import QAbstractItemView, QStyle, QStyledItemDelegate, QStyleOptionViewItem

from qfinder.core.results import ChunkHit, FileResult, SearchRequest, SearchResponse
from qfinder.ui.file_icons import icon_for_path
from qfinder.ui.result_labels import format_date, location_label, matched_label
from qfinder.ui.results_model import Marker, ResultsModel, Role, shown_path

PAD = 6
_LEFT = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter  # made once, not per row
_RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
ICON = 32
BAR_W = 56
SNIPPET_CHARS = 260


def _flat(text: str) -> str:
    return " ".join(text.split())


def snippet_runs(chunk: ChunkHit | None, limit: int = SNIPPET_CHARS) -> tuple[str, str, str]:
    """(before, match, after) of the one-line snippet, trimmed so the match stays visible."""
    if chunk is None:
        return "", "", ""
    raw = chunk.snippet
    start, end = chunk.highlight or (0, 0)
    start, end = max(0, min(start, len(raw))), max(0, min(end, len(raw)))
    if end <= start:
        return _flat(raw)[:limit], "", ""
    before, match, after = _flat(raw[:start]), _flat(raw[start:end]), _flat(raw[end:])
    if raw[:start][-1:].isspace() and before:
        before += " "
    if raw[end:][:1].isspace() and after:
        after = " " + after
    keep = limit // 4
    if len(before) > keep:
        before = "…" + _from_word_start(before[-keep:], cut_inside_word=not before[-keep - 1].isspace())
    return before, match, after[:limit]


def _from_word_start(tail: str, cut_inside_word: bool) -> str:
    """`tail` without the partial word a cut left at its start ("…en beat" → "…beat")."""
    if not cut_inside_word:
        return tail
    space = tail.find(" ")
    return tail[space + 1:] if 0 <= space < len(tail) - 1 else tail


def _row_view(index: QModelIndex | QPersistentModelIndex) -> tuple[FileResult | None, ChunkHit | None, bool, float]:  # noqa: E501
    """The row's file, chunk, kind and relevance: straight from a ResultsModel (one Python
    call), else through the roles (four round trips through C++)."""
    model = index.model()
    if isinstance(model, ResultsModel):
        return model.row_view(index)
    return (index.data(Role.FILE), index.data(Role.CHUNK), bool(index.data(Role.IS_CHUNK)),
            float(index.data(Role.RELEVANCE) or 0.0))


class ResultsDelegate(QStyledItemDelegate):
    """Paints in the GUI thread for every visible row on every repaint, and is asked the size
    of every row after each new response: both stay free of per-row allocations and lookups
    that could be done once."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._font: QFont | None = None  # the view font the caches below were made for
        self._bold, self._italic = QFont(), QFont()
        self._date_widths: dict[str, int] = {}  # date text -> pixels, in self._font

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> QSize:  # noqa: N802,E501
        line = option.fontMetrics.height()
        model = index.model()
        if isinstance(model, ResultsModel):
            is_chunk = index.internalId() != 0  # no data() round trip for each of the rows
            if not is_chunk and model.marker_at(index) is not None:
                return QSize(200, line + 2 * PAD)
        else:
            is_chunk = bool(index.data(Role.IS_CHUNK))
        return QSize(200, 2 * line + 2 * PAD) if is_chunk else QSize(200, 3 * line + 3 * PAD)

    def _variants(self, font: QFont) -> tuple[QFont, QFont]:
        """Bold and italic copies of the view's font, made again only when that font changes
        (QFont == is cheap; QFont.key() builds a string on every call)."""
        if self._font is None or font != self._font:
            self._font = QFont(font)
            self._bold, self._italic = QFont(font), QFont(font)
            self._bold.setBold(True)
            self._italic.setItalic(True)
            self._date_widths.clear()
        return self._bold, self._italic

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> None:  # noqa: E501
        painter.save()
        style = option.widget.style() if option.widget else None
        if style:  # background, selection and focus only: the text is ours
            style.drawPrimitive(QStyle.PrimitiveElement.PE_PanelItemViewItem, option, painter,
                                option.widget)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        result, chunk, is_chunk, relevance = _row_view(index)
        rect = option.rect.adjusted(PAD, PAD // 2, -PAD, -PAD // 2)
        marker = index.data(Role.MARKER) if result is None else None
        if isinstance(marker, Marker):
            self._paint_marker(painter, option, rect, marker, selected)
        elif is_chunk:
            self._paint_chunk(painter, option, rect, chunk, selected)
        elif result is not None:
            self._paint_file(painter, option, rect, result, chunk, relevance, selected)
        painter.restore()

    def _colors(self, option: QStyleOptionViewItem, selected: bool) -> tuple[QColor, QColor]:
        palette = option.palette
        group = QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
        text = palette.color(group)
        dim = QColor(text)
        dim.setAlphaF(0.68)
        return text, dim

    def _paint_file(self, painter: QPainter, option: QStyleOptionViewItem, rect: QRect,
                    result: FileResult, chunk: ChunkHit | None, relevance: float,
                    selected: bool) -> None:
        text, dim = self._colors(option, selected)
        fm = option.fontMetrics
        line = fm.height()
        icon_rect = QRect(rect.left(), rect.top() + PAD // 2, ICON, ICON)
        icon_for_path(result.path).paint(painter, icon_rect)
        left = icon_rect.right() + PAD * 2
        date = format_date(result.mtime)
        date_w = self._date_width(option.font, fm, date)
        bar_rect = QRect(rect.right() - BAR_W, rect.top() + line // 3, BAR_W, max(6, line // 2))
        self._paint_bar(painter, option, bar_rect, relevance, selected)
        right = bar_rect.left() - PAD
        bold, _italic = self._variants(option.font)
        painter.setFont(bold)
        painter.setPen(text)
        name_w = right - date_w - left
        path = shown_path(result)
        name = os.path.basename(path)
        name_rect = QRect(left, rect.top(), max(0, name_w), line)
        painter.drawText(name_rect, _LEFT,
                         painter.fontMetrics().elidedText(name, Qt.TextElideMode.ElideRight, name_w))
        painter.setFont(option.font)
        painter.setPen(dim)
        painter.drawText(QRect(right - date_w, rect.top(), date_w, line), _RIGHT, date)
        folder = os.path.dirname(path)
        where = location_label(chunk)
        folder_text = f"{folder}  ·  {where}" if where else folder
        second = rect.top() + line + PAD // 2
        why = matched_label(result)
        why_w = min(fm.horizontalAdvance(why), (rect.right() - left) // 2) if why else 0
        painter.drawText(QRect(rect.right() - why_w, second, why_w, line), _RIGHT,
                         fm.elidedText(why, Qt.TextElideMode.ElideRight, why_w))
        folder_w = rect.right() - left - why_w - (2 * PAD if why else 0)
        painter.drawText(QRect(left, second, folder_w, line), _LEFT,
                         fm.elidedText(folder_text, Qt.TextElideMode.ElideMiddle, folder_w))
        snippet_rect = QRect(left, rect.top() + 2 * line + PAD, rect.right() - left, line + PAD)
        self._paint_snippet(painter, option, snippet_rect, chunk, text)

    def _paint_chunk(self, painter: QPainter, option: QStyleOptionViewItem, rect: QRect,
                     chunk: ChunkHit | None, selected: bool) -> None:
        text, dim = self._colors(option, selected)
        line = option.fontMetrics.height()
        painter.setPen(dim)
        painter.drawText(QRect(rect.left(), rect.top(), rect.width(), line), _LEFT,
                         location_label(chunk) or "another match")
        body = QRect(rect.left(), rect.top() + line + PAD // 2, rect.width(), line + PAD)
        self._paint_snippet(painter, option, body, chunk, text)

    def _paint_marker(self, painter: QPainter, option: QStyleOptionViewItem, rect: QRect,
                      marker: Marker, selected: bool) -> None:
        text, dim = self._colors(option, selected)
        bold, italic = self._variants(option.font)
        painter.setFont(italic if marker.kind == "no-close" else bold)
        painter.setPen(text if marker.kind == "no-close" else dim)
        painter.drawText(rect, _LEFT, marker.text())
        painter.setFont(option.font)

    def _paint_snippet(self, painter: QPainter, option: QStyleOptionViewItem, rect: QRect,
                       chunk: ChunkHit | None, color: QColor) -> None:
        """One line: text before the match, the match on a tinted background, text after.

        Drawn as plain text runs (no QTextDocument): painting must stay cheap, it runs for
        every visible row on every repaint in the GUI thread."""
        fm = option.fontMetrics
        chars = max(20, int(rect.width() / max(1, fm.averageCharWidth())))
        before, match, after = snippet_runs(chunk, chars)
        x, baseline = rect.left(), rect.top() + fm.ascent()
        right = rect.right()
        painter.setPen(color)
        bold, italic = self._variants(option.font)
        if chunk is None:
            painter.setFont(italic)
            painter.drawText(x, baseline, "matched by file name")
            painter.setFont(option.font)
            return
        x = self._run(painter, fm, x, baseline, right, before)
        if match and x < right:
            painter.setFont(bold)
            bfm = painter.fontMetrics()
            width = bfm.horizontalAdvance(match)
            mark = QColor(option.palette.color(QPalette.ColorRole.Highlight))
            mark.setAlpha(70)
            painter.fillRect(QRect(x - 1, rect.top(), min(width, right - x) + 2, fm.height()), mark)
            x = self._run(painter, bfm, x, baseline, right, match, width)
            painter.setFont(option.font)
            if after and x < right:  # the last run: elidedText alone says what fits
                painter.drawText(x, baseline, fm.elidedText(after, Qt.TextElideMode.ElideRight, right - x))

    def _date_width(self, font: QFont, fm: QFontMetrics, date: str) -> int:
        """Width of the date column: the widest of an ISO date and this text, measured once."""
        self._variants(font)  # clears the widths when the font changed
        if date not in self._date_widths:
            if len(self._date_widths) > 512:
                self._date_widths.clear()
            self._date_widths[date] = max(fm.horizontalAdvance("0000-00-00"),
                                          fm.horizontalAdvance(date)) + PAD
        return self._date_widths[date]

    @staticmethod
    def _run(painter: QPainter, fm: QFontMetrics, x: int, baseline: int, right: int, text: str,
             width: int | None = None) -> int:
        """Draw one run at x; returns where the next starts. Text measuring is the costly part
        of painting a row, so a run is measured once (or not at all when `width` is given)."""
        if not text or x >= right:
            return x
        width = fm.horizontalAdvance(text) if width is None else width
        if x + width > right:
            text = fm.elidedText(text, Qt.TextElideMode.ElideRight, right - x)
            width = fm.horizontalAdvance(text)
        painter.drawText(x, baseline, text)
        return x + width

    def _paint_bar(self, painter: QPainter, option: QStyleOptionViewItem, rect: QRect,
                   relevance: float, selected: bool) -> None:
        # On a selected row the highlight colour is the background: draw in the text colour.
        fill_role = QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Highlight
        track = QColor(option.palette.color(fill_role if selected else QPalette.ColorRole.Mid))
        track.setAlphaF(0.3)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(track)
        painter.drawRoundedRect(rect, 3, 3)
        filled = QRect(rect.left(), rect.top(), int(rect.width() * relevance), rect.height())
        painter.setBrush(option.palette.color(fill_role))
        painter.drawRoundedRect(filled, 3, 3)


def warm_up(view: QAbstractItemView, delegate: ResultsDelegate) -> None:
    """Paint a sample file row and chunk row offscreen once, while the window is built.

    The first real paint would otherwise also pay for what Qt and PySide6 make on first use
    (PySide6's enum types, glyph caches, the text-file badge): about 10 ms more, in the GUI
    thread, at the moment the first results arrive, usually while the engine is indexing."""
    chunk = ChunkHit(0, 1.0, "a warm-up passage with a match", (0, 30), (16, 21), None, 1)
    sample = FileResult("warm-up.txt", 1.0, 1, time.time(), (chunk, chunk), relevance=1.0,
                        matched_by=("words", "meaning"), matched_words=("match",))
    model = ResultsModel()
    model.set_response(SearchResponse(SearchRequest(text="match"), (sample,), 0.0, None, False, True))
    image = QImage(480, 80, QImage.Format.Format_ARGB32_Premultiplied)
    painter = QPainter(image)
    option = QStyleOptionViewItem()
    view.initViewItemOption(option)
    option.rect = QRect(0, 0, 480, 80)
    top = model.index(0, 0)
    for index in (top, model.index(0, 0, top)):
        delegate.sizeHint(option, index)
        delegate.paint(painter, option, index)
    painter.end()
