"""Pieces of the desktop start that are the window's own: the application object and its icon,
quitting on signals, bringing the window forward, offering the model setup.

The composition root (qfinder.desktop) builds the engine and calls these.
"""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Any

from PySide6.QtCore import QTimer
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QDialog

from qfinder.core.state import EngineStatus
from qfinder.ui import desktop_entry


def app_icon() -> QIcon:
    icon = QIcon()
    scalable = desktop_entry.icon_path(None)
    if scalable:
        icon.addFile(str(scalable))  # crisp at any scale factor
    for size in desktop_entry.ICON_SIZES:
        path = desktop_entry.icon_path(size)
        if path:
            icon.addFile(str(path))
    return icon


def make_application(argv: list[str]) -> QApplication:
    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(["qfinder", *argv])
    app.setApplicationName("qfinder")
    app.setApplicationDisplayName("qfinder")
    app.setOrganizationName("qfinder")
    app.setDesktopFileName("qfinder")
    app.setWindowIcon(app_icon())
    return app


def quit_on_signals(app: QApplication) -> None:
    """Ctrl+C in a terminal or a session's SIGTERM closes the window cleanly (engine shut down)."""
    for name in ("SIGINT", "SIGTERM"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), lambda *_args: app.quit())
    heartbeat = QTimer(app)  # Python handles signals only when it runs: wake it now and then
    heartbeat.timeout.connect(lambda: None)
    heartbeat.start(300)


def busy_message(folder: Path) -> str:
    return (f"Another qfinder window is using the data folder {folder}, but it does not "
            "respond.\n\nSwitch to that window, or close it (if it hangs, end the qfinder process) "
            "and start qfinder again.")


def bring_forward(window: Any, folders: list[str]) -> None:
    window.showNormal()
    window.raise_()
    window.activateWindow()
    for dialog in window.findChildren(QDialog):  # an open dialog stays above its window
        if dialog.isVisible():
            dialog.raise_()
            dialog.activateWindow()
    if folders:
        window.add_folders(folders)


def offer_setup_when_no_model(engine: Any, window: Any) -> None:
    """Once the engine has opened: no model (none set, none remembered) -> the setup dialog."""
    asked = [False]

    def check(status: EngineStatus) -> None:
        if asked[0] or status.state == "starting":
            return
        asked[0] = True
        if status.model_name is None:
            QTimer.singleShot(200, window.show_setup)

    engine.status.connect(check)
