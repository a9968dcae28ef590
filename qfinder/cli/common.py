"""Helpers shared by the index/search/status/remove subcommands: data folder, folders, recovery notice."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from qfinder.core.catalog import Catalog
from qfinder.core.errors import QfinderError
from qfinder.core.paths import DATA_DIR_ENV, data_dir


def add_data_dir(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", metavar="DIR", default=None,
                        help=f"index folder (default: ${DATA_DIR_ENV} or the platform's data folder)")


def chosen_data_dir(args: argparse.Namespace) -> Path:
    folder = data_dir(getattr(args, "data_dir", None))
    if folder.exists() and not folder.is_dir():
        raise QfinderError(f"The data folder {folder} is not a folder.", "Pass --data-dir DIR.")
    if folder.exists() and not os.access(folder, os.R_OK | os.X_OK):
        raise QfinderError(f"The data folder {folder} cannot be read.", "Check its permissions or pass --data-dir DIR.")
    return folder


def report_recovery(catalog: Catalog) -> None:
    """One line on stderr when opening found the catalog unusable and started a new one."""
    if catalog.recovery is not None:
        sys.stderr.write(f"qfinder: the index database {catalog.recovery.describe()}; started a new index\n")


def existing_folder(raw: str) -> str:
    path = os.path.abspath(os.path.expanduser(raw))
    if not os.path.exists(path):
        raise QfinderError(f"No such file or folder: {raw}")
    if not os.path.isdir(path):
        raise QfinderError(f"{raw} is not a folder.", "qfinder indexes folders; pass the folder that holds it.")
    return path
