"""Scan diffs by stat signature, work order, and the single-writer lock."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass

import pytest

from qfinder.core.indexing.plan import KnownFile, Signature, diff_tree, work_priority
from qfinder.core.library.writelock import WriteLock, WriterBusyError


@dataclass(frozen=True)
class Entry:
    path: str
    size: int
    mtime_ns: int
    inode: int


def known(path, size, mtime, inode, status="indexed"):
    return KnownFile(path, Signature(size, mtime, inode), status)


def test_diff_classifies_new_changed_gone_renamed_and_unfinished():
    catalog = {
        "/r/same": known("/r/same", 1, 1, 1),
        "/r/edit": known("/r/edit", 1, 1, 2),
        "/r/old-name": known("/r/old-name", 5, 5, 3),
        "/r/deleted": known("/r/deleted", 9, 9, 4),
        "/r/half": known("/r/half", 7, 7, 5, status="pending"),
        "/r/failed": known("/r/failed", 8, 8, 6, status="failed"),
    }
    walked = [
        Entry("/r/same", 1, 1, 1),
        Entry("/r/edit", 2, 1, 2),
        Entry("/r/new-name", 5, 5, 3),
        Entry("/r/fresh", 1, 1, 99),
        Entry("/r/half", 7, 7, 5),
        Entry("/r/failed", 8, 8, 6),
    ]
    diff = diff_tree(walked, catalog)
    assert [e.path for e in diff.new] == ["/r/fresh"]
    assert [e.path for e in diff.changed] == ["/r/edit"]
    assert [(old, e.path) for old, e in diff.renamed] == [("/r/old-name", "/r/new-name")]
    assert diff.gone == ["/r/deleted"]
    assert [e.path for e in diff.needs_content] == ["/r/half"]
    assert diff.unchanged == 2  # a failed file is not retried until it changes


def test_unchanged_tree_is_an_empty_diff():
    catalog = {"/a": known("/a", 1, 1, 1)}
    diff = diff_tree([Entry("/a", 1, 1, 1)], catalog)
    assert diff.is_empty and diff.unchanged == 1


def test_small_recent_files_come_before_big_old_ones():
    now = 1_000 * 86_400 * 10**9
    small_recent = work_priority(1_000, now, now)
    big_recent = work_priority(50_000_000, now, now)
    small_old = work_priority(1_000, now - 800 * 86_400 * 10**9, now)
    big_old = work_priority(50_000_000, now - 800 * 86_400 * 10**9, now)
    assert small_recent < small_old < big_old
    assert small_recent < big_recent < big_old


def test_only_one_writer_and_the_os_frees_the_lock_of_a_dead_process(tmp_path):
    first = WriteLock(tmp_path)
    first.acquire()
    with pytest.raises(WriterBusyError):
        WriteLock(tmp_path).acquire()
    first.release()
    code = f"from qfinder.core.library.writelock import WriteLock; WriteLock(r'{tmp_path}').acquire(); import os; os._exit(0)"
    subprocess.run([sys.executable, "-c", code], check=True)
    with WriteLock(tmp_path) as again:
        assert again.held
