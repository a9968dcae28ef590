"""Helpers shared by the index/search/status/remove subcommands: data folder, folders, recovery
notice, paths in JSON."""

from __future__ import annotations

import argparse
import base64
import os
import sys
from pathlib import Path

from qfinder.core.errors import QfinderError
from qfinder.core.pathnames import is_exact_text, path_bytes, readable_path
from qfinder.core.paths import DATA_DIR_ENV, data_dir
from qfinder.core.storage.catalog import Catalog


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


def json_path(path: str) -> dict[str, str]:
    """{"path": readable} for JSON output, plus "path_bytes" (base64 of the real bytes) when the
    name is not valid UTF-8: JSON text cannot hold those bytes, and a script needs them to open it."""
    if is_exact_text(path):
        return {"path": path}
    return {"path": readable_path(path), "path_bytes": base64.b64encode(path_bytes(path)).decode("ascii")}

