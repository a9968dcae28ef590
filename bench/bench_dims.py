"""Dimension sweep of qfinder's vector search (the dimension slider's trade-off).

For each d: recall@10 against exact full-size search, without and with the full-size re-score
(the MRL funnel), ANN latency p50/p95, re-score latency, index RAM (estimate) and disk size,
build time. Baseline in the same run: exact numpy brute force at full size.

    python3 bench/bench_dims.py                       # 50k synthetic MRL-like vectors, 1024-d
    python3 bench/bench_dims.py --n 20000 --dims 64 256
    python3 bench/bench_dims.py --catalog ~/.local/share/qfinder/catalog.db   # real vectors
    python3 bench/bench_dims.py --model ../shared/models/multilingual-e5-small-q4 \
        --collections ../shared/data/cisi ../shared/data/xquad/en --dims 32 64 128 256 384

Synthetic vectors: clustered, with a decaying per-dimension spectrum (variance ∝ 1/(i+1)^decay),
so the leading dimensions carry most of the information, as in a Matryoshka-trained model.
Queries are held-out points near corpus points (same distribution), run through the real code
path: SQLite catalog (float16 vectors) → VectorIndexes (hnswlib) → re-score (from the
memory-mapped float16 store, qfinder.core.vectors.rescore_store).
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from qfinder.core.indexing.chunking import Chunk, chunk_hash
from qfinder.core.storage.catalog import Catalog, PipelineStamp
from qfinder.core.vectors.indexes import VectorIndexes, auto_oversample


def synthetic(
    n: int, dim: int, queries: int, decay: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    scale = ((np.arange(dim) + 1.0) ** (-decay / 2)).astype(np.float32)
    centers = rng.standard_normal((max(n // 20, 1), dim)).astype(np.float32) * scale
    member = rng.integers(0, len(centers), n + queries)
    points = (
        centers[member] + 1.0 * rng.standard_normal((n + queries, dim)).astype(np.float32) * scale
    )
    points /= np.linalg.norm(points, axis=1, keepdims=True)
    return points[:n], points[n:]


def real_vectors(
    model: Path, collections: list[Path], chunk_tokens: int
) -> tuple[np.ndarray, np.ndarray]:
    """Embed BEIR-layout collections (corpus.jsonl chunked, queries.jsonl) with a real model."""
    from qfinder.core.indexing.chunking import chunk_text
    from qfinder.core.model.embedder import Embedder

    emb = Embedder.from_folder(model, provider="cpu")
    texts, queries = [], []
    for folder in collections:
        for line in (folder / "corpus.jsonl").read_text(encoding="utf-8").splitlines():
            doc = json.loads(line)
            body = f"{doc.get('title', '')}\n{doc.get('text', '')}".strip()
            texts += [
                c.text for c in chunk_text(body, emb, size=chunk_tokens, overlap=16)
            ]
        queries += [
            json.loads(x)["text"]
            for x in (folder / "queries.jsonl").read_text(encoding="utf-8").splitlines()
        ]
    start = time.perf_counter()
    corpus = emb.embed_documents(texts)
    print(
        f"embedded {len(texts)} chunks + {len(queries)} queries with {emb.info.name} "
        f"({emb.info.full_dim}-d) in {time.perf_counter() - start:.0f} s"
    )
    return corpus, emb.embed_queries(queries)


def fill_catalog(db: Path, vectors: np.ndarray, model_id: str = "bench-synthetic") -> Catalog:
    cat = Catalog(db)
    cat.reset_for_stamp(PipelineStamp(model_id, vectors.shape[1], 1))
    root = cat.add_root("/bench")
    per_file = 50
    for first in range(0, len(vectors), 5000):
        with cat.write():
            for start in range(first, min(first + 5000, len(vectors)), per_file):
                fid, _ = cat.upsert_file(
                    f"/bench/f{start}.txt", root_id=root, size=1, mtime_ns=1, inode=start
                )
                items = [
                    (Chunk(f"c{i}", 0, 2, None, 1, chunk_hash(f"c{i}")), vectors[i])
                    for i in range(start, min(start + per_file, len(vectors)))
                ]
                cat.replace_file_chunks(fid, items)
    return cat


def exact_truth(cat: Catalog, queries: np.ndarray, k: int) -> tuple[list[set[int]], list[float]]:
    """Exact full-size top-k over the stored (float16) vectors, and its latency per query."""
    ids_blocks, vec_blocks = zip(*cat.iter_vectors(), strict=True)
    ids, matrix = np.concatenate(ids_blocks), np.vstack(vec_blocks)
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
    truth, times = [], []
    for q in queries:
        start = time.perf_counter()
        scores = matrix @ q
        top = np.argpartition(-scores, k)[:k]
        times.append((time.perf_counter() - start) * 1000)
        truth.append(set(ids[top].tolist()))
    return truth, times


def sweep(
    cat: Catalog,
    folder: Path,
    dims: list[int],
    queries: np.ndarray,
    k: int,
    oversample: int,
    ef_search: int,
) -> None:
    truth, base_ms = exact_truth(cat, queries, k)
    base_p50 = float(np.percentile(base_ms, 50))
    print(
        f"baseline exact full-size brute force: p50 {base_p50:.2f} ms, p95 {np.percentile(base_ms, 95):.2f} ms"
    )
    print(
        f"{'d':>5} {'raw':>6} {f'rs x{oversample}':>7} {'rs auto':>7} {'(x)':>4} {'ANN p50':>8} {'p95':>7} "
        f"{'rescore':>8} {'total':>7} {'/exact':>7} {'RAM MB':>7} {'disk MB':>7} {'build s':>8}"
    )
    for dim in dims:
        vx = VectorIndexes(cat, folder, exact_below=0, persist=True, ef_search=ef_search)
        vx.ensure(dim)
        hits = {"raw": 0, "fixed": 0, "auto": 0}
        ann, rescore, total = [], [], []
        for q, want in zip(queries, truth, strict=True):
            hits["raw"] += len(want & {c for c, _ in vx.search(q, dim, k, rerank=False)})
            hits["fixed"] += len(want & {c for c, _ in vx.search(q, dim, k, oversample=oversample)})
            start = time.perf_counter()
            found = vx.search_with_stats(q, dim, k)
            total.append((time.perf_counter() - start) * 1000)
            hits["auto"] += len(want & {c for c, _ in found.hits})
            stats = found.stats
            ann.append(stats.ann_ms)
            rescore.append(stats.rerank_ms)
        (cost,) = vx.costs()
        n = len(queries) * k
        p50 = float(np.percentile(total, 50))
        print(
            f"{dim:>5} {hits['raw'] / n:>6.3f} {hits['fixed'] / n:>7.3f} {hits['auto'] / n:>7.3f} "
            f"{auto_oversample(dim, queries.shape[1]):>4} {np.percentile(ann, 50):>8.3f} {np.percentile(ann, 95):>7.3f} "
            f"{np.percentile(rescore, 50):>8.3f} {p50:>7.3f} {p50 / base_p50:>6.2f}x "
            f"{cost.ram_bytes / 2**20:>7.1f} {cost.disk_bytes / 2**20:>7.1f} {cost.build_s:>8.2f}"
        )
        vx.close()
    store = folder / "rescore-f16.bin"  # qfinder.core.vectors.rescore_store: shared by every d
    if store.exists():
        print(f"re-score store: {store.stat().st_size / 2**20:.1f} MB of float16, memory-mapped")
    print(
        "raw: ANN at d only; rs: + full-size re-score of k*oversample candidates (x4 fixed, or auto);"
    )
    print(
        "latencies in ms (auto re-score path); total = whole search() call; /exact = vs the baseline"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=50_000)
    parser.add_argument("--full-dim", type=int, default=1024)
    parser.add_argument("--dims", type=int, nargs="+", default=[32, 64, 128, 256, 512, 1024])
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--oversample", type=int, default=4)
    parser.add_argument("--decay", type=float, default=1.0)
    parser.add_argument(
        "--catalog", type=Path, help="use the vectors of an existing qfinder catalog"
    )
    parser.add_argument(
        "--model", type=Path, help="embed --collections with this model folder (real vectors)"
    )
    parser.add_argument(
        "--collections", type=Path, nargs="*", default=[], help="BEIR-layout folders"
    )
    parser.add_argument("--chunk-tokens", type=int, default=128)
    parser.add_argument(
        "--ef", type=int, default=200, help="ef_search (VectorIndexes default: 200)"
    )
    parser.add_argument(
        "--work", type=Path, help="keep the synthetic catalog and graphs here (reused)"
    )
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="qfinder-bench-"))
    try:
        cat, queries = load_vectors(args, work)
        print(f"k={args.k}, M=16, ef_construction=200, ef_search={args.ef}, {len(queries)} queries")
        dims = [d for d in args.dims if d <= queries.shape[1]]
        sweep(cat, work / "indexes", dims, queries, args.k, args.oversample, args.ef)
        cat.close()
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)


def load_vectors(args: argparse.Namespace, work: Path) -> tuple[Catalog, np.ndarray]:
    if args.catalog:
        cat = Catalog(args.catalog, readonly=True)
        ids = cat.all_vector_ids()
        rng = np.random.default_rng(0)
        pick = rng.choice(ids, size=min(args.queries, ids.size), replace=False)
        _, queries = cat.vectors(pick.tolist())  # corpus vectors as queries (noise added)
        queries += 0.05 * rng.standard_normal(queries.shape).astype(np.float32)
        queries /= np.linalg.norm(queries, axis=1, keepdims=True)
        print(f"catalog {args.catalog}: {ids.size} vectors, full dim {queries.shape[1]}")
        return cat, queries
    if args.model:
        corpus, queries = real_vectors(args.model, args.collections, args.chunk_tokens)
        cat = fill_catalog(work / "catalog.db", corpus, model_id=str(args.model))
        print(
            f"real vectors: {len(corpus)} chunks, {len(queries)} real queries (full dim {corpus.shape[1]})"
        )
        return cat, queries
    start = time.perf_counter()
    corpus, queries = synthetic(args.n, args.full_dim, args.queries, args.decay, seed=1)
    if (work / "catalog.db").exists():
        cat = Catalog(work / "catalog.db")
    else:
        cat = fill_catalog(work / "catalog.db", corpus)
    print(
        f"synthetic: {args.n} vectors, {args.full_dim}-d, decay {args.decay}, "
        f"catalog ready in {time.perf_counter() - start:.1f} s"
    )
    return cat, queries


if __name__ == "__main__":
    main()
