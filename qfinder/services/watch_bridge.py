"""The watcher bridge: FolderWatcher callbacks (watchdog threads) → queued signals.

Watcher callbacks run on the debouncer's and supervisor's threads; they must not touch the
library. Emitting a signal from there posts an event to the bridge's thread (the engine thread),
which applies the batch between two indexing steps: in ONE call (gone, changed, folders to walk)
so that a move is seen as a rename.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QObject, Qt, Signal, Slot

from qfinder.core.library.library import Library
from qfinder.core.library.upkeep import Upkeep
from qfinder.watch import ChangeBatch, FolderWatcher, WatchNotice

from .settings import EngineSettings

log = logging.getLogger(__name__)


class WatchBridge(QObject):
    """Watches the library's roots and applies what changed on the engine thread.

    Signals (on the engine thread):
        applied(): changes were queued in the library (the engine goes on indexing)
        trouble(str): watching itself has a problem a person should know of (limits, polling)
    """

    applied = Signal()
    trouble = Signal(str)
    _batch = Signal(object)  # ChangeBatch, from the watcher's threads
    _notice = Signal(object)  # WatchNotice, from the watcher's threads

    def __init__(self, settings: EngineSettings, current: Callable[[], Library | None],
                 each_writer: Callable[[str, Callable[[Upkeep], None]], None],
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._current = current
        self._each_writer = each_writer
        self._batch.connect(self._apply_batch, Qt.ConnectionType.QueuedConnection)
        self._notice.connect(self._apply_notice, Qt.ConnectionType.QueuedConnection)
        self.watcher = FolderWatcher(
            self._batch.emit,
            self._on_notice,
            accept=self._accept,
            quiet_s=settings.quiet_s,
            max_delay_s=settings.max_delay_s,
            check_interval_s=settings.watch_check_s,
            polling_interval_s=settings.polling_interval_s,
        )

    def _accept(self, path: str, is_dir: bool) -> bool:
        library = self._current()  # the watcher's thread: is_excluded reads no SQLite
        upkeep = library.upkeep if library is not None else None
        return upkeep is None or not upkeep.is_excluded(path, is_dir)

    def _on_notice(self, notice: WatchNotice) -> None:
        log.info("watch: %s %s", notice.kind, notice.message)
        self._notice.emit(notice)

    @Slot(object)
    def _apply_batch(self, batch: ChangeBatch) -> None:
        self._each_writer("Applying file changes", lambda upkeep: apply_batch(upkeep, batch))
        self.applied.emit()

    @Slot(object)
    def _apply_notice(self, notice: WatchNotice) -> None:
        self._each_writer("Handling a watcher notice", lambda upkeep: apply_notice(upkeep, notice))
        if notice.kind in ("watch-limit", "error", "polling"):
            self.trouble.emit(f"{notice.message} {notice.hint}".strip())
        self.applied.emit()

    def start(self, roots: tuple[str, ...]) -> None:
        self.watcher.start()
        self.watcher.set_roots(roots)

    def stop(self) -> None:
        self.watcher.stop()

    def set_roots(self, roots: tuple[str, ...]) -> None:
        self.watcher.set_roots(roots)

    def modes(self) -> dict[str, str]:
        return self.watcher.modes()


def apply_batch(upkeep: Upkeep, batch: ChangeBatch) -> None:
    """One call for everything (gone, changed, folders to walk): a move is seen as a rename."""
    removed = [*batch.removed_prefixes, *batch.removed]
    changed = [*batch.changed, *batch.scan_folders]
    upkeep.apply_changes(removed, changed)


def apply_notice(upkeep: Upkeep, notice: WatchNotice) -> None:
    """A root went away or came back (its state only: never purged), or needs a reconcile."""
    if notice.kind in ("unavailable", "available"):
        for root in notice.roots:
            upkeep.mark_root(root, notice.kind == "available")
    if notice.reconcile:
        upkeep.reconcile(list(notice.reconcile))
