"""PySide6 6.12.0 hands back a borrowed True from emit()/disconnect(): qfinder.services fixes it."""

from __future__ import annotations

import sys

from PySide6.QtCore import QObject, Signal

import qfinder.services  # noqa: F401  (applies the fix)


class _Sender(QObject):
    fired = Signal(object)


def test_emit_and_disconnect_keep_true_alive():
    sender = _Sender()

    def slot(_value: object) -> None:
        pass

    before = sys.getrefcount(True)
    for i in range(2000):
        sender.fired.connect(slot)
        sender.fired.emit(i)
        sender.fired.disconnect(slot)
    # without the fix True loses 4000 references here and the interpreter aborts soon after
    assert abs(sys.getrefcount(True) - before) < 50
