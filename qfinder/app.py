"""Composition root: decides between the command line and the desktop window.

`qfinder SUBCOMMAND ...` runs the CLI; `qfinder` alone (optionally with folders or desktop
options) opens the window. A bare word that is neither a command nor a path is a mistyped
command: one line naming the closest command, exit 2 (it would otherwise open the window and
ignore the "folder"). This is the only module that sees every layer.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    from qfinder.cli import CLI_OPTIONS, SUBCOMMAND_MODULES, unknown_command_line

    if args and (args[0] in SUBCOMMAND_MODULES or args[0] in CLI_OPTIONS):
        from qfinder.cli import run

        return run(args)
    if args and _is_bare_word(args[0]):
        sys.stderr.write(unknown_command_line(args[0]))
        return 2
    return _run_gui(args)


def _is_bare_word(argument: str) -> bool:
    """Not an option, not a file: URI, no path separator, and nothing of that name here."""
    looks_like_path = argument.startswith(("-", "file:", "~")) or "/" in argument or os.sep in argument
    return not looks_like_path and not os.path.exists(argument)


def _run_gui(args: list[str]) -> int:
    try:
        from qfinder.desktop import run_desktop
        from qfinder.services import qt_fix
    except ImportError as exc:
        sys.stderr.write(f"qfinder: the desktop app is not available ({exc}).\n")
        return 2
    qt_fix.apply()  # PySide6 6.12.0 signal refcount bug: patched before any signal is emitted
    return run_desktop(args)
