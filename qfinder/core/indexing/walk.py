"""Walk index roots with ``os.scandir`` and yield the regular files worth indexing.

    for entry in walk(["/home/me/Documents"], ExcludeRules(), on_error=errors.append):
        entry.path, entry.size, entry.mtime_ns, entry.inode

Only stats are taken (one ``lstat`` per file, served by ``scandir`` where the OS allows), so a
re-scan of an unchanged tree is cheap; the caller compares (size, mtime_ns, inode) with its
catalog. Exclusions come from ``qfinder.core.indexing.exclude`` (also used for single watcher events).

Symlinks are never followed: a link out of a root must not leak other folders into the index,
and a link inside a root only duplicates what the walk reaches directly (and, entered first, would
report files under the link's path instead of their real one). To index a linked folder, add its
target as a root. Each folder is also entered once by (device, inode), so bind-mount loops end.
Only regular files are yielded: FIFOs, sockets and devices are never opened. Folders that cannot
be listed (permission denied, vanished, I/O error) are reported through ``on_error`` as a
``WalkError`` and the walk goes on; without a callback they are logged.
"""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import pathspec

from qfinder.core.indexing.exclude import (
    DEFAULT_RULES,
    GITIGNORE,
    ExcludeRules,
    ignored_by_specs,
    is_excluded,
    load_gitignore,
    markers_exclude,
    name_excluded,
)

log = logging.getLogger(__name__)

__all__ = ["ExcludeRules", "FileEntry", "WalkError", "is_excluded", "walk", "walk_collect"]


@dataclass(frozen=True)
class FileEntry:
    """A regular file found by the walk (never a symlink)."""

    path: str
    size: int
    mtime_ns: int
    inode: int


@dataclass(frozen=True)
class WalkError:
    """A path the walk could not read, with a reason a person understands."""

    path: str
    reason: str


ErrorSink = Callable[[WalkError], None]
_SpecStack = tuple[tuple[str, pathspec.PathSpec], ...]


def walk(
    roots: Iterable[str | os.PathLike[str]],
    rules: ExcludeRules = DEFAULT_RULES,
    on_error: ErrorSink | None = None,
) -> Iterator[FileEntry]:
    """Yield every indexable regular file under ``roots`` (depth first, names sorted)."""
    report = on_error or _log_error
    for root in roots:
        yield from _RootWalk(os.path.abspath(os.fspath(root)), rules, report).files()


def walk_collect(
    roots: Iterable[str | os.PathLike[str]], rules: ExcludeRules = DEFAULT_RULES
) -> tuple[list[FileEntry], list[WalkError]]:
    """Convenience: the whole walk as lists (files, errors)."""
    errors: list[WalkError] = []
    files = list(walk(roots, rules, errors.append))
    return files, errors


def _log_error(error: WalkError) -> None:
    log.warning("skipped %s: %s", error.path, error.reason)


def _reason(exc: OSError) -> str:
    if isinstance(exc, PermissionError):
        return "permission denied"
    if isinstance(exc, FileNotFoundError):
        return "vanished during the walk"
    return exc.strerror or type(exc).__name__


class _RootWalk:
    """One root: an explicit stack instead of recursion, so deep trees cannot overflow."""

    def __init__(self, root: str, rules: ExcludeRules, report: ErrorSink) -> None:
        self.root = root
        self.rules = rules
        self.report = report
        self.visited: set[tuple[int, int]] = set()

    def files(self) -> Iterator[FileEntry]:
        if self.rules.skips(self.root):
            return
        try:
            st = os.stat(self.root)
        except OSError as exc:
            self.report(WalkError(self.root, _reason(exc)))
            return
        if not stat.S_ISDIR(st.st_mode):
            self.report(WalkError(self.root, "not a folder"))
            return
        self.visited.add((st.st_dev, st.st_ino))
        pending: list[tuple[str, _SpecStack]] = [(self.root, ())]
        while pending:
            folder, specs = pending.pop()
            subfolders: list[tuple[str, _SpecStack]] = []
            yield from self._folder(folder, specs, subfolders)
            pending.extend(reversed(subfolders))

    def _list(self, folder: str) -> list[os.DirEntry[str]] | None:
        try:
            with os.scandir(folder) as it:
                return sorted(it, key=lambda e: e.name)
        except OSError as exc:
            self.report(WalkError(folder, f"folder could not be read: {_reason(exc)}"))
            return None

    def _folder(
        self, folder: str, specs: _SpecStack, subfolders: list[tuple[str, _SpecStack]]
    ) -> Iterator[FileEntry]:
        entries = self._list(folder)
        if entries is None:
            return
        names = [e.name for e in entries]
        if folder != self.root and markers_exclude(names):
            return
        if self.rules.honour_gitignore and GITIGNORE in names and (spec := load_gitignore(folder)):
            specs = (*specs, (folder, spec))
        for entry in entries:
            try:
                found = self._classify(entry, specs)
            except OSError as exc:
                self.report(WalkError(entry.path, _reason(exc)))
                continue
            if isinstance(found, FileEntry):
                yield found
            elif found is not None:
                subfolders.append((found, specs))

    def _classify(self, entry: os.DirEntry[str], specs: _SpecStack) -> FileEntry | str | None:
        """A FileEntry to yield, a folder path to enter, or None to skip."""
        st = entry.stat(follow_symlinks=False)
        if stat.S_ISLNK(st.st_mode):
            log.debug("not following symlink %s", entry.path)
            return None
        is_dir = stat.S_ISDIR(st.st_mode)
        if not is_dir and not stat.S_ISREG(st.st_mode):
            return None  # FIFO, socket, device: never opened
        if name_excluded(entry.name, is_dir, self.rules, st):
            return None
        if ignored_by_specs(entry.path, is_dir, self.root, specs, self.rules):
            return None
        if is_dir:
            if self.rules.skip_folders and self.rules.skips(entry.path):
                return None  # e.g. qfinder's own data folder inside a root
            key = (st.st_dev, st.st_ino)
            if key in self.visited:
                return None  # a loop or a second way into a folder already walked
            self.visited.add(key)
            return entry.path
        return FileEntry(entry.path, st.st_size, st.st_mtime_ns, st.st_ino)
