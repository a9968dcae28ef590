"""The desktop app's composition root: builds the engine, the window and what joins them.

`run_desktop(args)` starts the app (or installs its launcher) and runs the event loop. Only here
do the layers meet for the GUI: the data folder's LibraryConfig (shared with the command line)
opens the engine's Library; the window gets the engine as an EngineLike and the app's own
preferences. A data folder with no configuration yet takes the model and indexing settings an
older qfinder kept in the app's settings file (they used to apply to every data folder).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path
from typing import Literal

from PySide6.QtCore import QUrl
from PySide6.QtWidgets import QApplication, QMessageBox

from qfinder.core.config import SETTINGS_NAME
from qfinder.core.library.opener import LibraryOpener
from qfinder.core.library.writelock import WriterBusyError
from qfinder.core.paths import ensure_private_dir
from qfinder.services.engine import EngineClient
from qfinder.services.settings import EngineSettings
from qfinder.services.single_instance import SingleInstance
from qfinder.ui import desktop_entry
from qfinder.ui.crash import CrashReporter
from qfinder.ui.log_file import setup_logging
from qfinder.ui.main import (
    bring_forward,
    busy_message,
    make_application,
    offer_setup_when_no_model,
    quit_on_signals,
)
from qfinder.ui.platform_check import desktop_problem
from qfinder.ui.settings import (
    AppSettings,
    DataFolder,
    data_folder_in_use,
    legacy_library_config,
    load_settings,
    save_settings,
)

log = logging.getLogger(__name__)

LOW_PRIORITY_NICE = 10


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


def engine_settings(settings: AppSettings) -> EngineSettings:
    return EngineSettings(nice=LOW_PRIORITY_NICE if settings.low_priority_indexing else 0)


def make_engine(settings: AppSettings, folder: Path) -> EngineClient:
    """The engine on `folder`: its model and indexing follow the folder's own configuration."""
    adopt_legacy_config(folder)
    return EngineClient(LibraryOpener(folder), engine_settings(settings))


def adopt_legacy_config(folder: Path) -> None:
    """A data folder without a configuration takes what an older app kept for all folders."""
    if (folder / SETTINGS_NAME).exists():
        return
    legacy = legacy_library_config()
    if legacy is not None:
        ensure_private_dir(folder)
        legacy.save(folder)
        log.info("took the model and indexing settings of the app's old settings into %s", folder)


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


def _claim_single_instance(folder: Path, folders: list[str]) -> SingleInstance | Literal[False] | None:
    """The SingleInstance we own, False when another window took our folders, or None when
    another window holds the data folder but does not answer (the person was told)."""
    instance = SingleInstance(folder)
    try:
        return instance if instance.claim(folders) else False
    except WriterBusyError:
        log.error("another qfinder window holds %s but does not answer", folder)
        QMessageBox.critical(None, "qfinder is already running", busy_message(folder))
        return None


def _run_window(app: QApplication, settings: AppSettings, data_folder: DataFolder,
                folders: list[str], instance: SingleInstance, offer_setup: bool) -> int:
    from qfinder.ui.main_window import MainWindow

    engine = make_engine(settings, data_folder.path)
    window = MainWindow(engine, settings, save_settings=save_settings, data_folder=data_folder)
    instance.activated.connect(lambda extra: bring_forward(window, list(extra or ())))
    window.show()
    engine.start()
    if folders:
        window.add_folders(folders)
    if offer_setup:
        offer_setup_when_no_model(engine, window)
    code = app.exec()
    engine.shutdown(3.0)
    return int(code)
