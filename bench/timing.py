"""Shared by the benches: the median wall time of a call over several runs, a process's resident
memory, the CPU's summary."""

from __future__ import annotations

import os
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


MEMORY_FIELDS = ("VmRSS", "RssAnon", "RssFile", "VmHWM")


def rss(pid: int | str = "self") -> dict[str, float]:
    """Resident MB of a process (default this one), from /proc/PID/status: VmRSS (all), RssAnon (heap,
    arenas, buffers), RssFile (mapped files: libraries, memory-mapped weights) and VmHWM (peak VmRSS)."""
    with open(f"/proc/{pid}/status", encoding="utf-8", errors="replace") as handle:
        return {line.split(":")[0]: int(line.split()[1]) / 1024 for line in handle if line.startswith(MEMORY_FIELDS)}


def cpu_summary() -> str:
    """The SIMD features that decide fp32 and int8 speed (the design's peaks assume AVX-512 + VNNI)."""
    # peaks imports onnx and onnxruntime: a bench that only reads memory must not hold them
    from peaks import cpu_model_and_flags

    model, flags = cpu_model_and_flags()
    wanted = [f for f in ("avx2", "fma", "avx512f", "avx512_vnni", "avx_vnni", "avx512_bf16", "amx_bf16", "amx_int8") if f in flags]
    return f"cpu              {model}, {os.cpu_count()} CPUs, SIMD: {' '.join(wanted) or 'none of avx2/avx512/vnni'}"
