"""WAL + BEGIN IMMEDIATE: readers in other processes never block or corrupt the one writer."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from qfinder.core.errors import IndexError_
from qfinder.core.indexing.chunking import Chunk, chunk_hash
from qfinder.core.storage.catalog import Catalog

READER = r"""
import sys
from qfinder.core.storage.catalog import Catalog
cat = Catalog(sys.argv[1], readonly=True)
conn = cat._conn
print("ready", cat.counts().chunks, flush=True)
sys.stdin.readline()                      # "hold": open a read transaction and keep it
conn.execute("BEGIN")
print("held", conn.execute("SELECT count(*) FROM chunks").fetchone()[0], flush=True)
sys.stdin.readline()                      # "check": same snapshot while the writer committed
print("snapshot", conn.execute("SELECT count(*) FROM chunks").fetchone()[0], flush=True)
conn.execute("COMMIT")
print("after", cat.counts().chunks, len(cat.fts_search("chunk", 1000)), cat.generation(), flush=True)
for _ in range(200):                      # read hard while the writer keeps writing
    cat.counts(); cat.fts_search("chunk", 5); cat.all_vector_ids()
print("done", flush=True)
"""


def _ask(proc: subprocess.Popen, say: str | None) -> list[str]:
    if say is not None:
        proc.stdin.write(say + "\n")
        proc.stdin.flush()
    return proc.stdout.readline().split()


def test_reader_process_neither_blocks_nor_sees_half_writes(
    catalog: Catalog, fill_catalog, spectrum
) -> None:
    rng = np.random.default_rng(1)
    fill_catalog(catalog, spectrum(rng, 30, 64))
    proc = subprocess.Popen(
        [sys.executable, "-c", READER, str(catalog.path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert _ask(proc, None) == ["ready", "30"]
        assert _ask(proc, "hold") == ["held", "30"]
        started = time.perf_counter()
        fill_catalog(
            catalog, spectrum(rng, 20, 64), root="/more", start=50
        )  # while the reader holds
        assert (
            time.perf_counter() - started < 5
        )  # not stuck behind the reader (busy_timeout is 10 s)
        assert _ask(proc, "check") == ["snapshot", "30"]
        assert _ask(proc, None) == ["after", "50", "50", str(catalog.generation())]
        for i in range(20):  # keep writing while the reader loops
            fill_catalog(catalog, spectrum(rng, 5, 64), root=f"/w{i}", start=100 + i)
        assert _ask(proc, None) == ["done"]
        assert proc.wait(timeout=60) == 0
    finally:
        proc.kill()
        proc.wait()
    assert catalog._conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_second_writer_waits_instead_of_failing(tmp_path: Path, catalog: Catalog) -> None:
    other = Catalog(catalog.path)
    entered, release, done = threading.Event(), threading.Event(), threading.Event()

    def hold_write() -> None:
        with catalog.write():
            catalog.add_root("/first")
            entered.set()
            release.wait(10)

    holder = threading.Thread(target=hold_write)
    holder.start()
    entered.wait(10)
    waiter = threading.Thread(target=lambda: (other.add_root("/second"), done.set()))
    waiter.start()
    assert not done.wait(0.3)  # blocked on BEGIN IMMEDIATE, not failed
    release.set()
    holder.join(10)
    waiter.join(10)
    assert done.is_set()
    assert [r.path for r in other.roots()] == ["/first", "/second"]
    other.close()


def test_failed_write_rolls_back_whole_transaction(catalog: Catalog) -> None:
    try:
        with catalog.write():
            catalog.add_root("/a")
            catalog.add_root("/b")
            raise RuntimeError("crash in the middle of a batch")
    except RuntimeError:
        pass
    assert catalog.roots() == []


def test_writer_busy_past_timeout_is_a_clear_error(catalog: Catalog, monkeypatch) -> None:
    import qfinder.core.storage.schema as schema

    monkeypatch.setattr(schema, "BUSY_TIMEOUT_MS", 50)
    other = Catalog(catalog.path)
    with catalog.write():
        catalog.add_root("/holder")
        with pytest.raises(IndexError_) as info:
            other.add_root("/late")
    assert "busy" in str(info.value) and info.value.hint
    other.add_root("/late")  # fine once the first writer is done
    assert [r.path for r in other.roots()] == ["/holder", "/late"]
    other.close()


def test_chunks_for_a_vanished_file_are_not_stored(
    catalog: Catalog, fill_catalog, spectrum
) -> None:
    fill_catalog(catalog, spectrum(np.random.default_rng(2), 10, 64))
    row = catalog.file("/r/f0.txt")
    assert row is not None
    catalog.delete_file(row.path)
    chunk = Chunk("late text", 0, 9, None, 1, chunk_hash("late text"))
    assert (
        catalog.replace_file_chunks(row.id, [(chunk, spectrum(np.random.default_rng(3), 1, 64)[0])])
        is False
    )
    assert catalog.counts().chunks == 0 and catalog.fts_search("late", 5) == []
