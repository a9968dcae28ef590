"""walk() and is_excluded(): default exclusions, ignore rules, symlinks, special files, errors."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from qfinder.core.indexing.exclude import DEFAULT_RULES, ExcludeRules, is_excluded
from qfinder.core.indexing.walk import FileEntry, WalkError, walk, walk_collect


def make_files(root: Path, *names: str) -> None:
    for name in names:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"content of {name}")


def found(root: Path, rules: ExcludeRules = DEFAULT_RULES) -> set[str]:
    files, errors = walk_collect([root], rules)
    assert errors == []
    return {os.path.relpath(entry.path, root) for entry in files}


def test_default_exclusions(tmp_path: Path) -> None:
    make_files(
        tmp_path,
        "notes.txt",
        "docs/guide.md",
        ".hidden.txt",
        ".config/app.ini",
        ".git/HEAD",
        "node_modules/pkg/index.js",
        "src/__pycache__/m.pyc",
        "env/pyvenv.cfg",
        "env/lib/site.py",
        "private/.noindex",
        "private/secret.txt",
        "build/cache/CACHEDIR.TAG",
        "build/cache/blob",
        ".ssh/id_rsa",
        ".cache/thing",
        "src/main.py",
    )
    assert found(tmp_path) == {"notes.txt", "docs/guide.md", "src/main.py"}


def test_include_hidden_still_skips_secrets_and_vcs(tmp_path: Path) -> None:
    make_files(tmp_path, ".hidden.txt", ".config/app.ini", ".git/HEAD", ".ssh/id_rsa", ".gnupg/key")
    assert found(tmp_path, ExcludeRules(include_hidden=True)) == {".hidden.txt", ".config/app.ini"}


def test_gitignore_nested_negation_and_user_globs(tmp_path: Path) -> None:
    make_files(
        tmp_path,
        "a.log",
        "keep.txt",
        "build/out.bin",
        "sub/b.log",
        "sub/important.log",
        "sub/data.csv",
        "sub/deep/c.tmp",
        "draft.txt",
    )
    (tmp_path / ".gitignore").write_text("*.log\nbuild/\n")
    (tmp_path / "sub" / ".gitignore").write_text("!important.log\n*.csv\n")
    rules = ExcludeRules(globs=("*.tmp", "/draft.txt"))
    assert found(tmp_path, rules) == {"keep.txt", "sub/important.log"}
    assert found(tmp_path, ExcludeRules(honour_gitignore=False)) >= {
        "a.log",
        "build/out.bin",
        "sub/data.csv",
    }


def test_entries_carry_stat_fields(tmp_path: Path) -> None:
    make_files(tmp_path, "one.txt")
    (entry,) = walk([tmp_path])
    st = os.stat(tmp_path / "one.txt")
    assert entry == FileEntry(str(tmp_path / "one.txt"), st.st_size, st.st_mtime_ns, st.st_ino)


def test_odd_file_names(tmp_path: Path) -> None:
    names = [
        "with space.txt",
        "ünïcödé 日本.md",
        "new\nline.txt",
        "tab\there.txt",
        'quote\'s "x".txt',
    ]
    make_files(tmp_path, *names)
    assert found(tmp_path) == set(names)


def test_fifo_socket_are_never_yielded(tmp_path: Path) -> None:
    make_files(tmp_path, "real.txt")
    os.mkfifo(tmp_path / "pipe.txt")
    assert found(tmp_path) == {"real.txt"}
    assert is_excluded(tmp_path / "pipe.txt", tmp_path)


def test_symlink_loop_and_links_out_of_root(tmp_path: Path) -> None:
    root, outside = tmp_path / "root", tmp_path / "outside"
    make_files(root, "a/file.txt")
    make_files(outside, "leak.txt")
    (root / "a" / "loop").symlink_to(root)  # loop back to the root
    (root / "a" / "self").symlink_to(root / "a")  # loop to itself
    (root / "escape").symlink_to(outside)  # folder out of the root
    (root / "leak.txt").symlink_to(outside / "leak.txt")  # file out of the root
    (root / "alias.txt").symlink_to(root / "a" / "file.txt")  # file link inside the root
    (root / "0-first").symlink_to(root / "a")  # sorts before its target: must not hide it
    (root / "dangling.txt").symlink_to(root / "missing")
    assert found(root) == {"a/file.txt"}  # links are never followed; targets in the root are walked
    assert is_excluded(root / "escape" / "leak.txt", root)
    assert is_excluded(root / "leak.txt", root)
    assert is_excluded(root / "alias.txt", root)
    assert is_excluded(root / "0-first" / "file.txt", root)
    assert not is_excluded(root / "a" / "file.txt", root)


def test_missing_root_and_file_root_are_reported(tmp_path: Path) -> None:
    make_files(tmp_path, "f.txt")
    files, errors = walk_collect([tmp_path / "nope", tmp_path / "f.txt"])
    assert files == []
    assert errors == [
        WalkError(str(tmp_path / "nope"), "vanished during the walk"),
        WalkError(str(tmp_path / "f.txt"), "not a folder"),
    ]


def test_is_excluded_agrees_with_walk(tmp_path: Path) -> None:
    make_files(
        tmp_path,
        "a.txt",
        "x.log",
        ".h/y.txt",
        "node_modules/m.js",
        "p/.noindex",
        "p/q.txt",
        "sub/keep.log",
        "sub/z.txt",
        "venv/pyvenv.cfg",
        "venv/s.py",
    )
    (tmp_path / ".gitignore").write_text("*.log\n")
    (tmp_path / "sub" / ".gitignore").write_text("!keep.log\n")
    rules = ExcludeRules(globs=("z.txt",))
    walked = {e.path for e in walk([tmp_path], rules)}
    every_file = {str(p) for p in tmp_path.rglob("*") if p.is_file()}
    judged = {p for p in every_file if not is_excluded(p, tmp_path, rules)}
    assert judged == walked == {str(tmp_path / "a.txt"), str(tmp_path / "sub" / "keep.log")}
    assert is_excluded(tmp_path.parent / "elsewhere.txt", tmp_path)
    assert is_excluded(tmp_path / "gone.log", tmp_path)  # deleted files: judged by rules
    assert not is_excluded(tmp_path / "gone.txt", tmp_path)


_WALK_CODE = (
    "import json, sys; from qfinder.core.indexing.walk import walk_collect\n"
    "files, errors = walk_collect([sys.argv[1]])\n"
    "print(json.dumps({'files': [f.path for f in files], 'errors': [[e.path, e.reason] for e in errors]}))"
)


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions")
def test_permission_denied_is_recorded_and_walk_goes_on(
    tmp_path: Path, run_unprivileged: Callable[..., str]
) -> None:
    make_files(tmp_path, "open/a.txt", "locked/b.txt", "z.txt")
    (tmp_path / "locked").chmod(0)
    try:
        result = json.loads(run_unprivileged(_WALK_CODE, str(tmp_path)))
    finally:
        (tmp_path / "locked").chmod(0o755)
    assert result["errors"] == [[str(tmp_path / "locked"), "folder could not be read: permission denied"]]
    assert sorted(result["files"]) == [str(tmp_path / "open" / "a.txt"), str(tmp_path / "z.txt")]


def test_skip_folders_are_never_walked_nor_let_through(tmp_path: Path) -> None:
    make_files(tmp_path, "a.txt", "data/catalog.db", "data/indexes/hnsw-d32.bin", "database/b.txt")
    rules = ExcludeRules(skip_folders=(str(tmp_path / "data"),))
    assert found(tmp_path, rules) == {"a.txt", "database/b.txt"}  # a prefix is not a parent
    assert is_excluded(tmp_path / "data" / "catalog.db", tmp_path, rules)
    assert not is_excluded(tmp_path / "database" / "b.txt", tmp_path, rules)
    assert list(walk([tmp_path / "data"], rules)) == []  # the skipped folder given as a root
