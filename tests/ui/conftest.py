"""Fixtures for the desktop UI tests: isolated settings, an intercepted opener, a window."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings
from support.gate import StepGate
from ui.fake_engine import FakeEngine, FakeModelInfo, sample_docs

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


@pytest.fixture(scope="session")
def ui_model_dir(tiny_model_dir) -> Path:
    """The tiny real-architecture Qwen3 model (random but deterministic semantics)."""
    return tiny_model_dir


@pytest.fixture
def live(qtbot, tmp_path, ui_model_dir, recording_opener):
    """live(data_dir, gate=…, model_dir=…) -> (MainWindow, EngineClient): a window on a REAL
    engine (the tiny Qwen3 model unless `model_dir` names another), shut down after; with a
    StepGate (support.gate) its indexing steps run only as the test allows."""
    from qfinder.core.library.opener import LibraryOpener
    from qfinder.services.engine import EngineClient
    from qfinder.services.settings import EngineSettings
    from qfinder.ui.main_window import MainWindow
    from qfinder.ui.settings import AppSettings

    fast = EngineSettings(quiet_s=0.15, max_delay_s=1.0, watch_check_s=0.2, polling_interval_s=0.5,
                          reconcile_interval_s=0, nice=5)
    made: list = []

    def make(data_dir: Path | None = None, with_model: bool = True, gate: StepGate | None = None,
             model_dir: Path | None = None):
        model = str(model_dir or ui_model_dir) if with_model else None
        cores = LibraryOpener(data_dir or tmp_path / "data")
        engine = EngineClient(gate.cores(cores) if gate else cores, fast, model_folder=model)
        window = MainWindow(engine, AppSettings())
        qtbot.addWidget(window)
        made.append((window, engine, gate))
        window.show()
        with qtbot.waitSignal(engine.status, timeout=20_000,
                              check_params_cb=lambda s: s.state != "starting"):
            engine.start()
        return window, engine

    yield make
    for window, engine, gate in made:
        if gate is not None:
            gate.abort_held()
        window.close()
        assert engine.shutdown(3.0), "the engine did not stop within 3 s"
