"""`Upkeep`: the writer's side of a `Library` — folders, queued work and the steps that do it.

    upkeep = library.upkeep                  # None when the library was opened read-only
    upkeep.add_root("/home/me/Documents"); upkeep.reconcile(None)   # queue work (cheap)
    while upkeep.has_work():
        progress = upkeep.step()             # one small batch: extract, chunk, embed, commit
        for failure in upkeep.take_failures(): ...
    upkeep.settle()                          # caught up: drop rebuild leftovers, truncate the WAL

Indexing is step-wise so a front end can interleave it with queries: `reconcile` and
`apply_changes` only queue work (stats and catalog rows), and each `step` does one batch sized to
last about `target_step_s` at the model's measured speed. Watcher batches are applied in ONE
`Indexer.refresh_paths` call (removed + changed together) so that a move reported as "old gone,
new created" is recognised as a rename by the stat-signature diff and nothing is re-embedded.
A root is never purged for being away: `mark_root(path, available=False)` only changes its state.
`is_excluded` is called from a watcher's thread: it reads only rules and cached root paths.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence

from qfinder.core.heap import return_free_memory
from qfinder.core.indexing.exclude import is_excluded
from qfinder.core.indexing.indexer import Indexer
from qfinder.core.paths import is_within
from qfinder.core.state import FileFailure, IndexProgress
from qfinder.core.storage.catalog import Catalog

log = logging.getLogger(__name__)

MIN_STEP_TOKENS = 64


class Upkeep:
    def __init__(self, catalog: Catalog, indexer: Indexer, data_dir: str,
                 target_step_s: float | None = None) -> None:
        self.catalog = catalog
        self.indexer = indexer
        self.target_step_s = target_step_s  # None: always IndexSettings.step_tokens
        self._data_dir = os.path.abspath(data_dir)
        self._reported = {f.path for f in catalog.failures(limit=100_000)}
        self._new_failures: list[FileFailure] = []
        self._root_paths: tuple[str, ...] = self.roots()  # for the watcher's thread
        self._trimmed_after = 0  # the indexer's embedded texts when the heap was last trimmed

    # -- folders ---------------------------------------------------------------------------
    def roots(self) -> tuple[str, ...]:
        return tuple(r.path for r in self.catalog.roots())

    def add_root(self, path: str) -> None:
        self.catalog.add_root(os.path.abspath(path))
        self._root_paths = self.roots()

    def remove_root(self, path: str) -> None:
        self.indexer.remove_root(path)
        self._root_paths = self.roots()

    def mark_root(self, path: str, available: bool) -> None:
        self.catalog.mark_root(path, "watching" if available else "unavailable")

    def is_excluded(self, path: str, is_dir: bool) -> bool:
        if is_within(path, self._data_dir):
            return True  # our own catalog's writes must never trigger indexing
        root = next((r for r in self._root_paths if is_within(path, r)), None)
        if root is None or path == root:
            return False
        return is_excluded(path, root, self.indexer.rules)

    # -- queuing work ----------------------------------------------------------------------
    def reconcile(self, roots: Sequence[str] | None = None) -> None:
        targets = list(self.roots() if roots is None else roots)
        report = self.indexer.plan(targets)
        log.info("reconciled %d root(s): %d new, %d changed, %d renamed, %d gone, %d queued",
                 len(targets), report.new, report.changed, report.renamed, report.gone,
                 report.queued)

    def apply_changes(self, removed: Sequence[str], changed: Sequence[str]) -> None:
        if removed or changed:
            self._reported.difference_update(changed)  # a changed file may fail anew: report it
            self.indexer.refresh_paths([*removed, *changed])

    def retry_failed(self, paths: Sequence[str] = ()) -> None:
        """Queue failed and name-only files again: those in `paths`, or all of them."""
        wanted = list(paths) or None
        if wanted is None:
            self._reported.clear()
        else:
            self._reported.difference_update(wanted)
        with self.catalog.write():
            self.indexer.retry_failed(wanted)

    def clear_pending(self) -> None:
        """Drop queued content work; the files stay 'pending' for the next reconcile."""
        self.indexer.clear_pending()

    # -- doing work ------------------------------------------------------------------------
    def has_work(self) -> bool:
        return self.indexer.pending() > 0

    def step(self) -> IndexProgress:
        progress = self.indexer.step(max_tokens=self.step_tokens())
        self._collect_failures()
        return progress

    def step_tokens(self) -> int:
        """Tokens for the next step: what the model embeds in about `target_step_s`.

        A query waits for at most one step, so on a slow machine or a big model the step shrinks
        (down to one chunk: an inference cannot be split), and on a fast one it grows up to
        IndexSettings.step_tokens (bigger batches, fewer commits).
        """
        ceiling = self.indexer.settings.step_tokens
        stats = self.indexer.stats
        if self.target_step_s is None:
            return ceiling
        if stats.embed_seconds <= 0 or stats.tokens_embedded <= 0:
            return min(ceiling, MIN_STEP_TOKENS)  # measure on a small first step
        rate = stats.tokens_embedded / stats.embed_seconds
        return max(MIN_STEP_TOKENS, min(ceiling, int(rate * self.target_step_s)))

    def take_failures(self) -> list[FileFailure]:
        """Files and folders that failed (or were found by name only) since the last call."""
        taken, self._new_failures = self._new_failures, []
        return taken

    def _collect_failures(self) -> None:
        for failure in self.catalog.failures(limit=200):
            if failure.path not in self._reported:
                self._reported.add(failure.path)
                self._new_failures.append(failure)

    def settle(self) -> None:
        """Caught up: drop what only a rebuild needed, truncate the WAL, give the heap the
        batches freed back to the OS (qfinder.core.heap) — when some were run since the last
        time: a catch-up after a renamed or deleted file embedded nothing and freed little."""
        self.catalog.settle()
        embedded = self.indexer.stats.texts_embedded
        if embedded != self._trimmed_after:
            self._trimmed_after = embedded
            return_free_memory()
