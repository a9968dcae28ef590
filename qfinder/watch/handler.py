"""The watchdog event handler: translate events into debouncer notes, and never raise.

An exception escaping a watchdog handler kills the observer thread for good (reproduced), so
everything here is wrapped; a failure is logged and counted, and the periodic reconcile repairs
whatever the lost event would have told us.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable

from watchdog.events import (
    EVENT_TYPE_CLOSED,
    EVENT_TYPE_CREATED,
    EVENT_TYPE_DELETED,
    EVENT_TYPE_MODIFIED,
    EVENT_TYPE_MOVED,
    FileSystemEvent,
    FileSystemEventHandler,
)

from qfinder.watch.debounce import Debouncer

log = logging.getLogger(__name__)

# (path, is_dir) -> True when the path should be indexed (not excluded by the root's rules).
PathFilter = Callable[[str, bool], bool]


def _text(path: str | bytes) -> str:
    return os.fsdecode(path)


class QueueingHandler(FileSystemEventHandler):
    """Turns watchdog events into coalesced notes on a Debouncer."""

    def __init__(self, debouncer: Debouncer, accept: PathFilter | None = None) -> None:
        super().__init__()
        self._debouncer = debouncer
        self._accept = accept
        self.failures = 0  # events that could not be translated (logged)

    def dispatch(self, event: FileSystemEvent) -> None:
        try:
            self._translate(event)
        except Exception:
            self.failures += 1
            log.exception("ignoring a filesystem event that could not be handled: %r", event)

    def _wanted(self, path: str, is_dir: bool) -> bool:
        if self._accept is None:
            return True
        try:
            return self._accept(path, is_dir)
        except Exception:
            log.exception("the path filter failed on %s; indexing it anyway", path)
            return True

    def _translate(self, event: FileSystemEvent) -> None:
        kind = event.event_type
        src = _text(event.src_path)
        if kind == EVENT_TYPE_MOVED:
            self._moved(src, _text(event.dest_path), event.is_directory)
        elif event.is_directory:
            self._folder_event(kind, src)
        elif kind in (EVENT_TYPE_CREATED, EVENT_TYPE_MODIFIED, EVENT_TYPE_CLOSED):
            if self._wanted(src, False):
                self._debouncer.note_changed(src)
        elif kind == EVENT_TYPE_DELETED:
            self._debouncer.note_removed(src)
        # opened / closed-without-write events carry no change

    def _folder_event(self, kind: str, folder: str) -> None:
        if kind == EVENT_TYPE_CREATED and self._wanted(folder, True):
            self._debouncer.note_scan_folder(folder)
        elif kind == EVENT_TYPE_DELETED:
            self._debouncer.note_removed_folder(folder)
        # a folder's own "modified" only says its listing changed; its children report themselves

    def _moved(self, src: str, dest: str, is_dir: bool) -> None:
        """A move is a removal of the source plus a change (or scan) of the destination.

        An editor's atomic save (write tmp, rename over the target) arrives only as this event, so
        the destination must be treated as changed even though no "modified" event follows.
        """
        if is_dir:
            self._debouncer.note_removed_folder(src)
            if self._wanted(dest, True):
                self._debouncer.note_scan_folder(dest)
            return
        self._debouncer.note_removed(src)
        if self._wanted(dest, False):
            self._debouncer.note_changed(dest)
