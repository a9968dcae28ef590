"""Vector search at any Matryoshka dimension, as caches of the catalog's full-size vectors.

A few lines over ~300: one class that owns every dimension's structure, its files and its
following of the catalog; the structures are in dim_index.py, the files in files.py.

    from qfinder.core.vectors.indexes import VectorIndexes
    vx = VectorIndexes(catalog, data_dir / "indexes", persist=True)   # persist=False in readers
    hits = vx.search(query_full, dim=256, k=20, rerank=True)  # [(chunk_id, score)]
    found = vx.search_with_stats(query_full, dim=256, k=20)   # VectorHits(hits, stats), stats:
                         # SearchStats(dim, exact, reranked, candidates, ann_ms, rerank_ms)
    vx.costs()           # [IndexCost(dim, kind, count, deleted, ram_bytes, …)] of those built
    vx.estimate(dim)     # IndexCost of a dimension not built yet;  vx.save(); vx.close()
    vx.has(dim)          # built/loaded in memory (no build)
    vx.build(dim) -> DimIndex   # built (or loaded from its file), NOT kept: for another thread
    vx.adopt(index)      # install a DimIndex built elsewhere (synced with the catalog on use)
    vx.saved_dims()      # {dim: bytes} of the graph files in the folder;  vx.delete_saved()

Off-thread builds (the engine): a builder `VectorIndexes` on its own read-only Catalog calls
`build(dim)` and hands the result to the serving one's `adopt(index)`; the next search syncs it
with the catalog (what was written meanwhile is added), so nothing is built twice.

`query_full` is the full-size, L2-normalised query vector (Embedder.embed_queries, dim=None).
At dimension d the stored vectors are truncated to d and re-normalised (MRL). Search runs the
"funnel": the nearest k·oversample at d (hnswlib, or exact numpy below `exact_below` vectors;
oversample None = `auto_oversample(d)`, at most MAX_CANDIDATES), then an exact re-score of those
with the full-size vectors (`qfinder.core.vectors.rescore_store`: a memory-mapped float16 matrix, one
gather + one matmul); rerank=False returns the raw top k at d. Scores are cosines, best first;
k is clamped to the live vectors. IndexError_: no stamp yet, a query of the wrong size /
non-finite / all zero, d outside 1..full_dim. hnswlib: M=16, ef_construction=200, ef_search=200
(raised to the number of candidates). Filtered-out files are the caller's to drop.

Every search first syncs the structure for d, and the re-score store, with the catalog when
`catalog.generation()` moved: new ids are added, removed ones mark_deleted; past `compact_at`
(20 %) deleted the graph is rebuilt. Graphs are saved atomically with a manifest
(`qfinder.core.vectors.files`) after a build, by `save()`/`close()`, and when dirty for
`autosave_s`; a missing, stale, corrupt or foreign file, or one whose labels disagree with
the catalog's vectors (`labels_disagreement`), is rebuilt from the catalog (no re-embedding),
with a log line. One lock serialises add, delete and query.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

import numpy as np

from qfinder.core.storage.catalog import Catalog, PipelineStamp
from qfinder.core.vectors.dim_index import (
    MAX_CANDIDATES,
    DimIndex,
    IndexCost,
    SearchStats,
    VectorHits,
    auto_oversample,
    check_query,
    exact_ram_bytes,
    hnsw_ram_bytes,
    labels_disagreement,
    truncate_normalize,
)
from qfinder.core.vectors.files import Manifest, StaleIndexFile, load_index, save_index
from qfinder.core.vectors.follow import catalog_change
from qfinder.core.vectors.rescore_store import RescoreStore

__all__ = ["IndexCost", "SearchStats", "VectorHits", "VectorIndexes", "auto_oversample"]

log = logging.getLogger(__name__)


GRAPH_PREFIX = "hnsw-d"  # graph files are <folder>/hnsw-d<dim>.bin (+ .json manifest)


class VectorIndexes:
    def __init__(
        self,
        catalog: Catalog,
        folder: str | Path,
        *,
        persist: bool = True,
        M: int = 16,
        ef_construction: int = 200,
        ef_search: int = 200,  # 0.99 recall@10 at full size on 50k vectors (96: 0.976)
        exact_below: int = 20_000,
        compact_at: float = 0.2,
        autosave_s: float = 300.0,
    ) -> None:
        self.catalog, self.folder, self.persist = catalog, Path(folder), persist
        self.M, self.ef_construction, self.ef_search = M, ef_construction, ef_search
        self.exact_below, self.compact_at, self.autosave_s = exact_below, compact_at, autosave_s
        self._lock = threading.RLock()
        self._dims: dict[int, DimIndex] = {}
        self._stamp: PipelineStamp | None = None
        self._store = RescoreStore(self.folder, persist=persist)  # full-size rows to re-score

    # --- public -------------------------------------------------------------------------------
    def search(
        self, query_full: np.ndarray, dim: int, k: int, rerank: bool = True, oversample: int | None = None
    ) -> list[tuple[int, float]]:
        """[(chunk_id, score)] best first, at most k. `oversample` None: auto_oversample(dim)."""
        return self.search_with_stats(query_full, dim, k, rerank, oversample).hits

    def search_with_stats(
        self, query_full: np.ndarray, dim: int, k: int, rerank: bool = True, oversample: int | None = None
    ) -> VectorHits:
        """`search`'s hits and how the search ran (exact or graph, candidates, milliseconds)."""
        query = self._check_query(query_full, dim)
        factor = auto_oversample(dim, query.size) if oversample is None else max(1, oversample)
        want = min(k * factor, max(k, MAX_CANDIDATES)) if rerank else k
        with self._lock:
            index = self.ensure(dim)
            labels, scores = index.query(truncate_normalize(query, dim), want, self.ef_search)
            exact, ann_ms = index.kind == "exact", index.last_query_ms or 0.0
            rerank_ms = 0.0
            if rerank and labels.size:
                self._sync_store()
                start = time.perf_counter()
                labels, scores = self._store.rescore(labels, query)
                rerank_ms = index.last_rerank_ms = (time.perf_counter() - start) * 1000
        hits = [(int(c), float(s)) for c, s in zip(labels[:k], scores[:k], strict=True)]
        return VectorHits(hits, SearchStats(dim, exact, rerank, int(want), ann_ms, rerank_ms))

    def ensure(self, dim: int) -> DimIndex:
        """The structure for `dim`, loaded or built and synced with the catalog."""
        with self._lock:
            self._follow_stamp()
            index = self._dims.get(dim)
            if index is None:
                index = self._dims[dim] = self._open(dim)
            self._sync(index)
            return index

    def costs(self) -> list[IndexCost]:
        with self._lock:
            return [ix.cost() for _, ix in sorted(self._dims.items())]

    def estimate(self, dim: int) -> IndexCost:
        """Cost of `dim` without building it (RAM estimated from the vector count)."""
        with self._lock:
            if dim in self._dims:
                return self._dims[dim].cost()
        n = int(self.catalog.all_vector_ids().size)
        exact = n < self.exact_below
        ram = exact_ram_bytes(n, dim) if exact else hnsw_ram_bytes(n, dim, self.M)
        return IndexCost(dim, "exact" if exact else "hnsw", n, 0, ram, 0, 0.0, None, None)

    def save(self) -> None:
        with self._lock:
            for index in self._dims.values():
                if index.dirty:
                    self._save(index)
            self._store.save()

    def close(self) -> None:
        self.save()
        with self._lock:
            self._dims.clear()

    def has(self, dim: int) -> bool:
        """Whether `dim` is in memory, ready to search without a build."""
        with self._lock:
            return dim in self._dims

    def build(self, dim: int) -> DimIndex:
        """The structure for `dim`, loaded from its file or built (and saved when persisting),
        without keeping it: meant for a builder instance whose result another one `adopt`s."""
        with self._lock:
            self._follow_stamp()
            return self._open(dim)

    def adopt(self, index: DimIndex) -> None:
        """Install a structure built by another instance over the same catalog; it is synced with
        the catalog (added/removed vectors) on its next use."""
        with self._lock:
            self._follow_stamp()
            self._dims[index.dim] = index

    def rescore_bytes(self) -> int:
        """Disk taken by the full-size float16 vectors kept for re-scoring (shared by every dim)."""
        return self._store.disk_bytes()

    def saved_dims(self) -> dict[int, int]:
        """{dim: bytes} of the graph files saved in the folder (hnsw-d<dim>.bin)."""
        found: dict[int, int] = {}
        for path in self.folder.glob(f"{GRAPH_PREFIX}*.bin") if self.folder.is_dir() else ():
            digits = path.stem.removeprefix(GRAPH_PREFIX)
            if digits.isdigit():
                found[int(digits)] = path.stat().st_size
        return found

    def delete_saved(self) -> None:
        """Forget every in-memory structure and delete the saved graphs and their manifests
        (they are rebuilt from the catalog when needed)."""
        with self._lock:
            self._dims.clear()
            self._store.delete()
            for path in self.folder.glob(f"{GRAPH_PREFIX}*") if self.folder.is_dir() else ():
                path.unlink(missing_ok=True)

    # --- internals ----------------------------------------------------------------------------
    def _follow_stamp(self) -> None:
        """A new model/chunker makes every structure stale."""
        stamp = self.catalog.stamp()
        if stamp != self._stamp:
            self._dims.clear()
            self._stamp = stamp

    def _check_query(self, query_full: np.ndarray, dim: int) -> np.ndarray:
        return check_query(query_full, self.catalog.stamp(), dim)

    def _sync_store(self) -> None:
        """The re-score rows follow the catalog like the graphs do (added/removed ids)."""
        stamp = self.catalog.stamp()
        assert stamp is not None  # checked by _check_query
        self._store.sync(self.catalog, stamp.model_id, stamp.full_dim, self.autosave_s)

    def _manifest(self, index: DimIndex, generation: int = 0, count: int = 0) -> Manifest:
        model = self._stamp.model_id if self._stamp else ""
        dead = tuple(int(x) for x in index.dead.tolist())
        return Manifest(
            model,
            index.dim,
            self.M,
            self.ef_construction,
            generation,
            count,
            deleted=dead,
            catalog_uid=self.catalog.uid(),
        )

    def _path(self, dim: int) -> Path:
        return self.folder / f"{GRAPH_PREFIX}{dim}.bin"

    def _open(self, dim: int) -> DimIndex:
        n = int(self.catalog.all_vector_ids().size)
        if n < self.exact_below:
            return self._build(dim, "exact")
        index = DimIndex(dim, "hnsw", self.M, self.ef_construction)
        path = self._path(dim)
        try:
            graph, manifest = load_index(
                path,
                self._manifest(index, generation=self.catalog.generation()),
                max_elements=int(n * 1.25) + 1024,
            )
        except (StaleIndexFile, OSError) as exc:
            log.info("rebuilding the d=%d index from the catalog: %s (%s)", dim, exc, path)
            return self._build(dim, "hnsw")
        labels = np.asarray(graph.get_ids_list(), dtype=np.int64)  # deleted ones included
        dead = np.asarray(manifest.deleted, dtype=np.int64)
        same_generation = manifest.generation == self.catalog.generation()
        problem = labels_disagreement(labels, dead, self.catalog.all_vector_ids(), same_generation)
        if problem is not None:
            log.info("rebuilding the d=%d index from the catalog: %s (%s)", dim, problem, path)
            return self._build(dim, "hnsw")
        index.adopt_graph(graph, labels, dead)
        index.generation, index.saved_at = manifest.generation, time.time()
        index.disk_bytes = path.stat().st_size
        return index

    def _build(self, dim: int, kind: str) -> DimIndex:
        start = time.perf_counter()
        generation = self.catalog.generation()
        index = DimIndex(dim, kind, self.M, self.ef_construction)
        if kind == "hnsw":
            index.start_graph(int(self.catalog.all_vector_ids().size * 1.1) + 1024)
        for ids, vectors in self.catalog.iter_vectors():
            index.add(ids, truncate_normalize(vectors, dim))
        index.generation, index.build_s = generation, time.perf_counter() - start
        if kind == "hnsw":
            self._save(index)
        return index

    def _sync(self, index: DimIndex) -> None:
        change = catalog_change(self.catalog, index.generation, index.live)
        if change is None:
            return
        want_exact = change.live < (
            self.exact_below if index.kind == "exact" else self.exact_below // 2
        )
        too_sparse = index.deleted + change.removed.size > self.compact_at * max(
            index.total + change.added.size, 1
        )
        if want_exact != (index.kind == "exact") or (index.kind == "hnsw" and too_sparse):
            rebuilt = self._build(index.dim, "exact" if want_exact else "hnsw")
            index.__dict__.update(rebuilt.__dict__)  # callers keep their reference
            return
        index.remove(change.removed)
        for found, vectors in change.added_vectors(self.catalog):
            index.add(found, truncate_normalize(vectors, index.dim))
        index.generation = change.generation
        index.dirty = index.kind == "hnsw" and bool(change.added.size or change.removed.size)
        if index.dirty and time.time() - index.saved_at > self.autosave_s:
            self._save(index)

    def _save(self, index: DimIndex) -> None:
        if not self.persist or index.graph is None:
            index.dirty = False
            return
        path = self._path(index.dim)
        try:
            save_index(index.graph, path, self._manifest(index, index.generation, index.total))
            index.disk_bytes, index.saved_at, index.dirty = path.stat().st_size, time.time(), False
        except OSError as exc:  # a cache: searching goes on from memory
            log.warning("could not save the d=%d index to %s: %s", index.dim, path, exc)
