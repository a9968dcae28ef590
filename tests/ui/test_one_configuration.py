"""One data folder, one configuration: the command line and the app share the model and the
chunking, so neither throws away the other's vectors; a change that re-embeds asks first."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support.cli import cli

from qfinder.core.config import LibraryConfig
from qfinder.core.storage.catalog import Catalog
from qfinder.desktop import adopt_legacy_config, make_engine
from qfinder.ui.settings import AppSettings, settings_path


def _write_docs(root: Path) -> Path:
    root.mkdir(parents=True)
    for i, topic in enumerate(("tomato seedlings", "kayak repairs", "tax return", "violin practice")):
        (root / f"note{i}.txt").write_text(f"{topic} " * 120 + f"end of note {i}\n")
    return root


def _chunks(data: Path) -> dict[str, tuple[int, ...]]:
    """Per file, its chunk ids: the same ids before and after means nothing was re-embedded."""
    catalog = Catalog(data / "catalog.db", readonly=True)
    try:
        return {path: tuple(catalog.file_chunk_ids(path)) for path in catalog.file_states_under("/")}
    finally:
        catalog.close()


def _start_app_engine(qtbot, data: Path):
    """The engine the desktop app builds for `data`, started and caught up; (engine, embedded)."""
    engine = make_engine(AppSettings(), data)
    embedded = [0]
    engine.progress.connect(lambda p: embedded.__setitem__(0, p.chunks_embedded))
    with qtbot.waitSignal(engine.status, timeout=30_000, check_params_cb=lambda s: s.state == "idle"):
        engine.start()
    return engine, embedded


def test_the_app_reuses_what_the_command_line_indexed(qtbot, capsys, tmp_path, tiny_model_dir):
    docs, data = _write_docs(tmp_path / "docs"), tmp_path / "data"
    (tmp_path / "data").mkdir()
    LibraryConfig(chunk_tokens=200).save(data)  # not the default chunk size: shared all the same
    code, _, err = cli(capsys, "index", docs, "--model", tiny_model_dir, "--data-dir", data)
    assert code == 0, err
    before = _chunks(data)
    assert len(before) == 4 and all(before.values())
    engine, embedded = _start_app_engine(qtbot, data)
    try:
        with qtbot.waitSignal(engine.status, timeout=10_000) as status:
            engine.set_dim(32)  # any request answers with a status: the model the folder named
        assert status.args[0].model_name is not None
        assert status.args[0].config.chunk_tokens == 200
    finally:
        assert engine.shutdown(3.0)
    assert embedded[0] == 0 and _chunks(data) == before


def test_the_command_line_reuses_what_the_app_indexed(qtbot, capsys, tmp_path, tiny_model_dir):
    docs, data = _write_docs(tmp_path / "docs"), tmp_path / "data"
    engine = make_engine(AppSettings(), data)
    with qtbot.waitSignal(engine.status, timeout=30_000, check_params_cb=lambda s: s.state != "starting"):
        engine.start()
    try:
        with qtbot.waitSignal(engine.status, timeout=60_000,
                              check_params_cb=lambda s: s.state == "idle" and s.model is not None):
            engine.configure(LibraryConfig(model_folder=str(tiny_model_dir), chunk_tokens=200))
        with qtbot.waitSignal(engine.progress, timeout=30_000,
                              check_params_cb=lambda p: p.files_pending == 0):
            engine.add_roots([str(docs)])
    finally:
        assert engine.shutdown(3.0)
    before = _chunks(data)
    assert len(before) == 4 and all(before.values())
    code, _, err = cli(capsys, "index", docs, "--data-dir", data)  # no --model: the folder's
    assert code == 0, err
    assert _chunks(data) == before
    assert LibraryConfig.load(data).chunk_tokens == 200


def test_an_older_apps_model_settings_become_a_new_data_folders_configuration(tmp_path):
    settings_path().parent.mkdir(parents=True, exist_ok=True)
    settings_path().write_text(json.dumps({"model_folder": "/models/m", "chunk_tokens": 300,
                                           "threads": 0, "default_dim": 256, "hybrid": False}))
    fresh, configured = tmp_path / "fresh", tmp_path / "configured"
    configured.mkdir()
    LibraryConfig(model_folder="/models/other").save(configured)
    adopt_legacy_config(fresh)
    adopt_legacy_config(configured)
    assert LibraryConfig.load(fresh) == LibraryConfig(model_folder="/models/m", chunk_tokens=300,
                                                      dim=256)
    assert LibraryConfig.load(configured) == LibraryConfig(model_folder="/models/other")


@pytest.fixture
def answers(monkeypatch):
    """The re-index question: records its text and answers with answers[0]."""
    from qfinder.ui import reconfigure

    box = {"answer": False, "asked": []}

    def ask(_parent, text: str) -> bool:
        box["asked"].append(text)
        return bool(box["answer"])

    monkeypatch.setattr(reconfigure, "ask", ask)
    return box


def test_a_change_that_re_embeds_asks_first_with_the_work_it_means(window, fake_engine, answers):
    current = LibraryConfig(model_folder="/models/m")
    fake_engine.config = current
    fake_engine.announce()
    bigger = LibraryConfig(model_folder="/models/m", chunk_tokens=512)
    window.apply_settings(window.settings, bigger)
    assert len(answers["asked"]) == 1 and "120 files" in answers["asked"][0]
    assert "2,400,000 tokens" in answers["asked"][0] and "keeps answering" in answers["asked"][0]
    assert not [c for c in fake_engine.calls if c[0] == "configure"]  # "No": nothing changed
    answers["answer"] = True
    window.apply_settings(window.settings, bigger)
    assert [c for c in fake_engine.calls if c[0] == "configure"] == [("configure", bigger)]


def test_a_change_that_re_embeds_nothing_is_applied_without_asking(window, fake_engine, answers):
    fake_engine.config = LibraryConfig(model_folder="/models/m")
    fake_engine.announce()
    fewer = LibraryConfig(model_folder="/models/m", exclude_globs=("*.log",), threads=2)
    window.apply_settings(window.settings, fewer)
    assert answers["asked"] == []
    assert [c for c in fake_engine.calls if c[0] == "configure"] == [("configure", fewer)]
