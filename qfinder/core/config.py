"""One configuration per data folder: the model, how it runs, and how files are indexed.

Kept as ``settings.json`` beside the catalog (0600), read by `qfinder index/search/status` and
the desktop app alike, so the two never disagree about the model or the chunking (a different
chunk size is a different pipeline stamp: every file would be re-embedded). The app's own
preferences (window, instructions, the last data folder) live elsewhere (qfinder.ui.settings).

    config = LibraryConfig.load(data_dir)
    config.model_folder, config.chunk_tokens, config.dim, ...
    config.reembeds(other)           # would switching to `other` re-embed every file?
    config.save(data_dir)            # atomic: temp file, fsync, rename

Pure data: what these values mean to the indexer is `qfinder.core.library.opening`'s business.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

from qfinder.core.paths import write_atomic

log = logging.getLogger(__name__)

SETTINGS_NAME = "settings.json"


@dataclass(frozen=True)
class ModelRuntime:
    """How to run the model: which variant file of its folder, how many CPU threads."""

    variant: str | None = None  # e.g. "fp32", "int8"; None: the folder's default graph
    threads: int | None = None  # onnxruntime intra-op threads; None: onnxruntime's choice


@dataclass(frozen=True)
class LibraryConfig:
    model_folder: str | None = None
    dim: int | None = None  # None: the model's default search dimension
    provider: str = "auto"  # "auto", "cpu", "cuda", "directml", "coreml"
    variant: str | None = None
    threads: int | None = None
    chunk_tokens: int = 384
    max_chunks_per_file: int = 2000
    max_file_mb: int = 200  # larger PDF and Office files are refused
    exclude_globs: tuple[str, ...] = ()  # added to the built-in rules (.git, node_modules, …)
    index_hidden: bool = False
    # Embed on a server (qfinder.core.model.remote): "local" or "server". With "server",
    # model_folder (when set) is the local copy of the same model: its tokenizer counts and
    # cuts the text, and queries embed with it while the server is unreachable. The API key is
    # never kept here (qfinder.core.secrets).
    embed_on: str = "local"
    server_url: str | None = None
    server_api: str = "auto"  # "auto", "tei", "openai", "ollama"
    server_model: str | None = None  # None: the one model the server serves
    server_tokenizer: str | None = None  # tokenizer.json (or its folder) when no local copy is set

    @classmethod
    def load(cls, data_dir: Path) -> LibraryConfig:
        path = Path(data_dir) / SETTINGS_NAME
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(raw, dict):
                raise ValueError("not a JSON object")
        except FileNotFoundError:
            return cls()
        except (OSError, ValueError) as exc:
            log.warning("ignoring unreadable %s (%s)", path, exc)
            return cls()
        return cls.from_mapping(raw)

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any]) -> LibraryConfig:
        """The known keys of `raw` (a newer version's keys are ignored, not fatal)."""
        defaults = cls()
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in raw.items() if k in known}
        if isinstance(values.get("exclude_globs"), list):
            values["exclude_globs"] = tuple(str(g) for g in values["exclude_globs"])
        elif "exclude_globs" in values:
            values["exclude_globs"] = defaults.exclude_globs
        return replace(defaults, **values)

    @property
    def runtime(self) -> ModelRuntime:
        return ModelRuntime(self.variant, self.threads)

    def reembeds(self, other: LibraryConfig) -> bool:
        """Whether indexing with `other` means embedding every file again: another model or
        variant, or another way of cutting files into chunks."""
        return (self.model_folder, self.variant, self.chunk_tokens, self.max_chunks_per_file) != (
            other.model_folder, other.variant, other.chunk_tokens, other.max_chunks_per_file)

    @property
    def on_server(self) -> bool:
        return self.embed_on == "server" and bool(self.server_url)

    def switches_source(self, other: LibraryConfig) -> bool:
        """Whether `other` embeds elsewhere (this computer or another server) with the same
        model and chunking: the stored vectors stay when the new source's fingerprint agrees."""
        return (self.on_server, self.server_url, self.server_api, self.server_model,
                self.server_tokenizer) != (other.on_server, other.server_url, other.server_api,
                                           other.server_model, other.server_tokenizer)

    def with_changes(self, **changes: object) -> LibraryConfig:
        return replace(self, **changes)  # type: ignore[arg-type]

    def save(self, data_dir: Path) -> None:
        write_atomic(Path(data_dir) / SETTINGS_NAME, json.dumps(asdict(self), indent=2))
