"""Answer a `SearchRequest` with a `SearchResponse`: semantic, keyword and filename hits, fused.

    searcher = Searcher(catalog, vectors, embedder)   # vectors/embedder None: keyword + names only
    response = searcher.search(SearchRequest("budget 2024", dim=256, mode="hybrid"))

Stages (each switchable through `request.mode`):
  semantic  the query (or, for "files like these", the mean of those files' chunk vectors) is
            embedded at full size and searched at `dim` with optional exact full-size re-scoring;
  keyword   FTS5/BM25 over chunk text (see `Catalog.fts_search`);
  names     substring match on file names and paths (hybrid and keyword modes).
Chunk lists are fused with reciprocal rank fusion, then grouped per file: a file's rank in each
list is the rank of its best chunk there. In semantic mode a file's score is its best chunk's
cosine similarity; otherwise the fused RRF score. The text is parsed once (`query_syntax`):
its filters, the request's filters and what it requires or excludes apply to every stage (in
the catalog's SQL); files with its exact phrases come first (`phrase_rank`), and a phrase found
nowhere leaves the ranking as it is, with a note. A query of filters only lists the matching
files, most recently modified first.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

import numpy as np

from qfinder.core.errors import QfinderError
from qfinder.core.results import ChunkHit, FileResult, SearchFilters, SearchRequest, SearchResponse
from qfinder.core.search.background import GenerationReads
from qfinder.core.search.fusion import reciprocal_rank_fusion, uses_keyword, uses_semantic
from qfinder.core.search.judging import ResultJudge, filtered
from qfinder.core.search.phrase_rank import PhraseHits, phrases_first
from qfinder.core.search.query_syntax import ParsedQuery, parse_query
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
FUSION_WEIGHTS = {"semantic": 1.0, "keyword": 0.5, "names": 1.0, "phrase": 0.5}


class VectorSearch(Protocol):
    def search_with_stats(self, query_full: np.ndarray, dim: int, k: int, rerank: bool = True) -> VectorHits: ...


class Catalogue(GenerationReads, Protocol):
    def fts_search(self, query: ParsedQuery, limit: int = ..., filters: SearchFilters | None = ...) -> list[tuple[int, float]]: ...
    def name_search(self, query: ParsedQuery, limit: int = ..., filters: SearchFilters | None = ...) -> list[tuple[int, float]]: ...
    def phrase_search(self, phrase: str, query: ParsedQuery, limit: int = ...,
                      filters: SearchFilters | None = ...) -> list[int]: ...
    def admissible(self, file_ids: Sequence[int], query: ParsedQuery, filters: SearchFilters | None = ...) -> set[int]: ...
    def browse(self, query: ParsedQuery, limit: int = ..., filters: SearchFilters | None = ...) -> list[int]: ...
    def chunks(self, ids: Sequence[int]) -> dict[int, ChunkRow]: ...
    def files_by_id(self, ids: Sequence[int]) -> dict[int, FileRow]: ...
    def file(self, path: str) -> FileRow | None: ...
    def file_chunk_ids(self, path: str) -> list[int]: ...


class SearchError(QfinderError):
    """A query that cannot run as asked (e.g. semantic mode without a model)."""


class Searcher:
    def __init__(self, catalog: Catalogue, vectors: VectorSearch | None = None,
                 embedder: TextEmbedder | None = None, default_dim: int | None = None) -> None:
        self.catalog = catalog
        self.vectors = vectors
        self.embedder = embedder
        self.default_dim = default_dim
        self.judge = ResultJudge(catalog)  # relevance 0..1 and matched_by of each result

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
        query = parse_query(request.text)
        if not query.text and not request.like_paths:  # filters only: list what passes them
            browsing = query.filters.active() or query.has_constraints
            results = self._browse(request, query) if browsing else []
            return self._response(request, query, results, started, None, None, ())
        want_semantic = uses_semantic(request.mode) or bool(request.like_paths)
        if want_semantic and not self.semantic_ready and request.mode == "semantic":
            raise SearchError("Semantic search needs a model.", "Index with --model DIR first.")
        limit = max(request.k, 1) * CANDIDATE_FACTOR
        if request.filters.active() or query.filters.active() or query.has_constraints or query.phrases:
            limit *= FILTER_FACTOR
        phrases = PhraseHits.find(self.catalog, query, limit, request.filters)
        lists: dict[str, list[int]] = {"phrase": phrases.chunk_ids()}
        cosine: dict[int, float] = {}
        dim, nearest, vector = None, None, None
        if want_semantic and self.semantic_ready:
            dim = self.resolve_dim(request.dim)
            nearest, vector = self._semantic(request, query, dim or 0, limit)
            cosine = dict(nearest.hits) if nearest is not None else {}
            cosine.update(self._exact_cosines(vector, [c for c in lists["phrase"] if c not in cosine]))
            lists["semantic"] = sorted(cosine, key=cosine.__getitem__, reverse=True)
        names: list[int] = []
        if uses_keyword(request.mode) and query.text and not request.like_paths:
            lists["keyword"] = [cid for cid, _ in self.catalog.fts_search(query, limit, request.filters)]
            names = [fid for fid, _ in self.catalog.name_search(query, limit, request.filters)]
        results, texts = self._assemble(request, query, lists, cosine, names, phrases)
        results = self.judge.judge(results, texts, query, vector)
        return self._response(request, query, results, started, dim, nearest, phrases.notes())

    def _response(self, request: SearchRequest, query: ParsedQuery, results: list[FileResult], started: float,
                  dim: int | None, nearest: VectorHits | None, notes: tuple[str, ...]) -> SearchResponse:
        elapsed = (time.perf_counter() - started) * 1000
        exact = nearest is not None and nearest.stats.exact
        return SearchResponse(request, tuple(results), elapsed, dim, request.rerank and dim is not None, exact,
                              notes=notes, syntax_error=query.syntax_error)

    def _browse(self, request: SearchRequest, query: ParsedQuery) -> list[FileResult]:
        ids = self.catalog.browse(query, request.k, request.filters)
        files = self.catalog.files_by_id(ids)
        rows = [files[i] for i in ids if i in files and files[i].path not in request.like_paths]
        return filtered([FileResult(row.path, 0.0, row.size, row.mtime_ns / 1e9, (), row.status) for row in rows])

    # --- semantic stage ------------------------------------------------------------------------
    def _query_vector(self, request: SearchRequest, query: ParsedQuery) -> np.ndarray | None:
        if request.like_paths:
            ids = [cid for path in request.like_paths for cid in self.catalog.file_chunk_ids(path)]
            _, vecs = self.catalog.vectors(ids)
            if not len(vecs):
                return None
            mean = vecs.mean(axis=0)
            return (mean / max(float(np.linalg.norm(mean)), 1e-12)).astype(np.float32)
        if not query.text:
            return None
        assert self.embedder is not None
        embedded = self.embedder.embed_queries_with_stats([query.text], instruction=request.instruction)
        return embedded.vectors[0]

    def _semantic(self, request: SearchRequest, query: ParsedQuery, dim: int,
                  limit: int) -> tuple[VectorHits | None, np.ndarray | None]:
        """The nearest chunks by meaning and the query vector, or Nones when there is nothing to compare with."""
        vector = self._query_vector(request, query)
        if vector is None:
            return None, None
        assert self.vectors is not None
        return self.vectors.search_with_stats(vector, dim, limit + _like_margin(request), rerank=request.rerank), vector

    def _exact_cosines(self, vector: np.ndarray | None, chunk_ids: list[int]) -> dict[int, float]:
        """Full-size cosines of chunks the vector index did not return (phrase matches)."""
        if vector is None or not chunk_ids:
            return {}
        ids, vecs = self.catalog.vectors(chunk_ids)
        return {int(cid): float(score) for cid, score in zip(ids, vecs @ vector, strict=True)}

    # --- grouping --------------------------------------------------------------------------------
    def _assemble(self, request: SearchRequest, query: ParsedQuery, lists: dict[str, list[int]],
                  cosine: dict[int, float], names: list[int],
                  phrases: PhraseHits) -> tuple[list[FileResult], dict[str, str]]:
        """The top files, and the text of each one's matching chunks (the words evidence)."""
        chunk_ids = list(dict.fromkeys(cid for ids in lists.values() for cid in ids))
        rows = self.catalog.chunks(chunk_ids)
        wanted = {r.file_id for r in rows.values()} | set(names)
        admitted = self.catalog.admissible(list(wanted), query, request.filters)
        files = self.catalog.files_by_id(list(admitted))
        admitted -= {fid for fid, row in files.items() if row.path in request.like_paths}
        keep = {cid for cid, row in rows.items() if row.file_id in admitted}
        lists = {name: [c for c in ids if c in keep] for name, ids in lists.items()}
        chunk_score = dict(reciprocal_rank_fusion(lists, FUSION_WEIGHTS))
        per_file: dict[int, list[int]] = {}
        for cid in sorted(keep, key=lambda c: chunk_score.get(c, 0.0), reverse=True):
            per_file.setdefault(rows[cid].file_id, []).append(cid)
        ranked_files = {name: _file_order(ids, rows) for name, ids in lists.items()}
        ranked_files["names"] = [f for f in names if f in admitted]
        fused = reciprocal_rank_fusion(ranked_files, FUSION_WEIGHTS)
        if request.mode == "semantic" or request.like_paths:
            fused = sorted(((f, cosine[per_file[f][0]]) for f, _ in fused if f in per_file and per_file[f][0] in cosine),
                           key=lambda item: item[1], reverse=True)
        fused = phrases_first(fused, phrases.files(rows))
        out, texts = [], {}
        for file_id, score in fused[: request.k]:
            shown = per_file.get(file_id, [])[:CHUNKS_PER_FILE]
            hits = self._chunk_hits(shown, rows, query, cosine, chunk_score)
            row = files[file_id]
            out.append(FileResult(row.path, float(score), row.size, row.mtime_ns / 1e9, hits, row.status))
            texts[row.path] = "\n".join(rows[cid].text for cid in shown)
        return out, texts

    def _chunk_hits(self, ids: list[int], rows: dict[int, ChunkRow], query: ParsedQuery,
                    cosine: dict[int, float], fused: dict[int, float]) -> tuple[ChunkHit, ...]:
        hits = []
        for cid in ids:
            row = rows[cid]
            snippet = best_snippet(row.text, query)
            score = cosine.get(cid, fused.get(cid, 0.0))
            hits.append(ChunkHit(cid, float(score), snippet.text, (row.start, row.end),
                                 snippet.highlight, row.page, row.line, snippet.chunk_highlight))
        return tuple(hits)


def _file_order(chunk_ids: list[int], rows: dict[int, ChunkRow]) -> list[int]:
    return list(dict.fromkeys(rows[cid].file_id for cid in chunk_ids))


def _like_margin(request: SearchRequest) -> int:
    # the like-files' own chunks come first and are dropped; fetch past them
    return 64 * len(request.like_paths)
