"""`qfinder search`/`status` while another connection writes (the app indexing): the WAL holds
pages the main file lacks, and a checkpoint may be half-way (page 1 copied, the rest not yet).
Readers must work in both states; a main file really cut short must still be called damaged."""

from __future__ import annotations

import json
import shutil

import pytest
from support.cli import cli

from qfinder.core.errors import IndexError_
from qfinder.core.library.library import Library
from qfinder.core.storage.catalog import Catalog

PAGE_SIZE_AT, PAGES_AT = 16, 28  # big-endian fields of the 100-byte SQLite header




def copy_page1_from_wal(db):
    """What a checkpoint does first: the newest page 1 (the header) into the main file."""
    wal = (db.parent / (db.name + "-wal")).read_bytes()
    page_size, salts = int.from_bytes(wal[8:12], "big"), wal[16:24]
    page1, offset = None, 32
    while offset + 24 + page_size <= len(wal):
        frame = wal[offset : offset + 24]
        if frame[8:16] == salts and int.from_bytes(frame[:4], "big") == 1:
            page1 = wal[offset + 24 : offset + 24 + page_size]
        offset += 24 + page_size
    assert page1 is not None, "the WAL holds no page 1"
    with open(db, "r+b") as fh:
        fh.write(page1)


def header_claims_more_than_file(db):
    header = db.read_bytes()[:100]
    page_size = int.from_bytes(header[PAGE_SIZE_AT : PAGE_SIZE_AT + 2], "big")
    return db.stat().st_size < int.from_bytes(header[PAGES_AT : PAGES_AT + 4], "big") * page_size


def read_status(capsys, data):
    code, out, err = cli(capsys, "status", "--json", "--data-dir", data)
    assert code == 0, err
    return json.loads(out)


def test_search_and_status_read_while_a_writer_holds_wal_pages(indexed, docs, capsys, tmp_path):
    db = indexed / "catalog.db"
    writer = Library.open(indexed, writer=True, load_model=False)  # the app, indexing
    try:
        writer.catalog._conn.execute("PRAGMA wal_autocheckpoint = 0")  # pages stay in the WAL
        root_id = writer.catalog.add_root(str(docs))
        with writer.catalog.write():
            for i in range(600):
                writer.catalog.upsert_file(f"{docs}/more/{'n' * 80}{i}.txt", root_id=root_id,
                                           size=1, mtime_ns=1, inode=i, kind="txt")
        assert (indexed / "catalog.db-wal").stat().st_size > 100 * 4096
        assert read_status(capsys, indexed)["files"] == 603
        copy_page1_from_wal(db)  # a checkpoint in progress, as a reader may see it
        assert header_claims_more_than_file(db)
        assert read_status(capsys, indexed)["files"] == 603
        code, out, err = cli(capsys, "search", "kayak", "--mode", "keyword", "--json", "--data-dir", indexed)
        assert code == 0, err
        assert json.loads(out)["results"][0]["path"] == str(docs / "boats.md")
        alone = tmp_path / "alone"  # the same main file without its WAL: really truncated
        alone.mkdir()
        shutil.copy(db, alone / "catalog.db")
        with pytest.raises(IndexError_) as info:
            Catalog(alone / "catalog.db", readonly=True)
        assert "damaged" in info.value.message and "truncated" in info.value.message
    finally:
        writer.close()
    assert read_status(capsys, indexed)["files"] == 603  # and after the writer's last checkpoint
