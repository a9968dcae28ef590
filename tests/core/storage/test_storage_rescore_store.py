"""The re-score store equals the SQLite-based exact re-score after adds, deletes and reopens;
damaged or stale store files are detected and rebuilt, never a crash."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pytest

from qfinder.core.storage.catalog import Catalog
from qfinder.core.vectors.indexes import VectorIndexes
from qfinder.core.vectors.rescore_store import STORE_NAME, RescoreStore

DIM = 64


def _sqlite_rescore(cat: Catalog, labels: np.ndarray, query: np.ndarray):
    found, full = cat.vectors(labels.tolist())
    full /= np.linalg.norm(full, axis=1, keepdims=True)
    scores = full @ query
    order = np.argsort(-scores, kind="stable")
    return found[order], scores[order]


def _check(store: RescoreStore, cat: Catalog, seed: int = 0) -> None:
    """Same ids and scores (1e-3) as reading the candidates from SQLite, deleted ids included."""
    rng = np.random.default_rng(seed)
    query = rng.standard_normal(DIM).astype(np.float32)
    query /= np.linalg.norm(query)
    live = cat.all_vector_ids()
    labels = rng.choice(live, size=min(200, live.size), replace=False)
    labels = np.concatenate([labels, [live.max() + 10, 1]])  # unknown / maybe deleted ids
    got_ids, got_scores = store.rescore(labels.astype(np.int64), query)
    want_ids, want_scores = _sqlite_rescore(cat, labels, query)
    assert set(got_ids.tolist()) == set(want_ids.tolist())
    np.testing.assert_allclose(got_scores, want_scores, atol=1e-3)
    assert got_ids[:5].tolist() == want_ids[:5].tolist()


def _sync(store: RescoreStore, cat: Catalog) -> None:
    store.sync(cat, "test-model", DIM, autosave_s=300.0)


def _store(folder: Path, cat: Catalog, caplog, *, rebuilt: bool, **kw) -> RescoreStore:
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="qfinder.core.vectors.rescore_store"):
        store = RescoreStore(folder, **kw)
        _sync(store, cat)
    assert any("rebuilding" in r.getMessage() for r in caplog.records) == rebuilt
    return store


@pytest.fixture
def filled(catalog, spectrum, fill_catalog, tmp_path: Path):
    fill_catalog(catalog, spectrum(np.random.default_rng(1), 600, DIM), per_file=20)
    return catalog, tmp_path / "indexes"


def test_matches_sqlite_after_adds_deletes_and_reopen(filled, spectrum, fill_catalog, caplog):
    cat, folder = filled
    store = _store(folder, cat, caplog, rebuilt=True)  # no file yet
    _check(store, cat)
    fill_catalog(cat, spectrum(np.random.default_rng(2), 300, DIM), root="/s", start=100)
    _sync(store, cat)
    assert cat.delete_file("/r/f3.txt") and cat.delete_file("/s/f101.txt")
    _sync(store, cat)
    assert store.tail.shape[0] == 300 and store.dead == 30  # 20 + 10 chunks
    _check(store, cat, seed=1)
    store.save()
    reopened = _store(folder, cat, caplog, rebuilt=False)  # loaded, memory-mapped
    assert isinstance(reopened.base, np.memmap) and reopened.rows == 900
    _check(reopened, cat, seed=2)
    # changes after a reopen: appended after the saved rows, which never change
    fill_catalog(cat, spectrum(np.random.default_rng(3), 50, DIM), root="/t", start=200)
    cat.delete_file("/r/f0.txt")
    _sync(reopened, cat)
    _check(reopened, cat, seed=3)
    reopened.save()
    third = _store(folder, cat, caplog, rebuilt=False)
    _check(third, cat, seed=4)
    # unsaved changes (a crash): the older saved state is synced forward
    cat.delete_file("/r/f1.txt")
    fill_catalog(cat, spectrum(np.random.default_rng(4), 20, DIM), root="/u", start=300)
    _check(_store(folder, cat, caplog, rebuilt=False), cat, seed=5)


def test_compaction_rewrites_the_file(filled, caplog):
    cat, folder = filled
    store = _store(folder, cat, caplog, rebuilt=True, compact_min=0)
    for i in range(10):  # 200 of 600 deleted: past 20 %
        cat.delete_file(f"/r/f{i}.txt")
    _sync(store, cat)
    assert store.dead == 0 and store.rows == 400
    _check(store, cat)
    _check(_store(folder, cat, caplog, rebuilt=False), cat, seed=1)


def _damage_data(folder: Path) -> None:
    path = folder / f"{STORE_NAME}.bin"
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    path.write_bytes(bytes(raw))


def _manifest_edit(**changes):
    def edit(folder: Path) -> None:
        path = folder / f"{STORE_NAME}.json"
        path.write_text(json.dumps({**json.loads(path.read_text()), **changes}))

    return edit


DAMAGES = {
    "flipped byte": _damage_data,
    "truncated data": lambda f: (f / f"{STORE_NAME}.bin").write_bytes(b"\0" * 100),
    "missing data": lambda f: (f / f"{STORE_NAME}.bin").unlink(),
    "garbage manifest": lambda f: (f / f"{STORE_NAME}.json").write_text("{not json"),
    "missing manifest": lambda f: (f / f"{STORE_NAME}.json").unlink(),
    "ids file garbage": lambda f: (f / f"{STORE_NAME}.ids.npy").write_bytes(b"junk"),
    "other catalog": _manifest_edit(catalog_uid="someone-else"),
    "other model": _manifest_edit(model_id="other"),
    "generation ahead": _manifest_edit(generation=10**9),
    "manifest fields": _manifest_edit(rows="x", extra=1),
}


@pytest.mark.parametrize("damage", DAMAGES.values(), ids=DAMAGES.keys())
def test_damaged_or_stale_files_are_rebuilt(filled, caplog, damage):
    cat, folder = filled
    _store(folder, cat, caplog, rebuilt=True)
    damage(folder)
    _check(_store(folder, cat, caplog, rebuilt=True), cat)
    _check(_store(folder, cat, caplog, rebuilt=False), cat)  # and saved sound again


def test_reader_writes_nothing(filled, caplog):
    cat, folder = filled
    store = _store(folder, cat, caplog, rebuilt=True, persist=False)
    _check(store, cat)
    store.save()
    assert not folder.exists() or not any(folder.iterdir())


def test_vector_indexes_rescore_through_the_store(filled):
    cat, folder = filled
    vx = VectorIndexes(cat, folder, exact_below=0)
    query = cat.vectors([cat.all_vector_ids()[5]])[1][0]
    hits = vx.search(query, 16, 10)
    want_ids, want_scores = _sqlite_rescore(
        cat, np.asarray([c for c, _ in vx.search(query, 16, 640, rerank=False)]), query
    )
    assert [c for c, _ in hits] == want_ids[:10].tolist()
    np.testing.assert_allclose([s for _, s in hits], want_scores[:10], atol=1e-3)
    vx.close()
    assert (folder / f"{STORE_NAME}.bin").exists()
    on_disk = sum(p.stat().st_size for p in folder.glob(f"{STORE_NAME}*"))
    assert vx.rescore_bytes() == on_disk >= len(cat.all_vector_ids()) * cat.stamp().full_dim * 2
    vx.delete_saved()
    assert not list(folder.glob(f"{STORE_NAME}*")) and vx.rescore_bytes() == 0


def test_unwritable_folder_keeps_rows_in_memory(filled, spectrum, fill_catalog, caplog):
    cat, folder = filled
    blocker = folder.parent / "blocker"
    blocker.write_text("a file where the index folder should go")
    store = _store(blocker / "indexes", cat, caplog, rebuilt=True)
    assert not store.on_disk and any("could not write" in r.getMessage() for r in caplog.records)
    fill_catalog(cat, spectrum(np.random.default_rng(5), 30, DIM), root="/v", start=400)
    _sync(store, cat)
    store.save()  # nothing to write to: no error, rows stay in memory
    _check(store, cat)
