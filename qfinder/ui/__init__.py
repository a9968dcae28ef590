"""PySide6 widgets. They talk to the services through signals and slots only.

Importing `qfinder.services` first applies its PySide6 6.12.0 signal refcount fix to every
process that shows a window (see `qfinder.services.qt_fix`).
"""

import qfinder.services  # noqa: F401  (applies qt_fix before any widget emits a signal)
