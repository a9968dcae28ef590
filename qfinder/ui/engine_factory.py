"""Turn the person's AppSettings into the engine's settings and its core provider."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from qfinder.core.extract.model import ExtractLimits
from qfinder.core.indexing.exclude import ExcludeRules
from qfinder.core.indexing.indexer import IndexSettings
from qfinder.core.library.library import ModelRuntime
from qfinder.core.library.opener import ENGINE_STEP, LibraryOpener
from qfinder.services.settings import EngineSettings
from qfinder.ui.settings import AppSettings

LOW_PRIORITY_NICE = 10


def engine_settings(settings: AppSettings) -> EngineSettings:
    return dataclasses.replace(EngineSettings(), nice=LOW_PRIORITY_NICE if settings.low_priority_indexing else 0)


def index_settings(settings: AppSettings) -> IndexSettings:
    limits = dataclasses.replace(ExtractLimits(), max_file_bytes=settings.max_file_mb * 1024 * 1024)
    # the engine's small steps (a query waits for at most one), not the CLI's IndexSettings()
    return dataclasses.replace(ENGINE_STEP, chunk_tokens=settings.chunk_tokens,
                               max_chunks_per_file=settings.max_chunks_per_file, limits=limits)


def exclude_rules(settings: AppSettings) -> ExcludeRules:
    return ExcludeRules(include_hidden=settings.index_hidden, globs=tuple(settings.exclude_globs))


def core_factory(settings: AppSettings, data_dir: Path) -> LibraryOpener:
    provider = None if settings.provider == "auto" else settings.provider
    runtime = ModelRuntime(variant=settings.variant, threads=settings.threads or None)
    return LibraryOpener(data_dir, provider=provider, index_settings=index_settings(settings),
                        rules=exclude_rules(settings), runtime=runtime)
