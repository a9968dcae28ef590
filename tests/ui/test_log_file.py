"""The desktop app's log names the files the person opened: it stays private, and it rotates."""

from __future__ import annotations

import logging
import logging.handlers
import os
import stat

import pytest

from qfinder.ui.log_file import setup_logging

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def log_handler():
    """The handler setup_logging adds to the root logger, taken off again afterwards."""
    root = logging.getLogger()
    before, level, umask = list(root.handlers), root.level, os.umask(0o022)  # a usual desktop umask
    found: list[logging.handlers.RotatingFileHandler] = []
    yield found
    for handler in root.handlers[:]:
        if handler not in before:
            root.removeHandler(handler)
            handler.close()
    root.setLevel(level)
    os.umask(umask)


def added_handler(path) -> logging.handlers.RotatingFileHandler:
    [handler] = [h for h in logging.getLogger().handlers
                 if isinstance(h, logging.handlers.RotatingFileHandler)
                 and h.baseFilename == str(path)]
    return handler


def test_a_new_log_is_private(tmp_path, log_handler):
    folder = tmp_path / "data"
    path = setup_logging(folder)
    logging.getLogger("qfinder.test").warning("opened %s", tmp_path / "secret.pdf")
    assert mode(folder) == 0o700 and mode(path.parent) == 0o700 and mode(path) == 0o600
    assert "secret.pdf" in path.read_text(encoding="utf-8")


def test_an_older_wider_log_is_made_private(tmp_path, log_handler):
    logs = tmp_path / "data" / "logs"
    logs.mkdir(parents=True, mode=0o755)
    for name in ("qfinder.log", "qfinder.log.1"):
        (logs / name).write_text("from an older qfinder\n")
        os.chmod(logs / name, 0o644)
    path = setup_logging(tmp_path / "data")
    assert mode(logs) == 0o700 and mode(path) == 0o600 and mode(logs / "qfinder.log.1") == 0o600


def test_the_log_rotates_into_private_files(tmp_path, log_handler):
    path = setup_logging(tmp_path / "data")
    handler = added_handler(path)
    assert handler.maxBytes > 0 and handler.backupCount > 0
    logging.getLogger("qfinder.test").warning("before the rollover")
    handler.doRollover()  # what a full log does; driven directly rather than by writing MBs
    logging.getLogger("qfinder.test").warning("after the rollover")
    rotated = path.with_name("qfinder.log.1")
    assert "before the rollover" in rotated.read_text(encoding="utf-8")
    assert "after the rollover" in path.read_text(encoding="utf-8")
    assert mode(rotated) == 0o600 and mode(path) == 0o600
