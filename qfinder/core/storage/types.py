"""Plain rows the catalog returns (frozen dataclasses); see `qfinder.core.storage.catalog`."""

from __future__ import annotations

from dataclasses import dataclass

FILE_STATUSES: tuple[str, ...] = ("pending", "indexed", "failed", "name-only")


@dataclass(frozen=True)
class PipelineStamp:
    """What produced the stored vectors; a different stamp means every vector must be redone."""

    model_id: str
    full_dim: int
    chunker_version: int


@dataclass(frozen=True)
class RootRow:
    id: int
    path: str
    state: str  # watching | polling | unavailable | paused | error | … (free text for the UI)
    added: float  # POSIX seconds


@dataclass(frozen=True)
class FileRow:
    id: int
    path: str
    root_id: int | None
    size: int
    mtime_ns: int
    inode: int
    content_hash: str | None
    status: str  # one of FILE_STATUSES
    error: str | None
    indexed_at: float | None
    kind: str  # extension without dot, lower case ("" if none)


@dataclass(frozen=True)
class ChunkRow:
    id: int
    file_id: int
    path: str  # the file's path, for building results without another query
    ord: int  # position of the chunk in its file, from 0
    text: str
    start: int  # character span in the file's extracted text
    end: int
    page: int | None
    line: int | None
    hash: str


@dataclass(frozen=True)
class CatalogCounts:
    files: int
    indexed: int
    pending: int
    failed: int
    name_only: int
    chunks: int
    vectors: int
