"""The desktop app's log file: in the data folder, rotated, and as private as the index.

It names the files the person opened and searched, so it gets the same owner-only modes
(folder 0700, files 0600) as the rest of the data folder, whatever the umask and whatever
modes an older qfinder left on it.
"""

from __future__ import annotations

import io
import logging
import logging.handlers
import os
from pathlib import Path

from qfinder.core.paths import ensure_private_dir

LOG_NAME = "qfinder.log"
MAX_BYTES = 2_000_000
BACKUPS = 2


class PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """Opens (and after each rollover re-creates) the log owner-only; backups keep that mode
    because a rollover renames them."""

    def _open(self) -> io.TextIOWrapper:
        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        if os.name == "posix":
            os.fchmod(fd, 0o600)  # the mode given to os.open applies only to a new file
        return open(fd, "a", encoding=self.encoding, errors=self.errors)


def setup_logging(folder: Path) -> Path:
    """A rotating log file in the data folder; returns its path for the crash dialog."""
    ensure_private_dir(folder)
    logs = ensure_private_dir(folder / "logs")
    if os.name == "posix":
        for old in logs.glob(f"{LOG_NAME}*"):
            os.chmod(old, 0o600)
    path = logs / LOG_NAME
    handler = PrivateRotatingFileHandler(path, maxBytes=MAX_BYTES, backupCount=BACKUPS,
                                         encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    return path
