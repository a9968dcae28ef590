"""Fixtures for the desktop UI tests: isolated settings, an intercepted opener, a window."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from ui.fake_engine import FakeEngine, FakeModelInfo, sample_docs
from PySide6.QtCore import QSettings

from qfinder.ui import opener as opener_module
from qfinder.ui.opener import RecordingOpener


@pytest.fixture(autouse=True)
def _isolated_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings JSON and QSettings go to a temporary folder, never the user's."""
    monkeypatch.setenv("QFINDER_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    QSettings.setPath(QSettings.Format.NativeFormat, QSettings.Scope.UserScope,
                      str(tmp_path / "qsettings"))


@pytest.fixture
def recording_opener() -> Iterator[RecordingOpener]:
    recorder = RecordingOpener()
    previous = opener_module.set_opener(recorder)
    yield recorder
    opener_module.set_opener(previous)


@pytest.fixture
def docs_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "docs"
    folder.mkdir()
    for path, text in sample_docs(str(folder)).items():
        Path(path).write_text(text, encoding="utf-8")
    return folder


@pytest.fixture
def fake_engine(docs_folder: Path) -> FakeEngine:
    return FakeEngine(sample_docs(str(docs_folder)), FakeModelInfo())


@pytest.fixture
def window(qtbot, fake_engine: FakeEngine, recording_opener: RecordingOpener):
    from qfinder.ui.main_window import MainWindow

    win = MainWindow(fake_engine)
    qtbot.addWidget(win)
    win.show()
    fake_engine.start()
    return win
