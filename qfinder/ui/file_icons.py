"""File-type icons by extension, cached: theme icon for the MIME type, else the platform's."""

from __future__ import annotations

import os
from functools import lru_cache

from PySide6.QtCore import QFileInfo, QMimeDatabase
from PySide6.QtGui import QIcon
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
    return _platform_provider().icon(QFileIconProvider.IconType.File)


def icon_for_path(path: str) -> QIcon:
    extension = os.path.splitext(path)[1].lstrip(".").lower()
    if not extension and os.path.isdir(path):
        return _platform_provider().icon(QFileInfo(path))
    return _icon_for_extension(extension)


def folder_icon() -> QIcon:
    return _platform_provider().icon(QFileIconProvider.IconType.Folder)
