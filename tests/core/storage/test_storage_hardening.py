"""The catalog under damage and full disks: a damaged page is confirmed before it is called
damage, the writer sets the file aside keeping its folders and vectors, and the WAL gives its
space back after a failed write and when indexing has caught up."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pytest
from support.damage import flip_page_of

from qfinder.core.errors import IndexError_
from qfinder.core.storage.catalog import Catalog, PipelineStamp
from qfinder.core.storage.recovery import CatalogDamaged

FULL_DIM = 64  # as in conftest.py
STAMP = PipelineStamp("test-model", FULL_DIM, 1)


@pytest.fixture
def more(fill_catalog, spectrum):
    """more(cat, n, root): n more chunks under `root`."""
    def add(cat: Catalog, n: int, root: str) -> None:
        fill_catalog(cat, spectrum(np.random.default_rng(n), n, FULL_DIM), root=root)
    return add


@pytest.fixture
def filled_db(tmp_path: Path, more) -> tuple[Path, dict[str, np.ndarray]]:
    """A closed catalog of 40 chunks under root /r; returns its path and {chunk hash: vector}."""
    db = tmp_path / "data" / "catalog.db"
    cat = Catalog(db)
    cat.reset_for_stamp(STAMP)
    more(cat, 40, "/r")
    hashes = [row.hash for row in cat.chunks(cat.all_vector_ids().tolist()).values()]
    stored = cat.cached_vectors(hashes)
    cat.close()
    return db, stored


def _damage_confirmed_by_a_reader(db: Path) -> None:
    """Flip a page of the keyword index (opening does not read it); a reader's query then
    finds the damage, confirmed by quick_check."""
    flip_page_of(db, "chunks_fts_idx")
    reader = Catalog(db, readonly=True)
    with pytest.raises(CatalogDamaged):
        reader.fts_search("chunk")
    reader.close()


def test_a_damaged_page_is_confirmed_then_set_aside_keeping_folders_and_vectors(filled_db):
    db, stored = filled_db
    _damage_confirmed_by_a_reader(db)
    writer = Catalog(db)
    try:
        assert writer.recovery is not None and writer.recovery.kept_at.exists()
        assert (writer.recovery.roots_kept, writer.recovery.vectors_kept) == (1, 40)
        assert [root.path for root in writer.roots()] == ["/r"] and writer.stamp() == STAMP
        assert writer.counts().files == 0  # rebuilt from the files, not copied
        again = writer.cached_vectors(stored)
        assert set(again) == set(stored)
        assert all(np.array_equal(again[h], stored[h]) for h in stored)
        writer.settle()  # indexing caught up: the kept copies are no longer needed
        assert writer.cached_vectors(stored) == {}
    finally:
        writer.close()


def test_a_sound_catalog_is_not_set_aside(filled_db):
    db, _ = filled_db
    writer = Catalog(db)
    assert writer.recovery is None and writer.counts().chunks == 40
    writer.close()


def _wal_bytes(db: Path) -> int:
    wal = Path(f"{db}-wal")
    return wal.stat().st_size if wal.exists() else 0


def test_the_wal_is_truncated_after_a_write_fails_for_want_of_space(filled_db, more):
    db, _ = filled_db
    cat = Catalog(db)
    try:
        more(cat, 41, "/s")
        assert _wal_bytes(db) > 0
        pages = cat._conn.execute("PRAGMA page_count").fetchone()[0]
        cat._conn.execute(f"PRAGMA max_page_count = {pages}")  # the disk is full from here
        with pytest.raises(IndexError_) as info:
            more(cat, 200, "/t")
        assert _wal_bytes(db) == 0
        assert "full" in info.value.message and "damaged" not in str(info.value)
    finally:
        cat.close()


def test_the_wal_is_truncated_when_indexing_has_caught_up(filled_db, more):
    db, _ = filled_db
    cat = Catalog(db)
    try:
        more(cat, 40, "/s")
        assert _wal_bytes(db) > 0
        cat.settle()
        assert _wal_bytes(db) == 0
        assert cat.counts().chunks == 80  # checkpointed, not lost
    finally:
        cat.close()


def test_a_refused_query_is_not_damage(filled_db):
    db, _ = filled_db
    reader = Catalog(db, readonly=True)
    try:
        with pytest.raises(IndexError_) as info:
            reader._all("SELECT " + " + ".join(["1"] * 1500))  # deeper than SQLite allows
        assert not isinstance(info.value, CatalogDamaged) and "damaged" not in str(info.value)
    finally:
        reader.close()
    assert sqlite3.connect(db).execute("PRAGMA quick_check").fetchone() == ("ok",)


def test_a_folder_whose_name_is_not_utf8_survives_the_rebuild(tmp_path: Path, more):
    odd = "/r/bad\udcff\udcfename"  # os.fsdecode(b"/r/bad\xff\xfename")
    db = tmp_path / "data" / "catalog.db"
    cat = Catalog(db)
    cat.reset_for_stamp(STAMP)
    cat.add_root(odd)
    more(cat, 10, "/r")
    cat.close()
    _damage_confirmed_by_a_reader(db)
    writer = Catalog(db)
    try:
        assert writer.recovery is not None
        assert {root.path for root in writer.roots()} == {odd, "/r"}
    finally:
        writer.close()
