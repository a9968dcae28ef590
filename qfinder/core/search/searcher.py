"""Answer a `SearchRequest` with a `SearchResponse`: semantic, keyword and filename hits, fused.

    searcher = Searcher(catalog, vectors, embedder)   # vectors/embedder None: keyword + names only
    response = searcher.search(SearchRequest("budget 2024", dim=256, mode="hybrid"))

Stages (each switchable through `request.mode`):
  semantic  the query (or, for "files like these", the mean of those files' chunk vectors) is
            embedded at full size and searched at `dim` with optional exact full-size re-scoring;
  keyword   FTS5/BM25 over chunk text (quoted phrases literal, see `Catalog.fts_search`);
  names     substring match on file names and paths (hybrid and keyword modes).
Chunk lists are fused with reciprocal rank fusion, then grouped per file: a file's rank in each
list is the rank of its best chunk there. In semantic mode a file's score is its best chunk's
cosine similarity; otherwise the fused RRF score. Filters (folder, kind, modified range) and
quoted phrases apply to every stage.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

import numpy as np

from qfinder.core.errors import QfinderError
from qfinder.core.paths import is_within
from qfinder.core.results import ChunkHit, FileResult, SearchFilters, SearchRequest, SearchResponse
from qfinder.core.search.fusion import (
    ParsedQuery,
    contains_phrases,
    parse_query,
    reciprocal_rank_fusion,
    uses_keyword,
    uses_semantic,
)
from qfinder.core.search.snippets import best_snippet
from qfinder.core.storage.types import ChunkRow, FileRow

if TYPE_CHECKING:  # both pull in onnxruntime or hnswlib, which a keyword-only search never needs
    from qfinder.core.model.protocol import TextEmbedder
    from qfinder.core.vectors.dim_index import VectorHits

CHUNKS_PER_FILE = 3  # other matching chunks shown under a file
CANDIDATE_FACTOR = 4  # chunks fetched per requested file (several chunks can share a file)
FILTER_FACTOR = 4  # extra oversampling when filters or phrases discard candidates
# RRF weights. BM25 at half weight measured best on CISI (MiniLM, nDCG@10 .428 at 1.0, .444 at
# 0.5, .438 semantic only) and xquad zh/en (e5: .987 / .994 / .994); names stay at full weight
# because a person typing a file name expects that file on top.
FUSION_WEIGHTS = {"semantic": 1.0, "keyword": 0.5, "names": 1.0}


class VectorSearch(Protocol):
    def search_with_stats(self, query_full: np.ndarray, dim: int, k: int, rerank: bool = True) -> VectorHits: ...


class Catalogue(Protocol):
    def fts_search(self, query: str, limit: int = ..., filters: SearchFilters | None = ...) -> list[tuple[int, float]]: ...
    def name_search(self, query: str, limit: int = ..., filters: SearchFilters | None = ...) -> list[tuple[int, float]]: ...
    def chunks(self, ids: Sequence[int]) -> dict[int, ChunkRow]: ...
    def files_by_id(self, ids: Sequence[int]) -> dict[int, FileRow]: ...
    def file(self, path: str) -> FileRow | None: ...
    def file_chunk_ids(self, path: str) -> list[int]: ...
    def vectors(self, ids: Sequence[int]) -> tuple[np.ndarray, np.ndarray]: ...


class SearchError(QfinderError):
    """A query that cannot run as asked (e.g. semantic mode without a model)."""


def passes_filters(row: FileRow, filters: SearchFilters) -> bool:
    if filters.folders and not any(is_within(row.path, folder) for folder in filters.folders):
        return False
    if filters.kinds and row.kind not in {k.lower().lstrip(".") for k in filters.kinds}:
        return False
    mtime = row.mtime_ns / 1e9
    if filters.modified_after is not None and mtime < filters.modified_after:
        return False
    return not (filters.modified_before is not None and mtime > filters.modified_before)


class Searcher:
    def __init__(self, catalog: Catalogue, vectors: VectorSearch | None = None,
                 embedder: TextEmbedder | None = None, default_dim: int | None = None) -> None:
        self.catalog = catalog
        self.vectors = vectors
        self.embedder = embedder
        self.default_dim = default_dim

    @property
    def semantic_ready(self) -> bool:
        return self.vectors is not None and self.embedder is not None

    def resolve_dim(self, requested: int | None) -> int | None:
        if self.embedder is None:
            return requested
        info = self.embedder.info
        dim = requested or self.default_dim or info.default_dim
        return max(info.min_dim, min(int(dim), info.full_dim))

    def search(self, request: SearchRequest) -> SearchResponse:
        started = time.perf_counter()
        parsed = parse_query(request.text)
        want_semantic = uses_semantic(request.mode) or bool(request.like_paths)
        if want_semantic and not self.semantic_ready and request.mode == "semantic":
            raise SearchError("Semantic search needs a model.", "Index with --model DIR first.")
        limit = max(request.k, 1) * CANDIDATE_FACTOR
        if _filters_active(request.filters) or parsed.phrases:
            limit *= FILTER_FACTOR
        lists: dict[str, list[int]] = {}
        cosine: dict[int, float] = {}
        dim, nearest = None, None
        if want_semantic and self.semantic_ready:
            dim = self.resolve_dim(request.dim)
            nearest = self._semantic(request, parsed, dim or 0, limit)
            cosine = dict(nearest.hits) if nearest is not None else {}
            lists["semantic"] = list(cosine)
        if uses_keyword(request.mode) and parsed.text and not request.like_paths:
            lists["keyword"] = [cid for cid, _ in self.catalog.fts_search(request.text, limit, request.filters)]
        names: list[int] = []
        if uses_keyword(request.mode) and parsed.text and not request.like_paths:
            names = [fid for fid, _ in self.catalog.name_search(request.text, limit, request.filters)]
        results = self._assemble(request, parsed, lists, cosine, names)
        elapsed = (time.perf_counter() - started) * 1000
        exact = nearest is not None and nearest.stats.exact
        return SearchResponse(request, tuple(results), elapsed, dim, request.rerank and dim is not None, exact)

    # --- semantic stage ------------------------------------------------------------------------
    def _query_vector(self, request: SearchRequest, parsed: ParsedQuery) -> np.ndarray | None:
        if request.like_paths:
            ids = [cid for path in request.like_paths for cid in self.catalog.file_chunk_ids(path)]
            _, vecs = self.catalog.vectors(ids)
            if not len(vecs):
                return None
            mean = vecs.mean(axis=0)
            return (mean / max(float(np.linalg.norm(mean)), 1e-12)).astype(np.float32)
        if not parsed.text:
            return None
        assert self.embedder is not None
        embedded = self.embedder.embed_queries_with_stats([parsed.text], instruction=request.instruction)
        return embedded.vectors[0]

    def _semantic(self, request: SearchRequest, parsed: ParsedQuery, dim: int, limit: int) -> VectorHits | None:
        """The nearest chunks by meaning, or None when there is nothing to compare with."""
        query = self._query_vector(request, parsed)
        if query is None:
            return None
        assert self.vectors is not None
        return self.vectors.search_with_stats(query, dim, limit + _like_margin(request), rerank=request.rerank)

    # --- grouping --------------------------------------------------------------------------------
    def _assemble(self, request: SearchRequest, parsed: ParsedQuery, lists: dict[str, list[int]],
                  cosine: dict[int, float], names: list[int]) -> list[FileResult]:
        chunk_ids = list(dict.fromkeys(cid for ids in lists.values() for cid in ids))
        rows = self.catalog.chunks(chunk_ids)
        files = self.catalog.files_by_id(list({r.file_id for r in rows.values()} | set(names)))
        excluded = set(request.like_paths)
        keep = {cid for cid, row in rows.items() if self._keep_chunk(row, files, request, parsed, excluded)}
        lists = {name: [c for c in ids if c in keep] for name, ids in lists.items()}
        chunk_score = dict(reciprocal_rank_fusion(lists, FUSION_WEIGHTS))
        per_file: dict[int, list[int]] = {}
        for cid in sorted(keep, key=lambda c: chunk_score.get(c, 0.0), reverse=True):
            per_file.setdefault(rows[cid].file_id, []).append(cid)
        ranked_files = {name: _file_order(ids, rows) for name, ids in lists.items()}
        ranked_files["names"] = [f for f in names if f in files and self._keep_file(files[f], request, parsed, excluded)]
        fused = reciprocal_rank_fusion(ranked_files, FUSION_WEIGHTS)
        if request.mode == "semantic" or request.like_paths:
            fused = sorted(((f, cosine[per_file[f][0]]) for f, _ in fused if f in per_file),
                           key=lambda item: item[1], reverse=True)
        out = []
        for file_id, score in fused[: request.k]:
            hits = self._chunk_hits(per_file.get(file_id, []), rows, parsed, cosine, chunk_score)
            row = files[file_id]
            out.append(FileResult(row.path, float(score), row.size, row.mtime_ns / 1e9, hits, row.status))
        return out

    def _keep_chunk(self, row: ChunkRow, files: dict[int, FileRow], request: SearchRequest,
                    parsed: ParsedQuery, excluded: set[str]) -> bool:
        file_row = files.get(row.file_id)
        if file_row is None or file_row.path in excluded:
            return False
        if not passes_filters(file_row, request.filters):
            return False
        return contains_phrases(row.text, parsed.phrases)

    def _keep_file(self, row: FileRow, request: SearchRequest, parsed: ParsedQuery, excluded: set[str]) -> bool:
        if row.path in excluded or not passes_filters(row, request.filters):
            return False
        return contains_phrases(row.path, parsed.phrases) if parsed.phrases else True

    def _chunk_hits(self, ids: list[int], rows: dict[int, ChunkRow], parsed: ParsedQuery,
                    cosine: dict[int, float], fused: dict[int, float]) -> tuple[ChunkHit, ...]:
        hits = []
        for cid in ids[:CHUNKS_PER_FILE]:
            row = rows[cid]
            snippet = best_snippet(row.text, parsed)
            score = cosine.get(cid, fused.get(cid, 0.0))
            hits.append(ChunkHit(cid, float(score), snippet.text, (row.start, row.end),
                                 snippet.highlight, row.page, row.line, snippet.chunk_highlight))
        return tuple(hits)


def _file_order(chunk_ids: list[int], rows: dict[int, ChunkRow]) -> list[int]:
    return list(dict.fromkeys(rows[cid].file_id for cid in chunk_ids))


def _filters_active(filters: SearchFilters) -> bool:
    return bool(filters.folders or filters.kinds or filters.modified_after or filters.modified_before)


def _like_margin(request: SearchRequest) -> int:
    # the like-files' own chunks come first and are dropped; fetch past them
    return 64 * len(request.like_paths)
