"""The engine with an embedding server: an outage pauses indexing with the retry said, search
goes on, and after the server is back nothing is lost; a server serving another model stops it."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest
from support.embed_servers import EmbedServer, quiet_backoff, server_config
from support.gate import StepGate

from qfinder.core.indexing.indexer import IndexSettings
from qfinder.core.model.embedder import Embedder
from qfinder.core.storage.catalog import Catalog
from qfinder.services.settings import EngineSettings

SMALL_STEPS = IndexSettings(step_files=2, step_tokens=256)
# The engine tests' quick watcher settings; a server retry only when resume() asks for it.
WAIT_FOR_RESUME = EngineSettings(quiet_s=0.15, max_delay_s=1.0, watch_check_s=0.1, polling_interval_s=0.2,
                                 reconcile_interval_s=0, nice=5, server_retry_s=3600.0,
                                 server_retry_max_s=3600.0)


@pytest.fixture
def server(tiny_model_dir):
    with EmbedServer(Embedder.from_folder(tiny_model_dir, "cpu"), "tei") as running:
        yield running


def _corpus(root: Path, n: int) -> None:
    root.mkdir(parents=True)
    for i in range(n):
        (root / f"doc{i:02d}.txt").write_text(" ".join(f"w{i}x{j}" for j in range(60)) + f" marker{i}\n")


def _counts(data: Path):
    with contextlib.closing(Catalog(data / "catalog.db", readonly=True)) as catalog:
        return catalog.counts()


def _engine_on(server: EmbedServer, make_engine, tmp_path: Path, model: Path, files: int):
    """(an engine indexing `files` files through `server`, its step gate, its data folder)."""
    data = tmp_path / "data"
    data.mkdir()
    server_config(server.url, model).save(data)
    _corpus(tmp_path / "root", files)
    gate = StepGate()
    client = make_engine(data, settings=WAIT_FOR_RESUME, index_settings=SMALL_STEPS, gate=gate,
                         opened=quiet_backoff)
    client.add_roots([str(tmp_path / "root")])
    return client, gate, data


def test_an_outage_pauses_indexing_search_goes_on_and_nothing_is_lost(
        qtbot, make_engine, helpers, tmp_path, tiny_model_dir, server) -> None:
    client, gate, data = _engine_on(server, make_engine, tmp_path, tiny_model_dir, 12)
    gate.step(qtbot)
    gate.step(qtbot)
    server.stop()
    with qtbot.waitSignal(client.status, timeout=20_000,
                          check_params_cb=lambda s: s.state == "paused" and "Retrying in" in s.message) as held:
        gate.open()
    assert "unreachable" in held.args[0].message and "3600 s" in held.args[0].message
    found = helpers.ask(qtbot, client, "doc03", mode="hybrid")  # answered while the server is away
    assert "doc03.txt" in [Path(r.path).name for r in found.results]
    assert 0 < _counts(data).indexed < 12
    server.start()
    with qtbot.waitSignal(client.status, timeout=30_000, check_params_cb=lambda s: s.state == "idle"):
        client.resume()
    counts = _counts(data)
    assert (counts.indexed, counts.pending, counts.chunks, counts.vectors) == (12, 0, 12, 12)


def test_a_server_that_now_serves_another_model_stops_indexing(
        qtbot, make_engine, tmp_path, tiny_model_dir, server) -> None:
    client, gate, data = _engine_on(server, make_engine, tmp_path, tiny_model_dir, 12)
    with qtbot.waitSignal(client.progress, timeout=20_000):
        gate.step(qtbot)
    gate.wait_held(qtbot)  # the next step waits: the first one is committed
    indexed_before = _counts(data).indexed
    assert 0 < indexed_before < 12
    server.stop()
    server.quirks.served = "someone/else"  # restarted with another model
    server.start()
    with qtbot.waitSignal(client.status, timeout=20_000,
                          check_params_cb=lambda s: s.state == "paused" and "stopped" in s.message) as held:
        gate.open()
    assert "someone/else" in held.args[0].message
    assert _counts(data).indexed == indexed_before  # nothing of the other model was stored
