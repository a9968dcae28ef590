"""Engine tests: a tiny real Qwen3 model, engines that are always shut down, no stray threads."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from support.gate import StepGate, as_opened
from support.threads import no_thread_leaks  # noqa: F401  (autouse guard)

from qfinder.core.indexing.indexer import IndexSettings
from qfinder.core.library.library import Library
from qfinder.core.library.opener import LibraryOpener
from qfinder.core.results import SearchRequest, SearchResponse
from qfinder.services.engine import EngineClient
from qfinder.services.settings import EngineSettings

FAST = EngineSettings(quiet_s=0.15, max_delay_s=1.0, watch_check_s=0.1, polling_interval_s=0.2,
                      reconcile_interval_s=0, nice=5)


@pytest.fixture
def make_engine(qtbot, tmp_path, tiny_model_dir) -> Iterator[Callable[..., EngineClient]]:
    """make_engine(data_dir=…, settings=…, index_settings=…, gate=…, clock=…, opened=…) -> a
    started EngineClient, ready. With a StepGate its steps run only as the test allows
    (support.gate); `opened(library)` runs on each library the engine opens."""
    clients: list[EngineClient] = []
    gates: list[StepGate] = []

    def make(data_dir: Path | None = None, settings: EngineSettings = FAST,
             index_settings: IndexSettings | None = None, model: Path | None = None,
             start: bool = True, gate: StepGate | None = None,
             clock: Callable[[], float] = time.monotonic,
             opened: Callable[[Library], None] | None = None) -> EngineClient:
        cores = LibraryOpener(data_dir or tmp_path / "data", index_settings=index_settings)
        if gate is not None:
            gates.append(gate)
            cores = gate.cores(cores)
        if opened is not None:  # a stand-in put into each library the engine opens
            cores = as_opened(cores, opened)
        client = EngineClient(cores, settings, model_folder=str(model or tiny_model_dir), clock=clock)
        clients.append(client)
        if start:
            with qtbot.waitSignal(client.status, timeout=20_000,
                                  check_params_cb=lambda s: s.state != "starting"):
                client.start()
        return client

    yield make
    for gate in gates:
        gate.abort_held()
    for client in clients:
        assert client.shutdown(3.0), "the engine did not stop within 3 s"
        assert not client.running


def ask(qtbot, client: EngineClient, text: str, mode: str = "keyword", timeout: int = 5000,
        **kwargs) -> SearchResponse:
    """Search and wait for exactly this request's response."""
    box: list[SearchResponse] = []
    rid_box: list[int] = []

    def mine(response: SearchResponse) -> bool:
        return bool(rid_box) and response.request.request_id == rid_box[0]

    with qtbot.waitSignal(client.results, timeout=timeout, check_params_cb=mine) as blocker:
        rid_box.append(client.search(SearchRequest(text, mode=mode, **kwargs)))  # type: ignore[arg-type]
    box.append(blocker.args[0])
    return box[0]


def paths_of(response: SearchResponse) -> set[str]:
    return {r.path for r in response.results}


def wait_found(qtbot, client: EngineClient, text: str, predicate: Callable[[set[str]], bool],
               timeout_s: float = 10.0) -> float:
    """Search until `predicate(paths)` holds; returns how long it took."""
    started = time.monotonic()
    last: set[str] = set()
    while time.monotonic() - started < timeout_s:
        last = paths_of(ask(qtbot, client, text))
        if predicate(last):
            return time.monotonic() - started
        qtbot.wait(30)  # lets queued signals run; the condition is re-checked by searching
    raise AssertionError(f"search for {text!r} never matched; last result {sorted(last)}")


@pytest.fixture
def helpers():
    class Helpers:
        ask = staticmethod(ask)
        paths_of = staticmethod(paths_of)
        wait_found = staticmethod(wait_found)

    return Helpers
