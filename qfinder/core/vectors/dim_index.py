"""One dimension's vector search structure: an hnswlib graph or an exact numpy matrix.

Internal to `qfinder.core.vectors.indexes` (which holds the lock and talks to the catalog), with
the plain data it returns (IndexCost, SearchStats), the query check and the oversampling rule.
Vectors given here are already truncated to `dim` and L2-normalised; labels are chunk ids.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import hnswlib
import numpy as np

from qfinder.core.errors import IndexError_
from qfinder.core.storage.catalog import PipelineStamp

log = logging.getLogger(__name__)

_MAP_BYTES = 48  # hnswlib's label -> internal id hash map, per element (measured order of size)

MAX_CANDIDATES = 2000  # re-scored candidates per query, at most


def auto_oversample(dim: int, full_dim: int | None = None) -> int:
    """Candidates per wanted hit for the full-size re-score. Lower dimensions need more: 8192/d
    within 4..64 (64 at d <= 128, 32 at d = 256, 16 at d = 512); at full size only ANN misses
    need fixing (2). Measured on 50k MRL-like vectors, see bench/bench_dims.py."""
    if full_dim is not None and dim >= full_dim:
        return 2
    return min(64, max(4, -(-8192 // dim)))


@dataclass(frozen=True)
class IndexCost:
    dim: int
    kind: str  # "hnsw" | "exact"
    count: int  # live vectors
    deleted: int  # mark_deleted elements awaiting compaction
    ram_bytes: int
    disk_bytes: int
    build_s: float
    last_query_ms: float | None
    last_rerank_ms: float | None


@dataclass(frozen=True)
class SearchStats:
    dim: int
    exact: bool
    reranked: bool
    candidates: int
    ann_ms: float
    rerank_ms: float


@dataclass(frozen=True)
class VectorHits:
    hits: list[tuple[int, float]]  # (chunk_id, cosine), best first
    stats: SearchStats  # how this search ran


def truncate_normalize(vectors: np.ndarray, dim: int | None) -> np.ndarray:
    """qfinder.core.model.mrl.truncate_normalize, imported on first use: the model package pulls
    in onnxruntime, which keyword-only searches, `status` and index builds do not need."""
    from qfinder.core.model.mrl import truncate_normalize as mrl_truncate

    return mrl_truncate(vectors, dim)


def check_query(query_full: np.ndarray, stamp: PipelineStamp | None, dim: int) -> np.ndarray:
    """The query as a unit float32 vector, or IndexError_ (nothing indexed, wrong size, bad d,
    not finite or all zeros)."""
    if stamp is None:
        raise IndexError_("Nothing is indexed yet.", "Index a folder first.")
    query = np.asarray(query_full, dtype=np.float32).reshape(-1)
    if query.size != stamp.full_dim:
        raise IndexError_(f"Query has {query.size} dimensions; the index holds {stamp.full_dim}.")
    if not 1 <= dim <= stamp.full_dim:
        raise IndexError_(f"Dimension {dim} is outside 1..{stamp.full_dim}.")
    if not np.all(np.isfinite(query)) or not np.any(query):
        raise IndexError_(
            "The query vector is not finite or all zeros.", "Check the model's output."
        )
    return query / np.linalg.norm(query)


def labels_disagreement(
    labels: np.ndarray, dead: np.ndarray, catalog_ids: np.ndarray, same_generation: bool
) -> str | None:
    """Why a loaded graph (all its `labels`, the manifest's `dead` ones) cannot be the catalog's
    vectors (`catalog_ids`, sorted), or None. A manifest can be readable, correctly signed and
    still wrong; trusted, it would hide chunks for good, since chunk ids are never reused. For the
    same reason every catalog id up to the graph's largest label existed when it was saved."""
    if not np.isin(dead, labels).all():
        return "the manifest marks deleted labels the graph does not hold"
    live = np.setdiff1d(labels, dead)
    if np.isin(catalog_ids, dead).any():
        return "the manifest marks deleted vectors the catalog still holds"
    if same_generation and not np.array_equal(live, catalog_ids):
        return f"{live.size} live labels for the catalog's {catalog_ids.size} vectors"
    saved_then = catalog_ids[catalog_ids <= (labels.max() if labels.size else -1)]
    if not np.isin(saved_then, live).all():
        return "the graph lacks vectors the catalog held when it was saved"
    return None


def hnsw_ram_bytes(n: int, dim: int, M: int) -> int:
    """Memory of an hnswlib index of n elements (design.md §4: n·(4d + 8M + overhead))."""
    level0 = (2 * M * 4 + 4) + 4 * dim + 8
    upper = (M * 4 + 4) / max(M - 1, 1)  # expected upper-level links per element
    return int(n * (level0 + upper + _MAP_BYTES))


def exact_ram_bytes(n: int, dim: int) -> int:
    return n * (4 * dim + 8)


def finite_rows(ids: np.ndarray, vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Drop (and log) rows that are not finite: hnswlib would accept and serve them."""
    ok = np.isfinite(vectors).all(axis=1)
    if not ok.all():
        log.warning(
            "skipped %d non-finite vectors (chunk ids %s…)", int((~ok).sum()), ids[~ok][:5].tolist()
        )
    return ids[ok], vectors[ok]


class DimIndex:
    """Live labels, a graph or matrix, and its bookkeeping (generation, deleted, timings)."""

    def __init__(self, dim: int, kind: str, M: int, ef_construction: int) -> None:
        self.dim, self.kind, self.M, self.ef_construction = dim, kind, M, ef_construction
        self.live = np.zeros(0, dtype=np.int64)  # sorted live labels
        self.dead = np.zeros(0, dtype=np.int64)  # marked-deleted labels still in the graph
        self.generation = -1
        self.graph: hnswlib.Index | None = None
        self.matrix = np.zeros((0, dim), dtype=np.float32)
        self.matrix_ids = np.zeros(0, dtype=np.int64)
        self.build_s = 0.0
        self.last_query_ms: float | None = None
        self.last_rerank_ms: float | None = None
        self.dirty = False
        self.disk_bytes = 0
        self.saved_at = 0.0

    @property
    def deleted(self) -> int:
        return int(self.dead.size)

    @property
    def total(self) -> int:
        return int(self.live.size + self.deleted)

    def ram_bytes(self) -> int:
        if self.kind == "exact":
            return exact_ram_bytes(int(self.live.size), self.dim)
        return hnsw_ram_bytes(self.total, self.dim, self.M)

    def cost(self) -> IndexCost:
        return IndexCost(
            self.dim,
            self.kind,
            int(self.live.size),
            self.deleted,
            self.ram_bytes(),
            self.disk_bytes,
            self.build_s,
            self.last_query_ms,
            self.last_rerank_ms,
        )

    def start_graph(self, capacity: int) -> None:
        self.graph = hnswlib.Index(space="ip", dim=self.dim)
        self.graph.init_index(
            max_elements=max(capacity, 1024), M=self.M, ef_construction=self.ef_construction
        )

    def adopt_graph(self, graph: hnswlib.Index, labels: np.ndarray, dead: np.ndarray) -> None:
        """Take a loaded graph: `labels` are all its labels, `dead` those marked deleted."""
        self.graph, self.dead = graph, np.unique(dead)
        self.live = np.setdiff1d(np.unique(labels), self.dead, assume_unique=True)

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        ids, vectors = finite_rows(ids, vectors)
        fresh = ~(np.isin(ids, self.live) | np.isin(ids, self.dead))  # labels are never reused
        ids, vectors = ids[fresh], vectors[fresh]
        if not ids.size:
            return
        if self.kind == "exact":
            self.matrix = np.vstack([self.matrix, vectors]) if self.matrix.size else vectors.copy()
            self.matrix_ids = np.concatenate([self.matrix_ids, ids])
        else:
            assert self.graph is not None
            need = self.total + ids.size
            if need > self.graph.get_max_elements():
                self.graph.resize_index(int(need * 1.25) + 1024)
            self.graph.add_items(vectors, ids)
        self.live = np.union1d(self.live, ids)

    def remove(self, ids: np.ndarray) -> None:
        if not ids.size:
            return
        if self.kind == "exact":
            keep = ~np.isin(self.matrix_ids, ids)
            self.matrix, self.matrix_ids = self.matrix[keep], self.matrix_ids[keep]
        else:
            assert self.graph is not None
            for label in ids.tolist():
                self.graph.mark_deleted(int(label))
            self.dead = np.union1d(self.dead, ids)
        self.live = np.setdiff1d(self.live, ids, assume_unique=True)

    def query(self, q: np.ndarray, k: int, ef: int) -> tuple[np.ndarray, np.ndarray]:
        """(labels, inner-product scores) of up to k nearest, best first; k clamped to live."""
        k = min(k, int(self.live.size))
        if k <= 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        start = time.perf_counter()
        if self.kind == "exact":
            scores = self.matrix @ q
            top = np.argpartition(-scores, k - 1)[:k] if k < scores.size else np.arange(scores.size)
            top = top[np.argsort(-scores[top], kind="stable")]
            labels, sims = self.matrix_ids[top], scores[top]
        else:
            labels, sims = self._graph_query(q, k, ef)
        self.last_query_ms = (time.perf_counter() - start) * 1000
        return labels.astype(np.int64), sims.astype(np.float32)

    def _graph_query(self, q: np.ndarray, k: int, ef: int) -> tuple[np.ndarray, np.ndarray]:
        assert self.graph is not None
        while True:
            self.graph.set_ef(max(ef, k))
            try:
                labels, dists = self.graph.knn_query(q.reshape(1, -1), k=k)
                return labels[0], 1.0 - dists[0]
            except RuntimeError:  # too few reachable live elements for k (many deleted)
                if k <= 1:
                    return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
                ef, k = ef * 2, k // 2
