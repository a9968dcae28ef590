"""Composition root: decides between the command line and the desktop window.

`qfinder SUBCOMMAND ...` runs the CLI; `qfinder` alone (optionally with folders or desktop
options) opens the window. This is the only module that sees every layer.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    from qfinder.cli import SUBCOMMAND_MODULES

    if args and (args[0] in SUBCOMMAND_MODULES or args[0] in ("-h", "--help", "-v", "--verbose")):
        from qfinder.cli import run

        return run(args)
    return _run_gui(args)


def _run_gui(args: list[str]) -> int:
    try:
        from qfinder.ui.main import run_desktop
    except ImportError as exc:
        sys.stderr.write(f"qfinder: the desktop app is not available ({exc}).\n")
        return 2
    return run_desktop(args)
