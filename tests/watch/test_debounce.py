"""Coalescing rules of the debouncer, driven directly (no filesystem)."""

from __future__ import annotations

import threading

import pytest
from support.gate import ManualClock

from qfinder.watch import ChangeBatch, Debouncer


def _run(notes: list[tuple[str, str]], quiet_s: float = 0.05) -> ChangeBatch:
    # The debouncer's clock stands still while the notes go in, so they are one burst however
    # slowly this machine runs them; moving it past the quiet period makes the batch due.
    clock, got, done = ManualClock(), [], threading.Event()

    def sink(batch: ChangeBatch) -> None:
        got.append(batch)
        done.set()

    deb = Debouncer(sink, quiet_s=quiet_s, max_delay_s=5.0, clock=clock)
    deb.start()
    try:
        for kind, path in notes:
            getattr(deb, f"note_{kind}")(path)
        assert not got
        clock.advance(quiet_s)
        assert done.wait(10.0)
    finally:
        deb.stop()
    assert len(got) == 1
    return got[0]


def test_repeated_changes_coalesce_into_one_entry():
    batch = _run([("changed", "/r/a")] * 50)
    assert batch.changed == ("/r/a",)


def test_change_after_removal_wins_and_removal_after_change_wins():
    batch = _run([("removed", "/r/a"), ("changed", "/r/a"), ("changed", "/r/b"), ("removed", "/r/b")])
    assert batch.changed == ("/r/a",)
    assert batch.removed == ("/r/b",)


def test_folder_removal_swallows_everything_below_it():
    batch = _run([("changed", "/r/d/x"), ("removed", "/r/d/y"), ("scan_folder", "/r/d/sub"),
                  ("removed_folder", "/r/d/sub2"), ("removed_folder", "/r/d"), ("changed", "/r/dd")])
    assert batch.removed_prefixes == ("/r/d",)
    assert batch.changed == ("/r/dd",)
    assert batch.removed == () and batch.scan_folders == ()


def test_folder_deleted_then_recreated_is_removed_then_scanned():
    batch = _run([("removed_folder", "/r/d"), ("scan_folder", "/r/d"), ("changed", "/r/d/x")])
    assert batch.removed_prefixes == ("/r/d",)
    assert batch.scan_folders == ("/r/d",)
    assert batch.changed == ()  # the scan covers it


def test_a_file_that_never_stops_changing_is_flushed_by_max_delay():
    clock, flushed_at, flushed = ManualClock(), [], threading.Event()
    got: list[ChangeBatch] = []

    def sink(batch: ChangeBatch) -> None:
        got.append(batch)
        flushed_at.append(clock.now)
        flushed.set()

    deb = Debouncer(sink, quiet_s=0.2, max_delay_s=0.3, clock=clock)
    deb.start()
    first = clock.now
    try:
        for _ in range(3):  # touched every 0.1 s: never quiet for 0.2 s
            deb.note_changed("/r/log.txt")
            clock.advance(0.1)
        assert not got  # 0.2 s after the first change: not due yet
        deb.note_changed("/r/log.txt")  # 0.3 s after the first change: forced out now
        assert flushed.wait(10.0)
    finally:
        deb.stop()
    assert got[0].changed == ("/r/log.txt",)
    assert flushed_at == [pytest.approx(first + 0.3)]  # by max_delay_s; quiet would be 0.5
