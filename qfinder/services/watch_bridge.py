"""The watcher bridge: FolderWatcher callbacks (watchdog threads) → queued signals.

Watcher callbacks run on the debouncer's and supervisor's threads; they must not touch the core.
Emitting a signal from there posts an event to the receiver's thread (the engine thread), which
applies the batch between two indexing steps.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QObject, Signal

from qfinder.watch import ChangeBatch, FolderWatcher, WatchNotice

from .core_port import EngineCore
from .settings import EngineSettings

log = logging.getLogger(__name__)


class WatchBridge(QObject):
    batch = Signal(object)  # ChangeBatch
    notice = Signal(object)  # WatchNotice

    def __init__(
        self,
        settings: EngineSettings,
        accept: Callable[[str, bool], bool] | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.watcher = FolderWatcher(
            self._on_batch,
            self._on_notice,
            accept=accept,
            quiet_s=settings.quiet_s,
            max_delay_s=settings.max_delay_s,
            check_interval_s=settings.watch_check_s,
            polling_interval_s=settings.polling_interval_s,
        )

    def _on_batch(self, batch: ChangeBatch) -> None:
        self.batch.emit(batch)

    def _on_notice(self, notice: WatchNotice) -> None:
        log.info("watch: %s %s", notice.kind, notice.message)
        self.notice.emit(notice)

    def start(self) -> None:
        self.watcher.start()

    def stop(self) -> None:
        self.watcher.stop()

    def set_roots(self, roots: tuple[str, ...]) -> None:
        self.watcher.set_roots(roots)

    def modes(self) -> dict[str, str]:
        return self.watcher.modes()


def apply_batch(core: EngineCore, batch: ChangeBatch) -> None:
    """One call for everything (gone, changed, folders to walk): a move is seen as a rename."""
    removed = [*batch.removed_prefixes, *batch.removed]
    changed = [*batch.changed, *batch.scan_folders]
    core.apply_changes(removed, changed)


def apply_notice(core: EngineCore, notice: WatchNotice) -> None:
    """A root went away or came back (its state only: never purged), or needs a reconcile."""
    if notice.kind in ("unavailable", "available"):
        for root in notice.roots:
            core.mark_root(root, notice.kind == "available")
    if notice.reconcile:
        core.reconcile(list(notice.reconcile))
