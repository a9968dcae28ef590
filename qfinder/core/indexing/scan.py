"""The indexer's scanning side: roots walked and diffed, watcher events, removals.

`Scanner` is composed by `qfinder.core.indexing.indexer.Indexer` (see there for the public API).
Everything here only stats files and writes names/paths/signatures to the catalog; content work
goes to the `ScanQueue` it was given (the indexer's queue, worked off by `Indexer.step`).
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from qfinder.core.indexing.exclude import is_excluded
from qfinder.core.indexing.plan import KnownFile, ScanDiff, Signature, StatEntry, diff_tree
from qfinder.core.indexing.walk import FileEntry, WalkError, walk
from qfinder.core.paths import is_within
from qfinder.core.state import FileFailure

if TYPE_CHECKING:
    from qfinder.core.indexing.walk import ExcludeRules
    from qfinder.core.storage.catalog import Catalog


log = logging.getLogger(__name__)

UPSERTS_PER_TXN = 2000  # names are committed in chunks so readers see progress early
NO_LIMIT = 1 << 62


@dataclass
class PlanReport:
    roots: list[str] = field(default_factory=list)
    unavailable: list[str] = field(default_factory=list)  # roots that are not reachable folders
    new: int = 0
    changed: int = 0
    renamed: int = 0
    gone: int = 0
    unchanged: int = 0
    queued: int = 0
    walk_errors: list[WalkError] = field(default_factory=list)
    seconds: float = 0.0


def _extension(path: str) -> str:
    name = os.path.basename(path)
    return name.rsplit(".", 1)[-1].lower() if "." in name.strip(".") else ""


def _keep_unseen(diff: ScanDiff, errors: Sequence[WalkError]) -> None:
    """Files under a path the walk could not read were not seen, which is not deleted."""
    unreadable = [e.path for e in errors]
    diff.gone = [p for p in diff.gone if not any(is_within(p, f) for f in unreadable)]


class ScanQueue(Protocol):
    """Where a scan puts content work, and takes back work under removed paths."""

    def enqueue(self, path: str, size: int, mtime_ns: int) -> None: ...
    def dequeue_under(self, prefixes: Iterable[str]) -> None: ...


class Scanner:
    def __init__(self, catalog: Catalog, rules: ExcludeRules, queue: ScanQueue) -> None:
        self.catalog = catalog
        self.rules = rules
        self._queue = queue

    # --- whole roots ------------------------------------------------------------------------
    def plan(self, roots: Iterable[str | os.PathLike[str]]) -> PlanReport:
        """Walk each root, commit names of new/changed files, drop vanished ones, queue work."""
        started = time.perf_counter()
        report = PlanReport()
        for raw in roots:
            root = os.path.abspath(os.fspath(raw))
            if not os.path.isdir(root):
                report.unavailable.append(root)
                if any(r.path == root for r in self.catalog.roots()):
                    self.catalog.mark_root(root, "unavailable")  # never purged for being away
                continue
            report.roots.append(root)
            self._plan_root(root, report)
        report.seconds = time.perf_counter() - started
        return report

    def _plan_root(self, root: str, report: PlanReport) -> None:
        root_id = self.catalog.add_root(root)
        errors: list[WalkError] = []
        diff = diff_tree(walk([root], self.rules, on_error=errors.append), self._known(root))
        _keep_unseen(diff, errors)
        errors += self._apply(diff, lambda _path: root_id)
        report.walk_errors += errors
        self.catalog.set_scan_failures(root, [FileFailure(e.path, e.reason) for e in errors])
        report.new += len(diff.new)
        report.changed += len(diff.changed)
        report.renamed += len(diff.renamed)
        report.gone += len(diff.gone)
        report.unchanged += diff.unchanged
        report.queued += self._queue_pending(root)

    def _known(self, root: str) -> dict[str, KnownFile]:
        pending = {r.path for r in self.catalog.files_with_status("pending", limit=NO_LIMIT, root=root)}
        return {
            path: KnownFile(path, Signature(*sig), "pending" if path in pending else "indexed")
            for path, sig in self.catalog.file_states_under(root).items()
        }

    def _apply(self, diff: ScanDiff, root_id: Callable[[str], int | None]) -> list[WalkError]:
        """Write the diff; returns the files whose rows could not be written (the rest go on)."""
        with self.catalog.write():
            for path in diff.gone:
                self.catalog.delete_file(path)
            for old, entry in diff.renamed:
                self.catalog.move_path(old, entry.path)
        self._queue.dequeue_under(diff.gone)
        fresh: list[StatEntry] = [*diff.new, *diff.changed]
        refused: list[WalkError] = []
        for start in range(0, len(fresh), UPSERTS_PER_TXN):
            with self.catalog.write():
                for entry in fresh[start : start + UPSERTS_PER_TXN]:
                    if (problem := self._upsert(entry, root_id(entry.path))) is not None:
                        refused.append(problem)
        return refused

    def _upsert(self, entry: StatEntry, root_id: int | None) -> WalkError | None:
        try:
            self.catalog.upsert_file(entry.path, root_id=root_id, size=entry.size,
                                     mtime_ns=entry.mtime_ns, inode=entry.inode,
                                     kind=_extension(entry.path))
        except (ValueError, OverflowError) as exc:  # this file's own values (e.g. an mtime past 2262)
            log.warning("could not record %s: %s", entry.path, exc)
            return WalkError(entry.path, f"could not be recorded ({exc})")
        return None

    def _queue_pending(self, root: str) -> int:
        rows = self.catalog.files_with_status("pending", limit=NO_LIMIT, root=root)
        for row in rows:
            self._queue.enqueue(row.path, row.size, row.mtime_ns)
        return len(rows)

    # --- single paths (watcher) -------------------------------------------------------------
    def refresh_paths(self, paths: Iterable[str | os.PathLike[str]]) -> int:
        """Bring the given files/folders up to date (created, modified, moved, deleted), all in
        one diff so a move reported as (old gone, new created) is a rename, not a re-embed.
        Paths outside every root are ignored. Returns files added, changed, moved or removed."""
        roots = sorted((r.path for r in self.catalog.roots()), key=len, reverse=True)
        walked: list[StatEntry] = []
        errors: list[WalkError] = []
        known: dict[str, KnownFile] = {}
        for raw in paths:
            path = os.path.abspath(os.fspath(raw))
            root = next((r for r in roots if is_within(path, r)), None)
            if root is None:
                continue
            if not os.path.isdir(root):  # unmounted or gone: keep its files, never purge for that
                self.catalog.mark_root(root, "unavailable")
                continue
            known.update(self._known(path))
            if os.path.exists(path) and not (path != root and is_excluded(path, root, self.rules)):
                walked += self._stat_entries(path, errors)
        diff = diff_tree(list({e.path: e for e in walked}.values()), known)
        _keep_unseen(diff, errors)
        for error in errors:
            log.warning("not read: %s (%s)", error.path, error.reason)
        # files refused by _apply are logged; the next plan of their root lists them as failures
        self._apply(diff, lambda p: self._root_id(next((r for r in roots if is_within(p, r)), "")))
        for entry in [*diff.new, *diff.changed, *diff.needs_content]:
            self._queue.enqueue(entry.path, entry.size, entry.mtime_ns)
        return len(diff.new) + len(diff.changed) + len(diff.renamed) + len(diff.gone)

    def _stat_entries(self, path: str, errors: list[WalkError]) -> list[StatEntry]:
        if os.path.isdir(path):
            return list(walk([path], self.rules, on_error=errors.append))
        try:
            st = os.stat(path)
        except OSError:
            return []
        return [FileEntry(path, st.st_size, st.st_mtime_ns, st.st_ino)]

    def _root_id(self, root: str) -> int | None:
        return next((r.id for r in self.catalog.roots() if r.path == root), None)

    def remove_paths(self, paths: Iterable[str | os.PathLike[str]]) -> int:
        """Forget files and folders (their chunks, vectors and FTS rows). Returns files removed."""
        targets = [os.path.abspath(os.fspath(p)) for p in paths]
        removed = 0
        with self.catalog.write():
            for path in targets:
                removed += self.catalog.delete_prefix(path)
        self._queue.dequeue_under(targets)
        return removed

    def remove_root(self, root: str | os.PathLike[str]) -> int:
        """Purge a root entirely and compact the catalog."""
        path = os.path.abspath(os.fspath(root))
        self._queue.dequeue_under([path])
        return self.catalog.remove_root(path)
