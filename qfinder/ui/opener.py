"""The one place that hands files to the operating system, so tests can intercept it.

Widgets never call QDesktopServices directly: they call `opener.open_file(path)` and friends.
Tests replace the module-level `opener` (or pass their own Opener) and record the calls.
"""

from __future__ import annotations

import atexit
import logging
import os
import shlex
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

    def open_with(self, path: str, program: str) -> bool:
        """Open with `program`: a command line (Linux), an application name (macOS, `open -a`);
        on Windows an empty `program` asks the system's own "Open with" chooser."""
        try:
            if os.name == "nt" and not program:
                os.startfile(path, "openas")  # type: ignore[attr-defined]  # noqa: S606 - Windows only
                return True
            if sys.platform == "darwin":  # `open` says at once whether the application exists
                argv = ["open", "-a", program, path]
                return subprocess.run(argv, timeout=10, check=False).returncode == 0  # noqa: S603
            subprocess.Popen([*shlex.split(program, posix=os.name != "nt"), path])  # noqa: S603
        except (OSError, ValueError, subprocess.TimeoutExpired) as exc:
            log.warning("open %s with %r failed: %s", path, program, exc)
            return False
        return True

    def copy_path(self, path: str) -> None:
        """The path as text; a name that is not valid UTF-8 also as a file URL (exact: file
        managers paste that), since its text can only be the readable stand-in."""
        clipboard = QGuiApplication.clipboard()
        if clipboard is None:
            return
        if is_exact_text(path):
            clipboard.setText(path)
            return
        data = QMimeData()
        data.setText(readable_path(path))
        data.setUrls([file_url(path)])
        clipboard.setMimeData(data)
        _plain_text_at_exit(data, readable_path(path))


_on_clipboard: list[tuple[QMimeData, str]] = []  # the mime data we put there last, and its text


def _plain_text_at_exit(data: QMimeData, text: str) -> None:
    """Mime data made in Python must not outlive Python: when Qt's own exit handlers free a
    clipboard still holding it, its Python wrapper is torn down after the interpreter and the
    process crashes (PySide6 6.11). At interpreter exit such data is swapped for plain text
    made by Qt itself, so the path stays pasteable where the clipboard outlives the app."""
    if not _on_clipboard:
        atexit.register(_swap_for_plain_text)
    _on_clipboard[:] = [(data, text)]


def _swap_for_plain_text() -> None:
    clipboard = QGuiApplication.clipboard() if QGuiApplication.instance() is not None else None
    if clipboard is not None and _on_clipboard and clipboard.mimeData() is _on_clipboard[0][0]:
        clipboard.setText(_on_clipboard[0][1])
    _on_clipboard.clear()


class RecordingOpener(Opener):
    """An opener that only records what it was asked to do (tests, screenshots); with `fails`
    set it answers as a desktop with no program for the file would."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []
        self.fails = False

    def open_file(self, path: str, page: int | None = None) -> bool:
        self.calls.append(("open", path))
        return not self.fails

    def reveal(self, path: str) -> bool:
        self.calls.append(("reveal", path))
        return not self.fails

    def open_with(self, path: str, program: str) -> bool:
        self.calls.append(("open-with", f"{path} {program}"))
        return not self.fails

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
