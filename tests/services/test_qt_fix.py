"""PySide6 6.12.0 hands back a borrowed True from emit()/disconnect(): `qt_fix.apply()` fixes it.

The fix is applied explicitly, by the composition root (qfinder.app) and by tests/conftest.py:
importing a package patches nothing."""

from __future__ import annotations

import ctypes
import subprocess
import sys

from PySide6.QtCore import QObject, Signal

from qfinder.services import qt_fix


class _Sender(QObject):
    fired = Signal(object)


def test_emit_and_disconnect_keep_true_alive():
    qt_fix.apply()
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
    qt_fix.apply()
    sender = _Sender()
    for _ in range(20_000):
        sender.setObjectName("x")
    assert sys.getrefcount(None) > 1_000_000 or _none_is_kept(sender)


def _none_is_kept(sender: QObject) -> bool:
    before = sys.getrefcount(None)
    for _ in range(1000):
        sender.setObjectName("x")
    return sys.getrefcount(None) >= before - 10


def test_the_measurement_sees_a_call_that_drops_true():
    # The installed PySide6 may not have the bug, so show the measurement on a call that has it
    # (where True is immortal, CPython 3.12+, no call can drop it and there is nothing to fix).
    decref = ctypes.pythonapi.Py_DecRef
    decref.argtypes = [ctypes.py_object]
    before = sys.getrefcount(True)
    dropped = qt_fix._loses_references(lambda _probe: decref(True))
    assert dropped is (sys.getrefcount(True) < 1 << 30)
    assert sys.getrefcount(True) >= before - 2  # and it gave back what it took


def test_importing_the_layers_patches_nothing():
    probe = ("import sys, qfinder.services, qfinder.ui, qfinder.services.engine, "
             "qfinder.ui.main_window; print('qfinder.services.qt_fix' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False"]


def test_the_desktop_entry_applies_the_fix_before_the_window(monkeypatch):
    import qfinder.app
    import qfinder.desktop

    calls: list[str] = []
    monkeypatch.setattr(qt_fix, "apply", lambda: calls.append("fix") or set())
    monkeypatch.setattr(qfinder.desktop, "run_desktop", lambda args: calls.append("window") or 0)
    assert qfinder.app._run_gui([]) == 0
    assert calls == ["fix", "window"]
