"""The window takes the model's facts and the index memory from the engine's status."""

from __future__ import annotations

from pathlib import Path

from qfinder.core.state import EngineStatus, ModelSummary, ProviderReport


def test_slider_and_picker_follow_the_status_model(qtbot, window, fake_engine):
    summary = ModelSummary("Some-MiniLM", 384, 384, 384, False)
    fake_engine.status.emit(EngineStatus("idle", "Some-MiniLM", ProviderReport("auto", "cpu"), 384,
                                         model=summary, index_memory_bytes=2_000_000))
    assert window.ui.dim.dims() == (384,)
    assert not window.ui.instructions.isEnabled()
    assert "index 2.0 MB" in window.ui.dim.stats_label.text()
    big = ModelSummary("Qwen3-Embedding-0.6B", 1024, 32, 512, True)
    fake_engine.status.emit(EngineStatus("idle", big.name, None, 512, model=big,
                                         index_memory_bytes=512))
    assert window.ui.dim.dims()[0] == 32 and window.ui.dim.dims()[-1] == 1024
    assert window.ui.dim.dim() == 512 and window.ui.instructions.isEnabled()
    assert "index 512 B" in window.ui.dim.stats_label.text()


def test_live_window_shows_the_engine_model_and_index_memory(qtbot, live, tmp_path: Path):
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a.txt").write_text("alpha beta gamma\n")
    window, engine = live()
    with qtbot.waitSignal(engine.roots, timeout=30_000,
                          check_params_cb=lambda states: bool(states) and states[0].files_indexed == 1
                          and states[0].availability != "indexing"):
        window.add_folders([str(folder)])
    status = window.engine_status
    assert status is not None and status.model is not None
    assert window.ui.dim.dims()[0] == status.model.min_dim == 32
    assert window.ui.dim.dims()[-1] == status.model.full_dim == 128
    with qtbot.waitSignal(engine.status, timeout=10_000,
                          check_params_cb=lambda s: s.index_memory_bytes is not None):
        engine.set_dim(64)
    assert "index " in window.ui.dim.stats_label.text()
