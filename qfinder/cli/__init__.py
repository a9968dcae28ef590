"""The command line: one module per subcommand, each exposing `register(subparsers)`.

A subcommand's handler takes the parsed arguments and returns an exit code. Errors that a
person can act on (`QfinderError`) become one line on stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import difflib
import importlib
import logging
import sys
from collections.abc import Sequence
from importlib import metadata

from qfinder.core.errors import QfinderError

log = logging.getLogger(__name__)

# Modules under qfinder.cli, each with register(subparsers). Order is the help order.
SUBCOMMAND_MODULES = ("embed", "models", "index", "search", "status", "remove", "server")
# Options that mean the command line even without a subcommand (the window has its own parser).
CLI_OPTIONS = ("-h", "--help", "-v", "--verbose", "--version")


def unknown_command_line(word: str) -> str:
    """The one-line error for a bare word that is not a subcommand, with the closest one."""
    close = difflib.get_close_matches(word, SUBCOMMAND_MODULES, n=1)
    hint = f"did you mean '{close[0]}'?" if close else f"commands: {', '.join(SUBCOMMAND_MODULES)}"
    return f"qfinder: '{word}' is neither a command nor an existing folder ({hint})\n"


def _version() -> str:
    try:
        return metadata.version("qfinder")
    except metadata.PackageNotFoundError:  # run from a source tree that was never installed
        import qfinder

        return qfinder.__version__


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="qfinder", description="Semantic file search on your own machine.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug details to stderr")
    parser.add_argument("--version", action="version", version=f"qfinder {_version()}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in SUBCOMMAND_MODULES:
        importlib.import_module(f"qfinder.cli.{name}").register(subparsers)
    return parser


def run(argv: Sequence[str]) -> int:
    parser = build_parser()
    args = parser.parse_args(list(argv))
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING, stream=sys.stderr)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except QfinderError as exc:
        sys.stderr.write(f"qfinder: {exc}\n")
        return 2
    except KeyboardInterrupt:
        sys.stderr.write("qfinder: interrupted\n")
        return 130
