"""The window takes the model's facts and the index memory from the engine's status."""

from __future__ import annotations

from pathlib import Path

from qfinder.core.state import EngineStatus, ModelOpening, ModelSummary, ProviderReport


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


def test_the_model_label_says_how_long_the_model_takes_to_open(window, fake_engine):
    label = window.ui.status.model_label
    fake_engine.status.emit(EngineStatus("idle", "Some-MiniLM", ProviderReport("auto", "cpu"), 384,
                                         opening=ModelOpening(2.5, "saved", loaded=False)))
    assert "opens on first use (last time 2.5 s, optimized and cached)" in label.toolTip()
    fake_engine.status.emit(EngineStatus("idle", "Some-MiniLM", ProviderReport("auto", "cpu"), 384,
                                         opening=ModelOpening(0.3, "cached", loaded=True)))
    assert "opened in 0.3 s, from the cached optimized graph" in label.toolTip()
    fallback = ProviderReport("cuda", "cpu", "no CUDA here")
    fake_engine.status.emit(EngineStatus("idle", "Some-MiniLM", fallback, 384,
                                         opening=ModelOpening(1.0, "optimized", loaded=True)))
    assert "no CUDA here" in label.toolTip() and "opened in 1.0 s, optimized, not cached" in label.toolTip()


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
    assert status.opening is not None and status.opening.loaded and status.opening.seconds > 0
    assert status.opening.graph in ("saved", "cached")  # the fixture's data folder may have one already
    assert "opened in" in window.ui.status.model_label.toolTip()
    assert window.ui.dim.dims()[0] == status.model.min_dim == 32
    assert window.ui.dim.dims()[-1] == status.model.full_dim == 128
    with qtbot.waitSignal(engine.status, timeout=10_000,
                          check_params_cb=lambda s: s.index_memory_bytes is not None):
        engine.set_dim(64)
    assert "index " in window.ui.dim.stats_label.text()
