"""`qfinder WORD ...`: a subcommand runs the CLI, existing folders open the window, any other
bare word is a mistyped command (one line, the closest command, exit 2). And `--version`."""

from __future__ import annotations

import subprocess
import sys
from importlib import metadata

import pytest

from qfinder import app


@pytest.fixture
def window_args(monkeypatch):
    """What the desktop start would have been given (the window itself is not opened)."""
    seen: list[list[str]] = []
    monkeypatch.setattr(app, "_run_gui", lambda args: seen.append(args) or 0)
    return seen


def test_a_mistyped_command_names_the_closest_one(tmp_path, monkeypatch, window_args, capsys):
    monkeypatch.chdir(tmp_path)
    assert app.main(["serach", "foo"]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and err.startswith("qfinder: ")
    assert "'serach'" in err and "'search'" in err
    assert window_args == []


def test_a_word_like_no_command_lists_the_commands(tmp_path, monkeypatch, window_args, capsys):
    monkeypatch.chdir(tmp_path)
    assert app.main(["xyzzy"]) == 2
    err = capsys.readouterr().err
    assert "'xyzzy'" in err and all(name in err for name in ("index", "search", "status", "models"))
    assert window_args == []


def test_existing_folders_still_open_the_window(tmp_path, monkeypatch, window_args):
    (tmp_path / "serach").mkdir()  # a folder that happens to look like a typo is still a folder
    monkeypatch.chdir(tmp_path)
    assert app.main(["serach"]) == 0
    assert app.main([str(tmp_path)]) == 0
    assert app.main([]) == 0
    assert window_args == [["serach"], [str(tmp_path)], []]


def test_version_comes_from_the_package_metadata():
    done = subprocess.run([sys.executable, "-m", "qfinder", "--version"], capture_output=True, text=True,
                          timeout=60)
    assert (done.returncode, done.stdout, done.stderr) == (0, f"qfinder {metadata.version('qfinder')}\n", "")
