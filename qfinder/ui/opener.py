"""The one place that hands files to the operating system, so tests can intercept it.

Widgets never call QDesktopServices directly: they call `opener.open_file(path)` and friends.
Tests replace the module-level `opener` (or pass their own Opener) and record the calls.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

from PySide6.QtCore import QByteArray, QMimeData, QUrl
from PySide6.QtGui import QDesktopServices, QGuiApplication

from qfinder.core.pathnames import is_exact_text, readable_path

log = logging.getLogger(__name__)


class Opener:
    """Opens files, reveals them in the file manager, copies paths to the clipboard."""

    def open_file(self, path: str, page: int | None = None) -> bool:
        """Open with the system's default app; `page` is a hint (PDF viewers may honour #page=)."""
        url = file_url(path)
        if page and path.lower().endswith(".pdf"):
            url.setFragment(f"page={page}")  # honoured by browsers and some PDF viewers
        ok = QDesktopServices.openUrl(url)
        if not ok and page:
            ok = QDesktopServices.openUrl(file_url(path))
        log.info("open %s (page %s): %s", path, page, ok)
        return bool(ok)

    def reveal(self, path: str) -> bool:
        """Show the file selected in the platform's file manager (its folder as a fallback)."""
        try:
            if sys.platform == "darwin":
                subprocess.Popen(["open", "-R", path])  # noqa: S603,S607 - fixed argv
                return True
            if os.name == "nt":
                subprocess.Popen(["explorer", "/select,", path])  # noqa: S603,S607
                return True
        except OSError as exc:
            log.warning("reveal failed for %s: %s", path, exc)
        if sys.platform.startswith("linux") and _show_items_dbus(file_url(path)):
            return True
        folder = str(Path(path).parent)
        return bool(QDesktopServices.openUrl(file_url(folder)))

    def copy_path(self, path: str) -> None:
        """The path as text (readable) and as a file URL (exact: file managers paste that)."""
        clipboard = QGuiApplication.clipboard()
        if clipboard is not None:
            data = QMimeData()
            data.setText(readable_path(path))
            data.setUrls([file_url(path)])
            clipboard.setMimeData(data)


class RecordingOpener(Opener):
    """An opener that only records what it was asked to do (tests, screenshots)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []

    def open_file(self, path: str, page: int | None = None) -> bool:
        self.calls.append(("open", path))
        return True

    def reveal(self, path: str) -> bool:
        self.calls.append(("reveal", path))
        return True

    def copy_path(self, path: str) -> None:
        self.calls.append(("copy", path))
        super().copy_path(path)


opener: Opener = Opener()


def set_opener(new: Opener) -> Opener:
    """Replace the shared opener; returns the previous one so callers can restore it."""
    global opener
    previous, opener = opener, new
    return previous


def get_opener() -> Opener:
    return opener


def file_url(path: str) -> QUrl:
    """A file URL that names the file by its real bytes. QUrl.fromLocalFile goes through a Qt
    string, which mangles a name that is not valid UTF-8; the percent-encoded URL keeps it, and
    Qt hands it on encoded (xdg-open, file managers)."""
    if is_exact_text(path):
        return QUrl.fromLocalFile(path)
    return QUrl.fromEncoded(QByteArray(Path(path).as_uri().encode("ascii")))


def _show_items_dbus(url: QUrl) -> bool:
    """Ask a running freedesktop file manager (Nautilus, Dolphin, Nemo, …) to select the file.

    Sent without waiting for the reply, so a slow file manager never blocks the window."""
    try:
        from PySide6.QtDBus import QDBusConnection, QDBusMessage
    except ImportError:
        return False
    service = "org.freedesktop.FileManager1"
    bus = QDBusConnection.sessionBus()
    if not bus.isConnected():
        return False
    registered = bus.interface().isServiceRegistered(service)
    if not registered.isValid() or not registered.value():
        return False
    message = QDBusMessage.createMethodCall(service, "/org/freedesktop/FileManager1", service,
                                            "ShowItems")
    message.setArguments([[url.toEncoded().toStdString()], ""])
    return bool(bus.send(message))
