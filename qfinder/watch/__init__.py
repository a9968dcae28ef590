"""Filesystem watching (watchdog adapter, no Qt): observer + handler + debouncer -> callback(batch).

    watcher = FolderWatcher(on_batch, on_notice, accept=None, quiet_s=0.4, max_delay_s=5.0)
    watcher.start(); watcher.set_roots([...]); ...; watcher.stop()

`on_batch(ChangeBatch)` and `on_notice(WatchNotice)` run on the watcher's own threads: hand them
on (e.g. a queued Qt signal) rather than doing work there.
"""

from qfinder.watch.batch import WATCH_LIMIT_HINT, ChangeBatch, WatchNotice
from qfinder.watch.debounce import Debouncer
from qfinder.watch.handler import QueueingHandler
from qfinder.watch.watcher import FolderWatcher

__all__ = [
    "WATCH_LIMIT_HINT",
    "ChangeBatch",
    "Debouncer",
    "FolderWatcher",
    "QueueingHandler",
    "WatchNotice",
]
