"""`run_desktop(args)`: start the desktop app (or install its launcher) and run the event loop."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from pathlib import Path
from typing import Any

from PySide6.QtCore import QTimer, QUrl
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QDialog, QMessageBox

from qfinder.core.state import EngineStatus
from qfinder.ui import desktop_entry
from qfinder.ui.crash import CrashReporter
from qfinder.ui.log_file import setup_logging
from qfinder.ui.platform_check import desktop_problem
from qfinder.ui.settings import (
    AppSettings,
    DataFolder,
    data_folder_in_use,
    load_settings,
    save_settings,
)

log = logging.getLogger(__name__)


def parse_args(args: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="qfinder", description="Find your files by meaning.")
    parser.add_argument("folders", nargs="*", help="folders to add to the index")
    parser.add_argument("--install-desktop-entry", action="store_true",
                        help="install the menu launcher and icon for this user (Linux)")
    parser.add_argument("--data-dir", help="keep the index here instead of the default folder")
    parser.add_argument("--no-setup", action="store_true", help="do not offer the model setup")
    return parser.parse_args(args)


def local_folders(arguments: list[str]) -> list[str]:
    """Folders from the command line: paths or file:// URIs (the launcher passes %U)."""
    folders = []
    for argument in arguments:
        path = QUrl(argument).toLocalFile() if argument.startswith("file:") else argument
        resolved = Path(path).expanduser().resolve()
        if resolved.is_dir():
            folders.append(str(resolved))
        else:
            log.warning("ignoring %s: not a folder", argument)
    return folders


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


def make_engine(settings: AppSettings, folder: Path) -> Any:
    """The engine client for these settings (the service layer builds the core on its thread)."""
    from qfinder.services.engine import EngineClient
    from qfinder.ui.engine_factory import core_factory, engine_settings

    cores = core_factory(settings, folder)
    return EngineClient(cores, engine_settings(settings), model_folder=settings.model_folder)


def run_desktop(args: list[str]) -> int:
    options = parse_args(args)
    if options.install_desktop_entry:
        written = desktop_entry.install()
        sys.stdout.write("Installed:\n" + "".join(f"  {p}\n" for p in written))
        return 0
    problem = desktop_problem(os.environ)
    if problem:
        sys.stderr.write(f"qfinder: {problem}\n")
        return 1
    if options.data_dir:
        os.environ["QFINDER_DATA_DIR"] = str(Path(options.data_dir).expanduser().resolve())
    settings = load_settings()
    in_use = data_folder_in_use(settings)
    folder = in_use.path
    log_file = setup_logging(folder)
    app = make_application([])
    folders = local_folders(options.folders)
    instance = _claim_single_instance(folder, folders)
    if instance is False:
        return 0
    if instance is None:
        return 1
    crash = CrashReporter(log_file).install()
    quit_on_signals(app)
    try:
        return _run_window(app, settings, in_use, folders, instance, offer_setup=not options.no_setup)
    finally:
        crash.uninstall()


def quit_on_signals(app: QApplication) -> None:
    """Ctrl+C in a terminal or a session's SIGTERM closes the window cleanly (engine shut down)."""
    for name in ("SIGINT", "SIGTERM"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), lambda *_args: app.quit())
    heartbeat = QTimer(app)  # Python handles signals only when it runs: wake it now and then
    heartbeat.timeout.connect(lambda: None)
    heartbeat.start(300)


def _claim_single_instance(folder: Path, folders: list[str]) -> Any:
    """The SingleInstance we own, False when another window took our folders, or None when
    another window holds the data folder but does not answer (the person was told)."""
    from qfinder.core.library.writelock import WriterBusyError
    from qfinder.services.single_instance import SingleInstance

    instance = SingleInstance(folder)
    try:
        return instance if instance.claim(folders) else False
    except WriterBusyError:
        log.error("another qfinder window holds %s but does not answer", folder)
        QMessageBox.critical(None, "qfinder is already running", busy_message(folder))
        return None


def busy_message(folder: Path) -> str:
    return (f"Another qfinder window is using the data folder {folder}, but it does not "
            "respond.\n\nSwitch to that window, or close it (if it hangs, end the qfinder process) "
            "and start qfinder again.")


def _run_window(app: QApplication, settings: AppSettings, data_folder: DataFolder,
                folders: list[str], instance: Any, offer_setup: bool) -> int:
    from qfinder.ui.main_window import MainWindow

    engine = make_engine(settings, data_folder.path)
    window = MainWindow(engine, settings, save_settings=save_settings, data_folder=data_folder)
    instance.activated.connect(lambda extra: _bring_forward(window, list(extra or ())))
    window.show()
    engine.start()
    if folders:
        window.add_folders(folders)
    if offer_setup:
        offer_setup_when_no_model(engine, window)
    code = app.exec()
    engine.shutdown(3.0)
    return int(code)


def _bring_forward(window: Any, folders: list[str]) -> None:
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
