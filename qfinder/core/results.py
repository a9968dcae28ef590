"""Plain immutable data that crosses layers: search requests and their results."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

SearchMode = Literal["hybrid", "semantic", "keyword"]


@dataclass(frozen=True)
class SearchFilters:
    folders: tuple[str, ...] = ()  # absolute folder prefixes; empty = everywhere
    kinds: tuple[str, ...] = ()  # file extensions without dot, lower case; empty = all
    modified_after: float | None = None  # POSIX seconds
    modified_before: float | None = None  # inclusive
    types: tuple[str, ...] = ()  # kinds of qfinder.core.extract.kinds ("code", "pdf", …); any
    path_contains: tuple[str, ...] = ()  # case-folded texts the full path must all contain
    min_size: int | None = None  # bytes, inclusive
    max_size: int | None = None

    def active(self) -> bool:
        return self != SearchFilters()


@dataclass(frozen=True)
class SearchRequest:
    text: str
    instruction: str | None = None  # None: the model's default task
    dim: int | None = None  # None: the model's default search dimension
    k: int = 20  # files to return
    rerank: bool = True  # exact full-size re-score of the ANN candidates
    mode: SearchMode = "hybrid"
    filters: SearchFilters = field(default_factory=SearchFilters)
    like_paths: tuple[str, ...] = ()  # "files like these": their vectors are the query
    request_id: int = 0


@dataclass(frozen=True)
class ChunkHit:
    chunk_id: int
    score: float
    snippet: str
    span: tuple[int, int]  # character span of the chunk in the file's extracted text
    highlight: tuple[int, int] | None = None  # span of the best match inside `snippet`
    page: int | None = None  # 1-based page for paged formats (PDF, slides)
    line: int | None = None  # 1-based first line of the chunk
    # `highlight` as a span of the chunk's text (0 = span[0]): the same words may occur earlier
    chunk_highlight: tuple[int, int] | None = None


@dataclass(frozen=True)
class FileResult:
    path: str
    score: float
    size: int
    mtime: float
    chunks: tuple[ChunkHit, ...]  # best first; may be empty for filename-only matches
    status: str = "indexed"  # or "name-only" when content could not be indexed
    # 0..1, the same scale for every query (core/search/relevance.py); from CLOSE a close match
    relevance: float = 0.0
    matched_by: tuple[str, ...] = ()  # "name", "words", "meaning" (or "filters"), in that order
    matched_words: tuple[str, ...] = ()  # the query's words found in the file's text or name

    @property
    def best(self) -> ChunkHit | None:
        return self.chunks[0] if self.chunks else None


@dataclass(frozen=True)
class SearchResponse:
    request: SearchRequest
    results: tuple[FileResult, ...]
    elapsed_ms: float
    dim: int | None  # the dimension the ANN stage ran at (None for keyword-only)
    reranked: bool
    exact: bool  # brute force rather than a graph index
    notes: tuple[str, ...] = ()  # what a person should know about this answer ("no exact match …")
    syntax_error: str | None = None  # the part of the query that could not be read, and why
