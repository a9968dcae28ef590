"""The Qt service layer (QtCore only): the engine thread and the watcher bridge."""
