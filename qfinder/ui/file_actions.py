"""Open, show in folder and open with, for the main window: through the shared opener, and when
the desktop cannot do it, a message that says so and offers the path to copy (a failure that is
only logged looks like a click that did nothing)."""

from __future__ import annotations

import os
from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QWidget

from qfinder.ui import open_with
from qfinder.ui import opener as opener_module

NO_PROGRAM = ("There is no program set to open this kind of file on this computer, or it could "
              "not be started. Choose one with “Open with…”, or copy the path.")
NO_FILE_MANAGER = "No file manager answered. Copy the path to open its folder yourself."


class FileActions:
    def __init__(self, parent: QWidget) -> None:
        self.parent = parent

    def open(self, path: str, page: int | None = None) -> None:
        if not opener_module.get_opener().open_file(path, page):
            self._failed(path, f"qfinder could not open “{os.path.basename(path)}”.", NO_PROGRAM,
                         offer_open_with=True)

    def reveal(self, path: str) -> None:
        if not opener_module.get_opener().reveal(path):
            self._failed(path, f"qfinder could not show “{os.path.basename(path)}” in its folder.",
                         NO_FILE_MANAGER)

    def open_with(self, path: str) -> None:
        program = ""
        if open_with.asks_for_program():
            program = open_with.ask_program(self.parent, path, open_with.remembered_program(path))
            if not program:
                return
        if opener_module.get_opener().open_with(path, program):
            if program:
                open_with.remember_program(path, program)
            return
        self._failed(path, f"qfinder could not open “{os.path.basename(path)}” with {program}.",
                     f"“{program}” could not be started: check that it is installed and that "
                     "the name is spelled as you would type it in a terminal.")

    def _failed(self, path: str, what: str, why: str, offer_open_with: bool = False) -> None:
        box = QMessageBox(QMessageBox.Icon.Warning, "qfinder", what,
                          QMessageBox.StandardButton.Close, self.parent)
        box.setObjectName("open-failure")
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.setInformativeText(why)
        box.setDetailedText(path)
        actions: list[tuple[str, Callable[[], None]]] = [
            ("Copy path", lambda: opener_module.get_opener().copy_path(path))]
        if offer_open_with:
            actions.append(("Open with…", lambda: self.open_with(path)))
        for text, slot in actions:
            box.addButton(text, QMessageBox.ButtonRole.ActionRole).clicked.connect(slot)
        box.open()
