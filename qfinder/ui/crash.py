"""Unexpected exceptions: log them, show a dialog with the details and the log file, keep going."""

from __future__ import annotations

import logging
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

from PySide6.QtWidgets import QApplication, QMessageBox

log = logging.getLogger(__name__)

ExceptHook = Callable[[type[BaseException], BaseException, TracebackType | None], None]


class CrashReporter:
    """sys.excepthook that shows one dialog at a time instead of ending the app."""

    def __init__(self, log_file: Path | None, show_dialog: bool = True) -> None:
        self.log_file = log_file
        self.show_dialog = show_dialog
        self.reported: list[BaseException] = []
        self._showing = False
        self._previous: ExceptHook | None = None

    def install(self) -> CrashReporter:
        self._previous = sys.excepthook
        sys.excepthook = self
        return self

    def uninstall(self) -> None:
        if sys.excepthook is self and self._previous is not None:
            sys.excepthook = self._previous

    def __call__(self, kind: type[BaseException], exc: BaseException,
                 tb: TracebackType | None) -> None:
        if issubclass(kind, KeyboardInterrupt):
            QApplication.quit()
            return
        details = "".join(traceback.format_exception(kind, exc, tb))
        log.error("unexpected error:\n%s", details)
        self.reported.append(exc)
        if self.show_dialog and not self._showing and QApplication.instance() is not None:
            self._showing = True
            try:
                self._dialog(exc, details).exec()
            finally:
                self._showing = False

    def _dialog(self, exc: BaseException, details: str) -> QMessageBox:
        where = f"The details are in the log file:\n{self.log_file}" if self.log_file else ""
        box = QMessageBox(QMessageBox.Icon.Critical, "qfinder hit an unexpected error",
                          f"Something went wrong: {exc}\n\nqfinder keeps running; if this happens "
                          f"again, please report it with the details below.\n\n{where}")
        box.setDetailedText(details)
        box.setStandardButtons(QMessageBox.StandardButton.Ok)
        return box
