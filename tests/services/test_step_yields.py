"""A search queued behind a tick that has not started yet is answered before that tick's step.

The bench (bench/bench_live.py, 0.6B model, 8-bit) measured a request waiting 4.8 s while the
longest step was 2.7-4.5 s: the next tick was posted before the search arrived, so the search
waited for the running job and then a whole new step. Now the tick re-posts itself behind it.
"""

from __future__ import annotations

import threading

from PySide6.QtCore import QCoreApplication, QObject, Qt, Signal

from qfinder.core.results import SearchRequest, SearchResponse
from qfinder.core.state import IndexChange, IndexProgress
from qfinder.services.jobs import LatestSearch, run_guarded
from qfinder.services.settings import EngineSettings
from qfinder.services.worker import EngineWorker


class RecordingCore:
    """Just enough of a Library (and its Upkeep) for the indexing loop: records what ran."""

    model_name = provider = dim = model_summary = model_opening = read_only_reason = config = None

    def __init__(self, steps: int) -> None:
        self.calls: list[str] = []
        self._steps_left = steps
        self.upkeep = self

    def index_memory_bytes(self) -> None:
        return None

    def has_work(self) -> bool:
        return self._steps_left > 0

    def step(self) -> IndexProgress:
        self._steps_left -= 1
        self.calls.append("step")
        return IndexProgress(0, self._steps_left, 0, 0, 0.0, None, None)

    def take_failures(self) -> list:
        return []

    def settle(self) -> None:
        self.calls.append("settle")

    def search(self, request: SearchRequest) -> SearchResponse:
        self.calls.append(f"search {request.text}")
        return SearchResponse(request, (), 0.0, None, False, False)

    def root_states(self) -> tuple:
        return ()

    def take_changes(self) -> IndexChange:
        return IndexChange()

    def cancel(self) -> None: ...
    def reset_cancel(self) -> None: ...


class Requests(QObject):
    search = Signal(object)


def _worker(core: RecordingCore, gate: LatestSearch) -> EngineWorker:
    worker = EngineWorker(opener=None, settings=EngineSettings(roots_interval_s=1e9),  # type: ignore[arg-type]
                          model_folder=None, stop=threading.Event(), gate=gate)
    worker.core = core  # type: ignore[assignment]
    worker.error.connect(core.calls.append)  # a failed job would show up in the order
    return worker


def _drain(core: RecordingCore, steps: int) -> None:
    app = QCoreApplication.instance()
    for _ in range(100):
        app.processEvents()
        if core.calls.count("step") == steps:
            return


def test_a_search_queued_after_the_next_tick_goes_before_its_step(qtbot):
    core, gate = RecordingCore(steps=2), LatestSearch()
    worker, requests = _worker(core, gate), Requests()
    requests.search.connect(worker.search, Qt.ConnectionType.QueuedConnection)
    worker._loop.post()  # the next step is already queued (posted when the last step ended) …
    gate.latest = 1  # … when a query comes in (as EngineClient.search does it)
    requests.search.emit(SearchRequest("q", request_id=1))
    _drain(core, steps=2)
    assert core.calls == ["search q", "step", "step"]
    assert not gate.queued()


def test_an_older_skipped_search_still_releases_the_step(qtbot):
    core, gate = RecordingCore(steps=1), LatestSearch()
    worker = _worker(core, gate)
    gate.latest = 2
    worker.search(SearchRequest("old", request_id=1))  # superseded: skipped, step still held back
    worker._loop._tick()
    assert core.calls == []
    worker.search(SearchRequest("new", request_id=2))
    _drain(core, steps=1)
    assert core.calls == ["search new", "step"]


def test_a_long_job_is_logged_with_its_name(caplog, monkeypatch):
    from qfinder.services import jobs

    monkeypatch.setattr(jobs, "LONG_JOB_S", 0.0)
    with caplog.at_level("DEBUG", logger="qfinder.services.jobs"):
        assert run_guarded("Indexing", lambda: None, lambda message: None)
    assert any("Indexing held the engine thread" in r.getMessage() for r in caplog.records)
