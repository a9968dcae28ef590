"""Run background indexing at a lower OS priority than the window.

On Linux a thread has its own nice value: `os.setpriority(PRIO_PROCESS, native thread id, …)`
lowers just the engine thread, and threads it starts later (ONNX Runtime's intra-op pool is
created when the session is loaded there) inherit it. Elsewhere only Qt's thread priority hint
is set: lowering the whole process would slow the window too.
"""

from __future__ import annotations

import logging
import os
import sys
import threading

log = logging.getLogger(__name__)

MAX_NICE = 19


def lower_current_thread(increment: int) -> int | None:
    """Add `increment` to this thread's nice value; returns the new value, or None if unsupported."""
    if increment <= 0 or not sys.platform.startswith("linux"):
        return None
    tid = threading.get_native_id()
    try:
        current = os.getpriority(os.PRIO_PROCESS, tid)
        target = min(MAX_NICE, current + increment)
        os.setpriority(os.PRIO_PROCESS, tid, target)
    except OSError as exc:  # containers may forbid it; indexing still works
        log.info("could not lower the indexing thread's priority: %s", exc)
        return None
    log.debug("engine thread %d runs at nice %d", tid, target)
    return target

