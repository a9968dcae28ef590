"""Where qfinder keeps its data, settings and models; private to the user."""

from __future__ import annotations

import os
from pathlib import Path

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


def is_within(path: str, folder: str) -> bool:
    """True when `path` is `folder` itself or lies somewhere below it (plain string logic)."""
    base = folder.rstrip(os.sep) or os.sep
    return path == base or path.startswith(base if base.endswith(os.sep) else base + os.sep)
