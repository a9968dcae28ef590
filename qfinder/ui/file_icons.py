"""File-type icons by extension, cached: theme icon for the MIME type, else the platform's."""

from __future__ import annotations

import os
from functools import lru_cache

from PySide6.QtCore import QFileInfo, QMimeDatabase, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QIcon, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QFileIconProvider

_MIME = QMimeDatabase()
_provider: QFileIconProvider | None = None


def _platform_provider() -> QFileIconProvider:
    global _provider
    if _provider is None:
        _provider = QFileIconProvider()
    return _provider


@lru_cache(maxsize=256)
def _icon_for_extension(extension: str) -> QIcon:
    mime = _MIME.mimeTypeForFile(f"x.{extension}", QMimeDatabase.MatchMode.MatchExtension)
    for name in (mime.iconName(), mime.genericIconName()):
        if name and QIcon.hasThemeIcon(name):
            return QIcon.fromTheme(name)
    return badge_icon(extension)  # no icon theme (Windows, bare X sessions): a labelled page


# Colours per kind of file, for the fallback badge.
_BADGE_COLORS = {
    "pdf": "#d93025", "doc": "#2b579a", "docx": "#2b579a", "odt": "#2b579a", "rtf": "#2b579a",
    "xls": "#217346", "xlsx": "#217346", "ods": "#217346", "csv": "#217346",
    "ppt": "#c43e1c", "pptx": "#c43e1c", "odp": "#c43e1c", "md": "#6a4df0", "txt": "#5f6368",
    "html": "#e37400", "epub": "#8e24aa", "eml": "#00897b",
}
_CODE = {"py", "js", "ts", "java", "c", "h", "cpp", "hpp", "rs", "go", "rb", "sh", "cs", "json"}


def badge_icon(extension: str) -> QIcon:
    """A page with a coloured band naming the extension, painted once per extension."""
    color = QColor(_BADGE_COLORS.get(extension, "#0b8043" if extension in _CODE else "#80868b"))
    icon = QIcon()
    for size in (16, 32, 64):
        pixmap = QPixmap(size, size)
        pixmap.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pixmap)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        s = size / 32
        painter.setPen(QPen(QColor("#9aa0a6"), max(1.0, s)))
        painter.setBrush(QColor("#ffffff"))
        painter.drawRoundedRect(QRectF(5 * s, 1.5 * s, 22 * s, 29 * s), 2.5 * s, 2.5 * s)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(color)
        painter.drawRoundedRect(QRectF(2 * s, 15 * s, 28 * s, 11 * s), 2 * s, 2 * s)
        label = (extension or "file")[:4].upper()
        font = QFont()
        font.setBold(True)
        font.setPixelSize(max(5, int((8 if len(label) <= 3 else 6.5) * s)))
        painter.setFont(font)
        painter.setPen(QColor("#ffffff"))
        painter.drawText(QRectF(2 * s, 15 * s, 28 * s, 11 * s), Qt.AlignmentFlag.AlignCenter, label)
        painter.end()
        icon.addPixmap(pixmap)
    return icon


def icon_for_path(path: str) -> QIcon:
    extension = os.path.splitext(path)[1].lstrip(".").lower()
    if not extension and os.path.isdir(path):
        return _platform_provider().icon(QFileInfo(path))
    return _icon_for_extension(extension)


def folder_icon() -> QIcon:
    return _platform_provider().icon(QFileIconProvider.IconType.Folder)
