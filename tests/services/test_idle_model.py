"""An idle engine closes its model after `model_idle_s` without an inference and reopens it when
a search needs it; the engine's clock (a ManualClock here) alone decides when."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from support.gate import ManualClock

from qfinder.core.library.library import Library
from qfinder.core.results import SearchRequest
from qfinder.services.idle_model import IdleModel
from qfinder.services.settings import EngineSettings

IDLE_S = 600.0


def _indexed(data: Path, root: Path, model: Path) -> Library:
    root.mkdir()
    (root / "soup.txt").write_text("Leek and potato soup with a little cream.")
    library = Library.open(data, writer=True, model_folder=str(model))
    assert library.indexer is not None
    library.indexer.plan([str(root)])
    while library.indexer.pending():
        library.indexer.step()
    return library


def test_the_model_closes_only_after_the_idle_period_since_its_last_use(qtbot, tmp_path, tiny_model_dir):
    clock = ManualClock()
    library = _indexed(tmp_path / "data", tmp_path / "root", tiny_model_dir)
    try:
        idle = IdleModel(lambda: library, EngineSettings(model_idle_s=IDLE_S), clock)
        released: list[bool] = []
        idle.released.connect(lambda: released.append(True))
        assert library.embedder is not None and library.embedder.loaded  # opened to index
        clock.advance(IDLE_S - 1)
        idle.check()
        assert library.embedder.loaded and not released
        idle.used()  # a search at this moment: the period starts again
        clock.advance(IDLE_S - 1)
        idle.check()
        assert library.embedder.loaded and not released
        clock.advance(1)
        idle.check()
        assert not library.embedder.loaded and released == [True]
        opening = library.model_opening
        assert opening is not None and not opening.loaded
        clock.advance(IDLE_S)
        idle.check()  # nothing open: nothing released, no status to send
        assert released == [True]
        hits = library.search(SearchRequest("leek soup", mode="semantic"))
        assert hits.results and library.embedder.loaded
        assert library.model_opening is not None and library.model_opening.graph == "cached"
    finally:
        library.close()


def test_the_engine_reports_the_model_closed_when_its_clock_passes_the_idle_period(
        qtbot, make_engine, tmp_path, helpers):
    clock = ManualClock()
    root = tmp_path / "root"
    root.mkdir()
    (root / "soup.txt").write_text("Leek and potato soup with a little cream.")
    settings = EngineSettings(quiet_s=0.15, max_delay_s=1.0, watch_check_s=0.1, polling_interval_s=0.2,
                              reconcile_interval_s=0, nice=5, model_idle_s=IDLE_S, model_check_s=0.05)
    client = make_engine(settings=settings, clock=clock)
    statuses: list = []
    client.status.connect(statuses.append)
    with qtbot.waitSignal(client.roots, timeout=30_000,
                          check_params_cb=lambda states: bool(states) and states[0].files_indexed == 1
                          and states[0].availability != "indexing"):
        client.add_roots([str(root)])
    assert statuses[-1].opening is not None and statuses[-1].opening.loaded
    with qtbot.waitSignal(client.status, timeout=10_000,
                          check_params_cb=lambda s: s.opening is not None and not s.opening.loaded):
        clock.advance(IDLE_S + 1)
    assert helpers.ask(qtbot, client, "leek soup", mode="semantic").results  # reopened for it


def test_an_idle_period_of_zero_never_closes_the_model(qtbot, tmp_path, tiny_model_dir):
    clock = ManualClock()
    library = _indexed(tmp_path / "data", tmp_path / "root", tiny_model_dir)
    try:
        idle = IdleModel(lambda: library, dataclasses.replace(EngineSettings(), model_idle_s=0), clock)
        clock.advance(10 * IDLE_S)
        idle.check()
        assert library.embedder is not None and library.embedder.loaded
    finally:
        library.close()


def test_a_released_model_lets_go_of_its_session_and_tokenizer(tmp_path, tiny_model_dir):
    import weakref

    library = _indexed(tmp_path / "data", tmp_path / "root", tiny_model_dir)
    try:
        opened = weakref.ref(library.embedder.load())  # type: ignore[union-attr]
        assert library.release_model() and not library.release_model()
        assert opened() is None  # nothing else keeps the closed model (and its memory) alive
    finally:
        library.close()
