"""What a data folder remembers between runs: the model folder and the search dimension.

Kept as ``settings.json`` beside the catalog (0600), so `qfinder search` finds the model that
`qfinder index --model DIR` used, and the desktop app and CLI agree on one model per folder.

    settings = LibrarySettings.load(data_dir)
    settings.model_folder, settings.dim, settings.provider
    settings.save(data_dir)          # atomic: temp file, fsync, rename
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from qfinder.core.paths import write_atomic

log = logging.getLogger(__name__)

SETTINGS_NAME = "settings.json"


@dataclass(frozen=True)
class LibrarySettings:
    model_folder: str | None = None
    dim: int | None = None  # None: the model's default search dimension
    provider: str = "auto"

    @classmethod
    def load(cls, data_dir: Path) -> LibrarySettings:
        path = Path(data_dir) / SETTINGS_NAME
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return cls()
        except (OSError, ValueError) as exc:
            log.warning("ignoring unreadable %s (%s)", path, exc)
            return cls()
        known = {k: raw[k] for k in ("model_folder", "dim", "provider") if k in raw}
        return cls(**known)

    def with_changes(self, **changes: object) -> LibrarySettings:
        return replace(self, **changes)  # type: ignore[arg-type]

    def save(self, data_dir: Path) -> None:
        write_atomic(Path(data_dir) / SETTINGS_NAME, json.dumps(asdict(self), indent=2))
