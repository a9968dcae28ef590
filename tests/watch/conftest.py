"""Watch tests: a thread-leak guard, and a collector that awaits batches without sleeping."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import pytest
from support.threads import no_thread_leaks  # noqa: F401  (autouse guard)

from qfinder.watch import ChangeBatch, FolderWatcher, WatchNotice


class Collector:
    """Gathers batches and notices from the watcher's threads; tests wait on conditions."""

    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.batches: list[ChangeBatch] = []
        self.notices: list[WatchNotice] = []

    def on_batch(self, batch: ChangeBatch) -> None:
        with self.cond:
            self.batches.append(batch)
            self.cond.notify_all()

    def on_notice(self, notice: WatchNotice) -> None:
        with self.cond:
            self.notices.append(notice)
            self.cond.notify_all()

    def field(self, name: str) -> set[str]:
        with self.cond:
            return {p for b in self.batches for p in getattr(b, name)}

    def wait(self, predicate: Callable[[], bool], timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        with self.cond:
            while not predicate():
                remaining = deadline - time.monotonic()
                assert remaining > 0, f"timed out; batches={self.batches} notices={self.notices}"
                self.cond.wait(remaining)

    def clear(self) -> None:
        with self.cond:
            self.batches.clear()
            self.notices.clear()


@pytest.fixture
def collector() -> Collector:
    return Collector()


@pytest.fixture
def watcher(collector: Collector, tmp_path) -> Iterator[FolderWatcher]:
    w = FolderWatcher(collector.on_batch, collector.on_notice, quiet_s=0.15, max_delay_s=1.0,
                      check_interval_s=0.1, polling_interval_s=0.2)
    w.start()
    yield w
    w.stop()
