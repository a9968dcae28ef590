"""Vector indexes at any dimension: damaged files are rebuilt, never crash; funnel re-scoring."""

from __future__ import annotations

import json
import logging
import shutil
import threading
from pathlib import Path

import numpy as np
import pytest

from qfinder.core.errors import IndexError_
from qfinder.core.storage.catalog import Catalog, PipelineStamp
from qfinder.core.vectors.files import sha256_of
from qfinder.core.vectors.indexes import VectorIndexes

N = 1500  # above exact_below=500 below: a real hnswlib graph


@pytest.fixture(scope="module")
def template(
    tmp_path_factory, fill_catalog_module, spectrum_module
) -> tuple[Path, np.ndarray, np.ndarray]:
    """One filled catalog file per module; each test works on its own copy."""
    db = tmp_path_factory.mktemp("template") / "catalog.db"
    cat = Catalog(db)
    cat.reset_for_stamp(PipelineStamp("test-model", 64, 1))
    vectors = spectrum_module(np.random.default_rng(3), N, 64)
    ids = np.asarray(fill_catalog_module(cat, vectors, per_file=15))
    cat.close()
    return db, ids, vectors


@pytest.fixture
def filled(template, tmp_path: Path):
    db, ids, vectors = template
    (tmp_path / "data").mkdir()
    shutil.copy(db, tmp_path / "data" / "catalog.db")
    cat = Catalog(tmp_path / "data" / "catalog.db")
    yield cat, ids, vectors
    cat.close()


def _indexes(cat: Catalog, folder: Path, **kw) -> VectorIndexes:
    return VectorIndexes(cat, folder, exact_below=kw.pop("exact_below", 500), **kw)


def _exact_top(vectors: np.ndarray, ids: np.ndarray, query: np.ndarray, k: int) -> list[int]:
    return ids[np.argsort(-(vectors @ query))[:k]].tolist()


def _built(filled, folder: Path, dims=(16,)) -> VectorIndexes:
    cat, ids, vectors = filled
    vx = _indexes(cat, folder)
    for d in dims:
        assert vx.search(vectors[0], d, 5)[0][0] == ids[0]
    vx.close()
    return vx


def _rebuilt(filled, folder: Path, caplog, dim: int = 16) -> None:
    cat, ids, vectors = filled
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="qfinder.core.vectors.indexes"):
        vx = _indexes(cat, folder)
        hits = vx.search(vectors[7], dim, 10)
    assert hits[0][0] == ids[7] and len(hits) == 10
    assert any("rebuilding" in r.getMessage() for r in caplog.records)
    manifest = json.loads((folder / f"hnsw-d{dim}.json").read_text())
    assert manifest["sha256"] == sha256_of(folder / f"hnsw-d{dim}.bin")  # rewritten whole


def test_saved_index_is_reused_without_rebuild(filled, tmp_path: Path, caplog) -> None:
    folder = tmp_path / "idx"
    _built(filled, folder)
    cat, ids, vectors = filled
    with caplog.at_level(logging.INFO, logger="qfinder.core.vectors.indexes"):
        vx = _indexes(cat, folder)
        assert vx.search(vectors[3], 16, 3)[0][0] == ids[3]
    assert not any("rebuilding" in r.getMessage() for r in caplog.records)
    assert vx.costs()[0].kind == "hnsw" and vx.costs()[0].disk_bytes > 0


@pytest.mark.parametrize(
    "damage", ["truncate", "flip_body", "flip_header_resigned", "empty", "garbage_manifest"]
)
def test_damaged_file_is_detected_and_rebuilt(filled, tmp_path: Path, caplog, damage: str) -> None:
    folder = tmp_path / "idx"
    _built(filled, folder)
    path, meta = folder / "hnsw-d16.bin", folder / "hnsw-d16.json"
    data = bytearray(path.read_bytes())
    if damage == "truncate":
        path.write_bytes(data[: len(data) // 2])
    elif damage == "flip_body":
        data[len(data) // 2] ^= 0xFF
        path.write_bytes(data)
    elif damage == "flip_header_resigned":  # header says 2^40 elements; manifest "agrees" on sha
        data[16:24] = (1 << 40).to_bytes(8, "little")  # this header would segfault hnswlib
        path.write_bytes(data)
        manifest = json.loads(meta.read_text())
        meta.write_text(json.dumps({**manifest, "sha256": sha256_of(path)}))
    elif damage == "empty":
        path.write_bytes(b"")
    else:
        meta.write_text("{not json")
    _rebuilt(filled, folder, caplog)


@pytest.mark.parametrize("lie", ["all_deleted", "one_live_deleted", "unknown_deleted"])
def test_a_manifest_that_disagrees_with_the_catalog_is_rebuilt(filled, tmp_path: Path, caplog, lie: str) -> None:
    """Readable and signed right (the .bin's sha256 still matches), but its labels are wrong:
    loaded as is, semantic search would lose those chunks for good (labels are never reused)."""
    cat, ids, _ = filled
    folder = tmp_path / "idx"
    _built(filled, folder)
    meta = folder / "hnsw-d16.json"
    manifest = json.loads(meta.read_text())
    deleted = {"all_deleted": ids.tolist(), "one_live_deleted": [int(ids[7])],
               "unknown_deleted": [int(ids.max()) + 10]}[lie]
    meta.write_text(json.dumps({**manifest, "deleted": deleted}))
    _rebuilt(filled, folder, caplog)
    assert json.loads(meta.read_text())["deleted"] == []


def test_wrong_dimension_file_and_foreign_model(filled, tmp_path: Path, caplog) -> None:
    folder = tmp_path / "idx"
    _built(filled, folder, dims=(16, 32))
    shutil.copy(folder / "hnsw-d32.bin", folder / "hnsw-d16.bin")  # the d16 manifest stays
    _rebuilt(filled, folder, caplog)
    shutil.copy(folder / "hnsw-d32.bin", folder / "hnsw-d16.bin")
    shutil.copy(folder / "hnsw-d32.json", folder / "hnsw-d16.json")  # consistent pair, wrong d
    _rebuilt(filled, folder, caplog)
    manifest = json.loads((folder / "hnsw-d16.json").read_text())
    (folder / "hnsw-d16.json").write_text(json.dumps({**manifest, "model_id": "another-model"}))
    _rebuilt(filled, folder, caplog)


def test_missing_folder_and_unwritable_folder_on_save(filled, tmp_path: Path, caplog) -> None:
    cat, ids, vectors = filled
    folder = tmp_path / "gone" / "idx"
    vx = _indexes(cat, folder)
    assert vx.search(vectors[1], 16, 1)[0][0] == ids[1]
    assert (folder / "hnsw-d16.bin").exists()  # the folder was created, not silently skipped
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the index folder should be")
    with caplog.at_level(logging.WARNING, logger="qfinder.core.vectors.indexes"):
        vx2 = _indexes(cat, blocked / "idx")
        assert vx2.search(vectors[2], 16, 1)[0][0] == ids[2]  # searching goes on from memory
    assert any("could not save" in r.getMessage() for r in caplog.records)


def test_k_clamped_nan_rejected_and_bad_dims(
    catalog: Catalog, fill_catalog, spectrum, tmp_path: Path
) -> None:
    vectors = spectrum(np.random.default_rng(4), 40, 64)
    ids = fill_catalog(catalog, vectors)
    for exact_below in (10, 1000):  # graph and brute force
        vx = _indexes(catalog, tmp_path / f"i{exact_below}", exact_below=exact_below)
        hits = vx.search(vectors[0], 32, 500)
        assert len(hits) == 40 and sorted(c for c, _ in hits) == sorted(ids)
        for bad in (np.full(64, np.nan), np.zeros(64), np.ones(63)):
            with pytest.raises(IndexError_):
                vx.search(bad, 32, 5)
        for dim in (0, 65):
            with pytest.raises(IndexError_):
                vx.search(vectors[0], dim, 5)
    nan = vectors[0].copy()
    nan[3] = np.nan
    with pytest.raises(IndexError_):
        fill_catalog(catalog, nan[None, :], root="/nan")


def test_empty_catalog_and_no_stamp(tmp_path: Path) -> None:
    cat = Catalog(tmp_path / "c.db")
    vx = VectorIndexes(cat, tmp_path / "idx")
    with pytest.raises(IndexError_):
        vx.search(np.ones(8), 8, 3)
    cat.reset_for_stamp(PipelineStamp("m", 8, 1))
    assert vx.search(np.ones(8), 4, 3) == []
    cat.close()


def test_rerank_improves_recall_at_low_dimension(
    catalog: Catalog, fill_catalog, spectrum, tmp_path: Path
) -> None:
    rng = np.random.default_rng(5)
    vectors = spectrum(rng, 3000, 64, decay=1.0)
    ids = np.asarray(fill_catalog(catalog, vectors, per_file=50))
    queries = spectrum(rng, 40, 64, decay=1.0)
    vx = _indexes(catalog, tmp_path / "idx", exact_below=100_000)  # exact at d: isolates the funnel
    raw = rer = 0.0
    for q in queries:
        truth = set(_exact_top(vectors, ids, q, 10))
        raw += len(truth & {c for c, _ in vx.search(q, 16, 10, rerank=False)}) / 10
        found = vx.search_with_stats(q, 16, 10, rerank=True, oversample=8)
        rer += len(truth & {c for c, _ in found.hits}) / 10
        assert found.stats.exact and found.stats.reranked
    raw, rer = raw / len(queries), rer / len(queries)
    assert rer >= 0.9 and rer > raw + 0.2, (raw, rer)
    full = vx.search(queries[0], 64, 10)
    assert [c for c, _ in full] == _exact_top(vectors, ids, queries[0], 10)
    assert [s for _, s in full] == sorted((s for _, s in full), reverse=True)


def test_deletions_sync_compaction_and_reload(
    filled, tmp_path: Path, fill_catalog, spectrum
) -> None:
    cat, ids, vectors = filled
    folder = tmp_path / "idx"
    vx = _indexes(cat, folder)
    vx.search(vectors[0], 16, 5)
    cat.delete_file("/r/f0.txt")  # 15 chunks: 1 %, mark_deleted
    hits = vx.search(vectors[0], 16, 20)
    assert ids[0] not in {c for c, _ in hits} and vx.costs()[0].deleted == 15
    vx.save()
    reloaded = _indexes(cat, folder)  # deleted labels survive the round trip
    assert ids[0] not in {c for c, _ in reloaded.search(vectors[0], 16, 20)}
    new = spectrum(np.random.default_rng(9), 30, 64)
    new_ids = fill_catalog(cat, new, root="/new")
    assert reloaded.search(new[4], 16, 1)[0][0] == new_ids[4]  # incremental add
    cat.delete_prefix("/r")  # most of it: compacting rebuild (below exact_below -> brute force)
    reloaded.search(new[0], 16, 5)
    cost = reloaded.costs()[0]
    assert (cost.deleted, cost.count, cost.kind) == (0, 30, "exact")


def test_concurrent_add_and_query_do_not_crash(
    filled, tmp_path: Path, fill_catalog, spectrum
) -> None:
    cat, ids, vectors = filled
    vx = _indexes(cat, tmp_path / "idx")
    vx.search(vectors[0], 16, 5)
    errors: list[BaseException] = []

    def query_loop() -> None:
        try:
            for i in range(150):
                assert vx.search(vectors[i % N], 16, 10)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=query_loop) for _ in range(2)]
    for t in threads:
        t.start()
    rng = np.random.default_rng(11)
    for i in range(15):
        fill_catalog(cat, spectrum(rng, 20, 64), root=f"/t{i}")
        vx.ensure(16)
    for t in threads:
        t.join(60)
    assert not errors
    assert vx.costs()[0].count == N + 300


def test_costs_and_estimates(filled, tmp_path: Path) -> None:
    cat, _, vectors = filled
    vx = _indexes(cat, tmp_path / "idx")
    estimate = vx.estimate(256 // 4)
    assert estimate.kind == "hnsw" and estimate.count == N and estimate.ram_bytes > N * 64 * 4
    vx.search(vectors[0], 32, 5)
    (cost,) = vx.costs()
    assert (
        cost.dim == 32
        and cost.build_s > 0
        and cost.last_query_ms is not None
        and cost.last_rerank_ms is not None
    )
    assert cost.ram_bytes < vx.estimate(64).ram_bytes


def test_graph_of_another_catalog_is_never_used(
    filled, tmp_path: Path, caplog, fill_catalog, spectrum
) -> None:
    folder = tmp_path / "idx"
    _built(filled, folder)  # graph saved for catalog A
    other = Catalog(tmp_path / "other" / "catalog.db")  # e.g. A was damaged and started afresh
    other.reset_for_stamp(PipelineStamp("test-model", 64, 1))  # same model, same chunk ids
    vectors = spectrum(np.random.default_rng(21), N, 64)
    ids = fill_catalog(other, vectors, per_file=15)
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="qfinder.core.vectors.indexes"):
        vx = _indexes(other, folder)
        assert vx.search(vectors[5], 16, 1, rerank=False)[0][0] == ids[5]
    assert any("catalog_uid" in r.getMessage() for r in caplog.records)
    other.close()


def test_off_thread_build_is_adopted_and_saved_files_are_owned_by_the_indexes(
    filled, tmp_path: Path, fill_catalog
) -> None:
    cat, ids, vectors = filled
    folder = tmp_path / "idx"
    serving = _indexes(cat, folder)
    assert not serving.has(16) and serving.saved_dims() == {}
    reader = Catalog(cat.path, readonly=True)  # the builder's own connection, as on a thread
    try:
        built = _indexes(reader, folder).build(16)
    finally:
        reader.close()
    assert not serving.has(16) and set(serving.saved_dims()) == {16}  # built and saved, not kept
    more = np.random.default_rng(9).standard_normal((10, 64)).astype(np.float32)
    more /= np.linalg.norm(more, axis=1, keepdims=True)
    new_ids = fill_catalog(cat, more, root="/late")  # written while it was being built
    serving.adopt(built)
    assert serving.has(16) and serving.costs()[0].kind == "hnsw"
    assert serving.search(more[2], 16, 1)[0][0] == new_ids[2]  # synced on use, not rebuilt
    assert serving.search(vectors[4], 16, 1)[0][0] == ids[4]
    assert serving.costs()[0].build_s == built.build_s
    serving.delete_saved()
    assert not serving.has(16) and serving.saved_dims() == {} and not list(folder.glob("hnsw-d*"))
