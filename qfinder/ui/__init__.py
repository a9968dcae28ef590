"""PySide6 widgets. They talk to the services through signals and slots only.

Importing it changes nothing global: qfinder.app applies the PySide6 signal fix
(`qfinder.services.qt_fix`) before any window is built.
"""
