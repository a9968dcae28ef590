"""The Qt service layer (QtCore only): the engine thread, model jobs and the watcher bridge.

Importing it changes nothing global. The PySide6 6.12.0 signal refcount fix (`qt_fix.apply()`)
is applied by whoever composes the process: qfinder.app for the window, tests/conftest.py.
"""
