"""Work around PySide6 6.12.0's `SignalInstance.emit` refcount bug (reproduced here).

In 6.12.0 `signal.emit(...)` returns `True` without taking a reference, so every emit called
from Python decrements `Py_True`'s refcount; after a few hundred emits the interpreter aborts
with "Fatal Python error: bool_dealloc" (during the run or at exit). `apply()` measures whether
the installed PySide6 has the bug and, only then, wraps `emit` to add the missing reference.
Adding a reference to True/False is harmless even if the measurement were wrong.
"""

from __future__ import annotations

import ctypes
import logging
import sys
from typing import Any

from PySide6.QtCore import QObject, Signal, SignalInstance

log = logging.getLogger(__name__)

_incref = ctypes.pythonapi.Py_IncRef
_incref.argtypes = [ctypes.py_object]
_incref.restype = None
_applied = False


class _Probe(QObject):
    ping = Signal()


def emit_loses_a_reference() -> bool:
    """True when emit() hands back a borrowed bool (the 6.12.0 bug)."""
    probe = _Probe()
    before = sys.getrefcount(True)
    for _ in range(8):
        probe.ping.emit()
    lost = before - sys.getrefcount(True)
    _incref_n(True, max(lost, 0))  # give back what the probe took
    return lost >= 8


def _incref_n(value: bool, n: int) -> None:
    for _ in range(n):
        _incref(value)


def apply() -> bool:
    """Patch SignalInstance.emit when needed; returns True when the patch is active."""
    global _applied
    if _applied:
        return True
    if not emit_loses_a_reference():
        return False
    original = SignalInstance.emit

    def emit(self: SignalInstance, *args: Any) -> Any:
        result = original(self, *args)
        if result is True or result is False:
            _incref(result)
        return result

    SignalInstance.emit = emit  # type: ignore[method-assign]
    _applied = True
    log.debug("patched SignalInstance.emit (PySide6 refcount bug)")
    return True
