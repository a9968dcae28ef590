"""Where qfinder keeps its data, settings and models (private to the user), and the two file
mechanisms every module shares: `is_within(path, folder)` and `write_atomic(path, data)`
(`atomic_path(path)` for writers that stream or need a file name), and `read_json_object`."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import platformdirs

APP_NAME = "qfinder"
DATA_DIR_ENV = "QFINDER_DATA_DIR"


def data_dir(override: str | os.PathLike[str] | None = None) -> Path:
    """The data folder: explicit override, then $QFINDER_DATA_DIR, then the platform's default."""
    chosen = override or os.environ.get(DATA_DIR_ENV) or platformdirs.user_data_dir(APP_NAME)
    return Path(chosen).expanduser().resolve()


def config_dir() -> Path:
    return Path(platformdirs.user_config_dir(APP_NAME))


def models_dir(base: Path | None = None) -> Path:
    """Models live in qfinder's own folder as real files (no Hub-cache symlinks)."""
    return (base or data_dir()) / "models"


def ensure_private_dir(path: Path) -> Path:
    """Create `path` readable by its owner only (0700 on POSIX)."""
    path.mkdir(parents=True, exist_ok=True)
    if os.name == "posix":
        os.chmod(path, 0o700)
    return path


_SEPARATORS = os.sep + (os.altsep or "")


def is_within(path: str, folder: str) -> bool:
    """Is `path` the folder itself or somewhere below it? Both are normalised absolute paths;
    a trailing separator on either does not matter. Pure string logic (no file system access),
    so it is cheap in loops and exact for names that hold undecodable bytes (qfinder.core.pathnames).
    """
    base, inner = folder.rstrip(_SEPARATORS), path.rstrip(_SEPARATORS)
    return inner == base or inner.startswith(base + os.sep)


def read_json_object(path: Path) -> dict[str, Any]:
    """The JSON object in `path`; {} when it is missing, unreadable or not an object (a cache
    or a small store that is simply rebuilt)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def write_atomic(path: Path, data: bytes | str) -> None:
    """Replace `path` with `data` (str: UTF-8) in one step, private to the user (0600): a crash
    or a full disk leaves the old file as it was, never half a new one."""
    payload = data.encode("utf-8") if isinstance(data, str) else data
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        fh.write(payload)


@contextlib.contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """A temporary file beside `path` for a writer that streams or wants a file name (hnswlib);
    on a clean exit it is flushed to disk and renamed over `path`, on an exception deleted."""
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")  # 0600
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        _fsync_file(tmp)
        os.replace(tmp, path)
        fsync_dir(path.parent)  # the rename itself survives a power cut
    finally:
        tmp.unlink(missing_ok=True)


def _fsync_file(path: Path) -> None:
    with open(path, "rb+") as fh:
        os.fsync(fh.fileno())


def fsync_dir(folder: Path) -> None:
    if os.name != "posix":
        return  # Windows cannot open a folder to flush it; NTFS journals the rename
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
