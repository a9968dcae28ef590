"""Syntax colours for code in the preview: Pygments says what each piece of text is (only its
token types are used, never its HTML styles), and a few formats made from the window's palette
say how it looks, so colours stay readable on light and dark themes alike."""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Any

from pygments.lexers import get_lexer_for_filename
from pygments.token import Comment, Keyword, Name, Number, String
from pygments.util import ClassNotFound
from PySide6.QtGui import QColor, QFont, QPalette, QTextCharFormat

from qfinder.ui.preview_context import RoleSpan

# Checked in order: the first token type that contains the token's type gives its role.
_ROLES: tuple[tuple[Any, str], ...] = (
    (Comment, "comment"),
    (String, "string"),
    (Number, "number"),
    (Keyword, "keyword"),
    (Name.Function, "name"),
    (Name.Class, "name"),
    (Name.Decorator, "name"),
    (Name.Builtin, "builtin"),
)
# (light theme, dark theme): mid-saturation colours that keep their contrast on either base.
_COLOURS = {
    "string": ("#2e7d32", "#9ccc65"),
    "number": ("#b35c00", "#f0a35e"),
    "keyword": ("#7b3fa0", "#c792ea"),
    "name": ("#1f5fbf", "#82aaff"),
    "builtin": ("#00796b", "#5fd3c4"),
}


def code_tokens(path: str, text: str) -> tuple[RoleSpan, ...]:
    """The coloured pieces of `text`, by the file's name; none for a language Pygments lacks."""
    extension = os.path.splitext(path)[1].lower()
    lexer = _lexer_for(f"x{extension}" if extension else os.path.basename(path))
    if lexer is None:
        return ()
    tokens = []
    for start, token_type, value in lexer.get_tokens_unprocessed(text):
        role = next((role for parent, role in _ROLES if token_type in parent), None)
        if role is not None and value:
            tokens.append((start, start + len(value), role))
    return tuple(tokens)


@lru_cache(maxsize=64)
def _lexer_for(file_name: str) -> Any:
    """One lexer per file type: the first lookup scans the installed Pygments plugins (~0.4 s
    on a loaded 2-core machine), which a second preview of the same type should not pay."""
    try:
        return get_lexer_for_filename(file_name, stripnl=False, ensurenl=False)
    except ClassNotFound:
        return None


def role_formats(palette: QPalette) -> dict[str, QTextCharFormat]:
    """One character format per role, for this palette."""
    dark = palette.color(QPalette.ColorRole.Base).lightness() < 128
    formats = {}
    for role, (light_colour, dark_colour) in _COLOURS.items():
        fmt = QTextCharFormat()
        fmt.setForeground(QColor(dark_colour if dark else light_colour))
        if role == "keyword":
            fmt.setFontWeight(QFont.Weight.DemiBold)
        formats[role] = fmt
    comment = QTextCharFormat()
    comment.setForeground(palette.color(QPalette.ColorRole.PlaceholderText))
    comment.setFontItalic(True)
    formats["comment"] = comment
    return formats
