"""Shared by the benches: the median wall time of a call over several runs."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def timed(fn: Callable[[], T], repeat: int) -> tuple[float, T]:
    """(median seconds, last result) of `repeat` calls of `fn`."""
    times: list[float] = []
    result = fn()  # warm-up: the first call pays for caches and imports, not what we measure
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result
