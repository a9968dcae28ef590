"""Work around PySide6 6.12.0's refcount bug in `SignalInstance.emit` and `.disconnect`.

In 6.12.0 both return `True` without taking a reference (reproduced here), so every call from
Python decrements `Py_True`'s refcount; after a few hundred emits (pytest-qt's waitSignal also
disconnects each time) the interpreter aborts with "Fatal Python error: bool_dealloc", during
the run or at exit. `apply()` measures whether the installed PySide6 has the bug and, only then,
wraps the faulty methods to add the missing reference. An extra reference to True/False is
harmless even if the measurement were wrong.
"""

from __future__ import annotations

import ctypes
import logging
import sys
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal, SignalInstance

log = logging.getLogger(__name__)

_incref = ctypes.pythonapi.Py_IncRef
_incref.argtypes = [ctypes.py_object]
_incref.restype = None
_patched: set[str] = set()
PROBES = 8


class _Probe(QObject):
    ping = Signal()


def _noop() -> None:
    pass


def _emit(probe: _Probe) -> None:
    probe.ping.emit()


def _connect_disconnect(probe: _Probe) -> None:
    probe.ping.connect(_noop)
    probe.ping.disconnect(_noop)


def _loses_references(call: Callable[[_Probe], None]) -> bool:
    """True when `call` leaves True with fewer references (a borrowed bool handed back)."""
    probe = _Probe()
    before = sys.getrefcount(True)
    for _ in range(PROBES):
        call(probe)
    lost = before - sys.getrefcount(True)
    for _ in range(max(lost, 0)):  # give back what the probe took
        _incref(True)
    return lost >= PROBES


def _wrap(name: str) -> None:
    original = getattr(SignalInstance, name)

    def fixed(self: SignalInstance, *args: Any) -> Any:
        result = original(self, *args)
        if result is True or result is False:
            _incref(result)
        return result

    fixed.__name__ = name
    fixed.__doc__ = original.__doc__
    setattr(SignalInstance, name, fixed)
    _patched.add(name)


def _void_calls_lose_none() -> bool:
    """True when a void Qt method hands back None without a reference (6.12.0 does, for
    QPainter.save, setPen, fillRect, QWidget.setObjectName, ...)."""
    probe = _Probe()
    before = sys.getrefcount(None)
    for _ in range(PROBES):
        probe.setObjectName("probe")
    lost = before - sys.getrefcount(None)
    for _ in range(max(lost, 0)):
        _incref(None)
    return lost >= PROBES


def _pin_none() -> None:
    """Void methods are called everywhere (a results repaint loses ~90 references to None, a
    shown response ~240; None starts with ~10 000): wrapping them all is not practical, so
    give None 2**40 more references, which no session can use up ("none_dealloc" abort).
    Only done when the loss was measured: where None is immortal (CPython 3.12+) its count
    never changes, and the probe finds nothing."""
    ctypes.c_ssize_t.from_address(id(None)).value += 1 << 40
    _patched.add("None")


def apply() -> set[str]:
    """Patch the methods that need it; returns the names patched so far."""
    for name, probe in (("emit", _emit), ("disconnect", _connect_disconnect)):
        if name not in _patched and _loses_references(probe):
            _wrap(name)
            log.debug("patched SignalInstance.%s (PySide6 refcount bug)", name)
    if "None" not in _patched and _void_calls_lose_none():
        _pin_none()
        log.debug("pinned None (PySide6 void methods return it without a reference)")
    return set(_patched)
