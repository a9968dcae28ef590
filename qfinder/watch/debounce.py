"""Coalesce filesystem changes per path and hand them on after a quiet period.

Editors and copy tools produce bursts (300 file creates gave 1,200 events), so nothing is handed on
until the folder has been quiet for `quiet_s`. A file that never stops changing (a log being
appended to) would never be quiet, so a batch is also forced out `max_delay_s` after its first
change: such a file is re-indexed at most about once per `max_delay_s`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from qfinder.core.paths import is_within
from qfinder.watch.batch import ChangeBatch

log = logging.getLogger(__name__)


class _Pending:
    """The changes gathered since the last batch; later facts about a path replace earlier ones."""

    def __init__(self) -> None:
        self.changed: dict[str, None] = {}  # insertion-ordered set
        self.removed: set[str] = set()
        self.prefixes: set[str] = set()
        self.scans: set[str] = set()

    def __bool__(self) -> bool:
        return bool(self.changed or self.removed or self.prefixes or self.scans)

    def change(self, path: str) -> None:
        if any(is_within(path, folder) for folder in self.scans):
            return  # the folder scan will pick it up
        self.removed.discard(path)
        self.changed[path] = None

    def remove(self, path: str) -> None:
        self.changed.pop(path, None)
        if not any(is_within(path, prefix) for prefix in self.prefixes):
            self.removed.add(path)

    def remove_prefix(self, folder: str) -> None:
        self.changed = {p: None for p in self.changed if not is_within(p, folder)}
        self.removed = {p for p in self.removed if not is_within(p, folder)}
        self.scans = {f for f in self.scans if not is_within(f, folder)}
        self.prefixes = {f for f in self.prefixes if not is_within(f, folder)}
        self.prefixes.add(folder)

    def scan(self, folder: str) -> None:
        if any(is_within(folder, f) for f in self.scans):
            return
        self.changed = {p: None for p in self.changed if not is_within(p, folder)}
        self.scans = {f for f in self.scans if not is_within(f, folder)}
        self.scans.add(folder)

    def to_batch(self) -> ChangeBatch:
        return ChangeBatch(
            removed_prefixes=tuple(sorted(self.prefixes)),
            removed=tuple(sorted(self.removed)),
            changed=tuple(self.changed),
            scan_folders=tuple(sorted(self.scans)),
        )


class Debouncer:
    """Thread-safe change accumulator with its own flushing thread.

    The note_* methods are called from the watchdog observer thread and only take a short lock.
    `sink(batch)` runs on the debouncer's thread; an exception there is logged and swallowed.
    """

    def __init__(
        self,
        sink: Callable[[ChangeBatch], None],
        quiet_s: float = 0.4,
        max_delay_s: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._sink = sink
        self._clock = clock  # when a batch is due is decided by this clock (tests move it by hand)
        self.quiet_s = quiet_s
        self.max_delay_s = max_delay_s
        self._cond = threading.Condition()
        self._pending = _Pending()
        self._first_at = 0.0
        self._last_at = 0.0
        self._stopping = False
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="qfinder-debounce", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        """Stop the flushing thread; changes still pending are dropped (reconcile finds them)."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def note_changed(self, path: str) -> None:
        self._note(self._pending.change, path)

    def note_removed(self, path: str) -> None:
        self._note(self._pending.remove, path)

    def note_removed_folder(self, folder: str) -> None:
        self._note(self._pending.remove_prefix, folder)

    def note_scan_folder(self, folder: str) -> None:
        self._note(self._pending.scan, folder)

    def _note(self, action: Callable[[str], None], path: str) -> None:
        with self._cond:
            now = self._clock()
            if not self._pending:
                self._first_at = now
            self._last_at = now
            action(path)
            self._cond.notify_all()

    def _due_at(self) -> float:
        return min(self._last_at + self.quiet_s, self._first_at + self.max_delay_s)

    def _take_when_due(self) -> ChangeBatch | None:
        """Wait until a batch is due (or stop); return it, or None when stopping."""
        with self._cond:
            while not self._stopping:
                if not self._pending:
                    self._cond.wait()
                    continue
                remaining = self._due_at() - self._clock()
                if remaining <= 0:
                    batch = self._pending.to_batch()
                    self._pending = _Pending()
                    return batch
                self._cond.wait(remaining)
            return None

    def _run(self) -> None:
        while True:
            batch = self._take_when_due()
            if batch is None:
                return
            try:
                self._sink(batch)
            except Exception:
                log.exception("the change sink failed; the batch is lost until the next reconcile")
