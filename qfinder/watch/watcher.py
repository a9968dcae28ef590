"""FolderWatcher: watchdog observers on every root, a debouncer, and a supervisor thread.

The supervisor keeps watching alive without anyone's help:
- an observer thread that died (an exception in a handler kills it for good) is replaced, and the
  consumer is asked to reconcile every root, because events were lost meanwhile;
- a root that cannot be watched natively (the inotify watch limit, errno ENOSPC) falls back to
  watchdog's PollingObserver, and the person is told once how to raise the limit;
- a root that disappears (unmounted drive, renamed away) is reported unavailable and is never
  purged; when it comes back it is watched again and reconciled.
"""

from __future__ import annotations

import errno
import logging
import os
import threading
from collections.abc import Callable, Iterable

from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver, ObservedWatch
from watchdog.observers.polling import PollingObserver

from qfinder.core.paths import is_within
from qfinder.watch.batch import WATCH_LIMIT_HINT, ChangeBatch, NoticeKind, WatchNotice
from qfinder.watch.debounce import Debouncer
from qfinder.watch.handler import PathFilter, QueueingHandler

log = logging.getLogger(__name__)

RootMode = str  # "watching" | "polling" | "unavailable"
_LIMIT_ERRNOS = (errno.ENOSPC, errno.EMFILE)


class FolderWatcher:
    """Watch folders; call `on_batch(ChangeBatch)` and `on_notice(WatchNotice)` from worker threads."""

    def __init__(
        self,
        on_batch: Callable[[ChangeBatch], None],
        on_notice: Callable[[WatchNotice], None],
        accept: PathFilter | None = None,
        quiet_s: float = 0.4,
        max_delay_s: float = 5.0,
        check_interval_s: float = 1.0,
        polling_interval_s: float = 10.0,
    ) -> None:
        self._on_batch = on_batch
        self._on_notice = on_notice
        self._debouncer = Debouncer(self._deliver, quiet_s=quiet_s, max_delay_s=max_delay_s)
        self.handler = QueueingHandler(self._debouncer, accept)
        self._check_interval_s = check_interval_s
        self._polling_interval_s = polling_interval_s
        self._lock = threading.RLock()
        self._modes: dict[str, RootMode] = {}
        self._watches: dict[str, tuple[BaseObserver, ObservedWatch]] = {}
        self.observer: BaseObserver = Observer()
        self._poller: BaseObserver = PollingObserver(timeout=polling_interval_s)
        self._limit_reported = False
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._supervisor: threading.Thread | None = None
        self.restarts = 0

    # -- public -----------------------------------------------------------------------------
    def start(self) -> None:
        self._debouncer.start()
        self.observer.start()
        self._poller.start()
        self._supervisor = threading.Thread(
            target=self._supervise, name="qfinder-watch-supervisor", daemon=True
        )
        self._supervisor.start()

    def stop(self, timeout: float = 2.0) -> None:
        self._stopping.set()
        self._wake.set()
        if self._supervisor is not None:
            self._supervisor.join(timeout)
            self._supervisor = None
        with self._lock:
            for observer in (self.observer, self._poller):
                _stop_observer(observer, timeout)
            self._watches.clear()
        self._debouncer.stop(timeout)

    def set_roots(self, roots: Iterable[str]) -> None:
        """Watch exactly these folders (absolute paths); others are unwatched."""
        wanted = {os.path.abspath(r) for r in roots}
        with self._lock:
            for root in set(self._modes) - wanted:
                self._unschedule(root)
                del self._modes[root]
            for root in sorted(wanted - set(self._modes)):
                self._schedule(root)

    def modes(self) -> dict[str, RootMode]:
        with self._lock:
            return dict(self._modes)

    # -- scheduling -------------------------------------------------------------------------
    def _schedule(self, root: str) -> None:
        if not os.path.isdir(root):
            self._set_mode(root, "unavailable")
            return
        try:
            watch = self.observer.schedule(self.handler, root, recursive=True)
            self._watches[root] = (self.observer, watch)
            self._set_mode(root, "watching")
        except OSError as exc:
            self._fall_back_to_polling(root, exc)

    def _fall_back_to_polling(self, root: str, exc: OSError) -> None:
        log.warning("cannot watch %s natively (%s); polling it instead", root, exc)
        self._unschedule(root)  # a half-started native watch must not linger
        if exc.errno in _LIMIT_ERRNOS and not self._limit_reported:
            self._limit_reported = True
            self._notify("watch-limit", "The system's limit on watched folders was reached.",
                         WATCH_LIMIT_HINT, roots=(root,))
        elif exc.errno not in _LIMIT_ERRNOS:
            self._notify("polling", f"{root} cannot be watched ({exc}); it is polled instead.",
                         roots=(root,))
        try:
            watch = self._poller.schedule(self.handler, root, recursive=True)
            self._watches[root] = (self._poller, watch)
            self._set_mode(root, "polling")
        except OSError as poll_exc:
            log.warning("cannot poll %s either: %s", root, poll_exc)
            self._set_mode(root, "unavailable")

    def _unschedule(self, root: str) -> None:
        entry = self._watches.pop(root, None)
        if entry is None:
            return
        observer, watch = entry
        try:
            observer.unschedule(watch)
        except Exception:  # already gone with a dead emitter or observer
            log.debug("unschedule %s failed", root, exc_info=True)

    def _set_mode(self, root: str, mode: RootMode) -> None:
        previous = self._modes.get(root)
        self._modes[root] = mode
        if previous == "unavailable" and mode != "unavailable":
            self._notify("available", f"{root} is back; checking it for changes.",
                         roots=(root,), reconcile=(root,))

    def _notify(
        self,
        kind: NoticeKind,
        message: str,
        hint: str = "",
        roots: tuple[str, ...] = (),
        reconcile: tuple[str, ...] = (),
    ) -> None:
        try:
            self._on_notice(WatchNotice(kind, message, hint, roots, reconcile))
        except Exception:
            log.exception("the watch notice consumer failed")

    # -- delivery ---------------------------------------------------------------------------
    def _deliver(self, batch: ChangeBatch) -> None:
        """Hand a batch on, but never as a purge of a root: a vanished root is 'unavailable'."""
        with self._lock:
            roots = tuple(self._modes)
        prefixes = tuple(p for p in batch.removed_prefixes
                         if not any(is_within(root, p) for root in roots))
        if len(prefixes) != len(batch.removed_prefixes):
            self._wake.set()
            batch = ChangeBatch(prefixes, batch.removed, batch.changed, batch.scan_folders)
        if not batch.is_empty:
            self._on_batch(batch)

    # -- supervision ------------------------------------------------------------------------
    def _supervise(self) -> None:
        while not self._stopping.is_set():
            self._wake.wait(self._check_interval_s)
            self._wake.clear()
            if self._stopping.is_set():
                return
            try:
                with self._lock:
                    self._check_observers()
                    self._check_roots()
            except Exception:
                log.exception("the watch supervisor failed a check; trying again later")

    def _check_observers(self) -> None:
        dead_native = not self.observer.is_alive()
        dead_poller = not self._poller.is_alive()
        if not (dead_native or dead_poller):
            return
        log.warning("a filesystem observer died; restarting it and reconciling")
        roots = tuple(r for r, (obs, _w) in self._watches.items()
                      if (obs is self.observer and dead_native) or (obs is self._poller and dead_poller))
        if dead_native:
            _stop_observer(self.observer, 1.0)
            self.observer = Observer()
            self.observer.start()
        if dead_poller:
            _stop_observer(self._poller, 1.0)
            self._poller = PollingObserver(timeout=self._polling_interval_s)
            self._poller.start()
        for root in roots:
            self._watches.pop(root, None)
            self._schedule(root)
        self.restarts += 1
        self._notify("restarted", "File watching stopped unexpectedly and was restarted.",
                     roots=roots, reconcile=roots)

    def _check_roots(self) -> None:
        for root, mode in list(self._modes.items()):
            present = os.path.isdir(root)
            if mode != "unavailable" and not present:
                self._unschedule(root)
                self._modes[root] = "unavailable"
                self._notify("unavailable", f"{root} is not available (unmounted or moved); "
                             "its entries are kept.", roots=(root,))
            elif mode == "unavailable" and present:
                self._schedule(root)
            elif mode != "unavailable" and not _emitter_alive(self._watches.get(root)):
                log.warning("the watch on %s stopped; restarting it", root)
                self._unschedule(root)
                self._schedule(root)
                self._notify("restarted", f"Watching {root} was restarted.",
                             roots=(root,), reconcile=(root,))


def _emitter_alive(entry: tuple[BaseObserver, ObservedWatch] | None) -> bool:
    if entry is None:
        return False
    observer, watch = entry
    for emitter in list(observer.emitters):
        if emitter.watch == watch:
            return emitter.is_alive()
    return False


def _stop_observer(observer: BaseObserver, timeout: float) -> None:
    try:
        observer.stop()
        if observer.is_alive():
            observer.join(timeout)
    except Exception:
        log.debug("stopping an observer failed", exc_info=True)
