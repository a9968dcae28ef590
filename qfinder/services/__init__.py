"""The Qt service layer (QtCore only): the engine thread and the watcher bridge.

Importing it applies `qt_fix` (PySide6 6.12.0 loses a reference to True on every
`signal.emit()` and `signal.disconnect()` and eventually aborts the interpreter); the UI and app
get the fix by importing `qfinder.services` before emitting signals.
"""

from qfinder.services import qt_fix

qt_fix.apply()
