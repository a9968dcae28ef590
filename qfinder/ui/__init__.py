"""PySide6 widgets. They talk to the services through signals and slots only."""
