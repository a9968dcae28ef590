"""The desktop app's own preferences, persisted as JSON in the platform's config folder.

Only what belongs to the person and this window: search defaults, the recent instructions, the
last data folder, indexing priority. What belongs to a data folder (the model, how it runs, how
files are cut) is its LibraryConfig (qfinder.core.config), shared with the command line.
Pure data (no Qt): `load_settings` never raises (a broken or missing file gives the defaults and
a log line) and `save_settings` writes atomically. Window geometry and splitter positions are
not here: they live in QSettings (see main_window).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from qfinder.core.config import LibraryConfig
from qfinder.core.paths import DATA_DIR_ENV, config_dir, data_dir, write_atomic

log = logging.getLogger(__name__)

CONFIG_DIR_ENV = "QFINDER_CONFIG_DIR"
MAX_RECENT_INSTRUCTIONS = 8


@dataclass(frozen=True)
class AppSettings:
    low_priority_indexing: bool = True
    default_instruction: str | None = None  # None: the model's default task
    rerank: bool = True
    hybrid: bool = True
    data_folder: str | None = None  # None: the platform default (qfinder.core.paths.data_dir)
    recent_instructions: tuple[str, ...] = field(default_factory=tuple)

    def with_recent_instruction(self, text: str) -> AppSettings:
        """Remember a custom instruction, most recent first, without duplicates."""
        kept = [t for t in self.recent_instructions if t != text]
        recent = (text, *kept)[:MAX_RECENT_INSTRUCTIONS]
        return dataclasses.replace(self, recent_instructions=recent)


class DataFolder(NamedTuple):
    path: Path
    source: str  # where the choice came from, in the person's words


def data_folder_in_use(settings: AppSettings) -> DataFolder:
    """--data-dir (the app puts it in QFINDER_DATA_DIR) and QFINDER_DATA_DIR beat the saved
    choice, as a command line beats a config file; then the platform's default."""
    override = os.environ.get(DATA_DIR_ENV)
    if override:
        return DataFolder(data_dir(override), f"set by --data-dir or {DATA_DIR_ENV} for this run; "
                                              "a folder chosen here applies when neither is given")
    if settings.data_folder:
        return DataFolder(data_dir(settings.data_folder), "chosen in these settings")
    return DataFolder(data_dir(), "the platform default")


def settings_path() -> Path:
    base = os.environ.get(CONFIG_DIR_ENV)
    return (Path(base) if base else config_dir()) / "settings.json"


def _from_json(raw: dict[str, Any]) -> AppSettings:
    known = {f.name: f for f in dataclasses.fields(AppSettings)}
    values: dict[str, Any] = {}
    defaults = AppSettings()
    for name, value in raw.items():
        if name not in known:
            continue  # a newer version's key: ignore rather than fail
        default = getattr(defaults, name)
        if isinstance(default, tuple):
            value = tuple(str(v) for v in value) if isinstance(value, list) else default
        values[name] = value
    return dataclasses.replace(defaults, **values)


# Before each data folder had its own configuration these lived here, for every data folder.
_LEGACY_LIBRARY_KEYS = {"model_folder": "model_folder", "variant": "variant", "provider": "provider",
                        "threads": "threads", "chunk_tokens": "chunk_tokens",
                        "max_chunks_per_file": "max_chunks_per_file", "max_file_mb": "max_file_mb",
                        "exclude_globs": "exclude_globs", "index_hidden": "index_hidden",
                        "default_dim": "dim"}


def legacy_library_config(path: Path | None = None) -> LibraryConfig | None:
    """The data-folder settings an older qfinder kept in the app's settings file, if any: they
    become the configuration of a data folder that has none yet."""
    try:
        raw = json.loads((path or settings_path()).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(raw, dict):
        return None
    values = {new: raw[old] for old, new in _LEGACY_LIBRARY_KEYS.items() if raw.get(old) is not None}
    if values.get("threads") == 0:
        values.pop("threads")  # 0 meant "onnxruntime decides"
    return LibraryConfig.from_mapping(values) if values else None


def load_settings(path: Path | None = None) -> AppSettings:
    path = path or settings_path()
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(raw, dict):
            raise ValueError("settings file is not a JSON object")
        return _from_json(raw)
    except FileNotFoundError:
        return AppSettings()
    except (OSError, ValueError, TypeError) as exc:
        log.warning("ignoring unreadable settings %s: %s", path, exc)
        return AppSettings()


def save_settings(settings: AppSettings, path: Path | None = None) -> Path:
    """Write atomically (temp file + rename) so a crash never leaves half a file."""
    path = path or settings_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    data = json.dumps(dataclasses.asdict(settings), indent=2, sort_keys=True)
    write_atomic(path, data)
    return path
