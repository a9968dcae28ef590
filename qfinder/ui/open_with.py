""""Open with…": the program to open a file with, asked for once per file type and remembered.

Qt has no portable application chooser, so on Linux and macOS the user names the program (as
typed in a terminal / an application name); Windows has its own chooser (the "openas" verb)."""

from __future__ import annotations

import os
import sys

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QInputDialog, QLineEdit, QWidget


def asks_for_program() -> bool:
    return os.name != "nt"


def _key(path: str) -> str:
    extension = os.path.splitext(path)[1].lower().lstrip(".")
    return f"open_with/{extension or 'no-extension'}"


def remembered_program(path: str) -> str:
    """The program last used to open a file of this type, or ""."""
    return str(QSettings("qfinder", "qfinder").value(_key(path), "") or "")


def remember_program(path: str, program: str) -> None:
    QSettings("qfinder", "qfinder").setValue(_key(path), program)


def ask_program(parent: QWidget, path: str, suggestion: str) -> str:
    """The program the user names for `path`, or "" when they cancel."""
    name = os.path.basename(path)
    if sys.platform == "darwin":
        label = f"Application to open “{name}” with (for example TextEdit or Preview):"
    else:
        label = (f"Program to open “{name}” with, as you would type it in a terminal\n"
                 "(for example gedit, code, libreoffice or okular):")
    text, ok = QInputDialog.getText(parent, "Open with", label, QLineEdit.EchoMode.Normal, suggestion)
    return text.strip() if ok else ""
