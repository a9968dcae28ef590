"""The thread-leak guard of the watch and engine tests: every test ends with no stray threads."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from watchdog.observers.inotify_c import InotifyFD


def stray_threads(before: set[threading.Thread]) -> list[threading.Thread]:
    # watchdog keeps one process-wide inotify reader (InotifyFD) on purpose; QThreads that ran
    # Python code show up as _DummyThread forever, so the engine tests check Qt threads through
    # EngineClient.running instead.
    return [t for t in threading.enumerate()
            if t not in before and t.is_alive() and not isinstance(t, InotifyFD | threading._DummyThread)]


def wait_for_no_strays(before: set[threading.Thread], timeout: float = 3.0) -> list[threading.Thread]:
    deadline = time.monotonic() + timeout
    strays = stray_threads(before)
    while strays and time.monotonic() < deadline:
        strays[0].join(0.05)
        strays = stray_threads(before)
    return strays


@pytest.fixture(autouse=True)
def no_thread_leaks() -> Iterator[None]:
    before = set(threading.enumerate())
    yield
    strays = wait_for_no_strays(before)
    assert not strays, f"threads left running: {[t.name for t in strays]}"
