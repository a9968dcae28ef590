"""One path-containment rule and one atomic write for the whole package."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from qfinder.core import paths
from qfinder.core.pathnames import db_text_factory, sql_path
from qfinder.core.paths import atomic_path, is_within, write_atomic
from qfinder.core.storage.query import prefix_condition

S = os.sep
CASES = [  # (path, folder, inside)
    (f"{S}a{S}b", f"{S}a{S}b", True),
    (f"{S}a{S}b{S}c.txt", f"{S}a{S}b", True),
    (f"{S}a{S}b{S}c.txt", f"{S}a{S}b{S}", True),  # the folder written with a trailing separator
    (f"{S}a{S}b{S}", f"{S}a{S}b", True),
    (f"{S}a{S}bc", f"{S}a{S}b", False),  # a sibling that shares the name's start
    (f"{S}a", f"{S}a{S}b", False),  # the parent is not inside its child
    (f"{S}a{S}b", S, True),  # everything is inside the root
    (S, S, True),
    (f"{S}a{S}b\udcff{S}x", f"{S}a{S}b\udcff", True),  # a name that is not valid UTF-8
    (f"{S}a{S}b\udcffz", f"{S}a{S}b\udcff", False),
]
if os.sep == "/":  # on POSIX a backslash is an ordinary character of a file name
    CASES.append(("/a/b\\c", "/a/b", False))


@pytest.mark.parametrize(("path", "folder", "inside"), CASES)
def test_is_within(path: str, folder: str, inside: bool) -> None:
    assert is_within(path, folder) is inside


@pytest.mark.parametrize(("path", "folder", "inside"), CASES)
def test_sql_prefix_condition_agrees_with_is_within(path: str, folder: str, inside: bool) -> None:
    conn = sqlite3.connect(":memory:")
    conn.text_factory = db_text_factory
    conn.execute("CREATE TABLE files (path TEXT)")
    conn.execute("INSERT INTO files VALUES (CAST(? AS TEXT))", (sql_path(path.rstrip(S) or S),))
    cond, params = prefix_condition(folder)
    found = conn.execute(f"SELECT count(*) FROM files WHERE {cond}", params).fetchone()[0]
    assert bool(found) is is_within(path, folder) is inside


def test_write_atomic_writes_text_and_bytes_privately(tmp_path: Path) -> None:
    target = tmp_path / "settings.json"
    write_atomic(target, "héllo")
    assert target.read_text(encoding="utf-8") == "héllo"
    write_atomic(target, b"\x00\x01")
    assert target.read_bytes() == b"\x00\x01"
    if os.name == "posix":
        assert target.stat().st_mode & 0o777 == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["settings.json"]


def test_failed_write_keeps_the_old_file_and_no_temp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "settings.json"
    write_atomic(target, "old")

    def disk_full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(paths.os, "fsync", disk_full)
    with pytest.raises(OSError, match="No space"):
        write_atomic(target, "new and longer")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["settings.json"]


def test_streamed_writer_interrupted_midway_changes_nothing(tmp_path: Path) -> None:
    target = tmp_path / "vectors.bin"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_bytes(b"half of the new")
        raise RuntimeError("the writer stopped")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["vectors.bin"]


def test_streamed_writer_replaces_on_success(tmp_path: Path) -> None:
    target = tmp_path / "vectors.bin"
    target.write_bytes(b"old")
    with atomic_path(target) as tmp:
        assert tmp.parent == tmp_path and tmp != target  # same folder: the rename is atomic
        with open(tmp, "wb") as fh:
            fh.write(b"new")
    assert target.read_bytes() == b"new"
    if os.name == "posix":
        assert target.stat().st_mode & 0o777 == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["vectors.bin"]
