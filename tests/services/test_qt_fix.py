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


def test_void_methods_cannot_use_up_none():
    # 6.12.0's void methods (QPainter.save, setPen, QObject.setObjectName...) hand back None
    # without a reference: the results list lost ~90 per repaint and aborted ("none_dealloc")
    # after ~100 repaints. Whatever the binding does, None must outlive a long session.
    sender = _Sender()
    for _ in range(20_000):
        sender.setObjectName("x")
    assert sys.getrefcount(None) > 1_000_000 or _none_is_kept(sender)


def _none_is_kept(sender: QObject) -> bool:
    before = sys.getrefcount(None)
    for _ in range(1000):
        sender.setObjectName("x")
    return sys.getrefcount(None) >= before - 10
