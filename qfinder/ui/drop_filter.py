"""Drag-and-drop onto ANY part of the main window: folders are added, files searched "like".

An application-wide event filter sees drag events before the widget under the cursor (a line
edit would otherwise swallow the URLs as text), so one place handles every drop.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from PySide6.QtCore import QEvent, QMimeData, QObject, QUrl, Signal
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import QWidget

_DRAG_EVENTS = (QEvent.Type.DragEnter, QEvent.Type.DragMove, QEvent.Type.Drop)


def split_local_paths(urls: Iterable[QUrl]) -> tuple[list[str], list[str]]:
    """(folders, files) among the local URLs; anything else (web links) is ignored."""
    folders: list[str] = []
    files: list[str] = []
    for url in urls:
        if not url.isLocalFile():
            continue
        path = os.path.normpath(url.toLocalFile())
        if os.path.isdir(path):
            folders.append(path)
        elif os.path.isfile(path):
            files.append(path)
    return folders, files


def has_local_urls(mime: QMimeData | None) -> bool:
    return bool(mime and mime.hasUrls() and any(u.isLocalFile() for u in mime.urls()))


class DropFilter(QObject):
    """Install on the QApplication; handles drops on `window` and all its children."""

    folders_dropped = Signal(list)  # list[str]
    files_dropped = Signal(list)  # list[str]

    def __init__(self, window: QWidget) -> None:
        super().__init__(window)
        self._window = window
        window.setAcceptDrops(True)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt API
        if event.type() not in _DRAG_EVENTS or not isinstance(watched, QWidget):
            return False
        if watched.window() is not self._window:
            return False
        assert isinstance(event, (QDragEnterEvent, QDragMoveEvent, QDropEvent))
        if not has_local_urls(event.mimeData()):
            return False
        if event.type() == QEvent.Type.Drop:
            self.handle_mime(event.mimeData())
        event.acceptProposedAction()
        return True

    def handle_mime(self, mime: QMimeData) -> None:
        folders, files = split_local_paths(mime.urls())
        if folders:
            self.folders_dropped.emit(folders)
        if files:
            self.files_dropped.emit(files)
