"""Engine scheduling and lifetime: queries before indexing, shutdown, crash safety, controls."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from support.gate import StepGate

from qfinder.core.indexing.indexer import IndexSettings
from qfinder.core.results import SearchRequest
from qfinder.core.storage.catalog import Catalog

SMALL_STEPS = IndexSettings(step_files=2, step_tokens=256)


def _corpus(root: Path, n: int) -> list[Path]:
    root.mkdir(parents=True, exist_ok=True)
    files = []
    for i in range(n):
        path = root / f"doc{i:03d}.txt"
        # unique words per file so no two chunks share a hash (each chunk is embedded once)
        path.write_text(" ".join(f"w{i}x{j}" for j in range(120)) + f" marker{i}\n")
        files.append(path)
    return files


def _counts(data: Path):
    catalog = Catalog(data / "catalog.db", readonly=True)
    try:
        return catalog.counts()
    finally:
        catalog.close()


def _embedded(client) -> list[int]:
    """[chunks run through the model so far], updated from the engine's progress reports."""
    seen = [0]
    client.progress.connect(lambda p: seen.__setitem__(0, p.chunks_embedded))
    return seen


def _idle(status) -> bool:
    return status.state == "idle"


def test_a_query_waits_at_most_one_batch(qtbot, make_engine, helpers, tmp_path):
    # A search that arrives while a step runs is answered right after that step: the engine's
    # signals, delivered in the order it sent them, show at most one step between the two.
    _corpus(tmp_path / "root", 80)
    gate = StepGate()
    client = make_engine(index_settings=SMALL_STEPS, gate=gate)
    events: list[str] = []
    client.progress.connect(lambda _p: events.append("step"))
    client.results.connect(lambda _r: events.append("answer"))
    client.add_roots([str(tmp_path / "root")])
    for _ in range(6):
        gate.wait_held(qtbot)  # a step is running (held) when the query comes in
        events.clear()
        client.search(SearchRequest("marker3", mode="keyword"))
        gate.allow(3)  # more steps may run than the one held: the query must still go next
        qtbot.waitUntil(lambda: "answer" in events, timeout=10_000)
        assert events.index("answer") <= 1, events
        gate.close()
    assert _counts(tmp_path / "data").pending > 0  # indexing went on all along


def test_a_newer_search_supersedes_queued_ones(qtbot, make_engine, tmp_path):
    _corpus(tmp_path / "root", 40)
    gate = StepGate()
    client = make_engine(index_settings=SMALL_STEPS, gate=gate)
    answered: list[int] = []
    client.results.connect(lambda r: answered.append(r.request.request_id))
    client.add_roots([str(tmp_path / "root")])
    gate.wait_held(qtbot)  # the engine is busy: every search below waits in its queue
    ids = [client.search(SearchRequest(f"marker{i}", mode="keyword")) for i in range(10)]
    gate.open()
    qtbot.waitUntil(lambda: ids[-1] in answered, timeout=10_000)
    assert ids == sorted(ids)
    assert answered == [ids[-1]], "queued stale searches should have been skipped"


def test_close_mid_indexing_is_quick_and_restart_resumes(qtbot, qtlog, make_engine, tmp_path):
    _corpus(tmp_path / "root", 60)
    data = tmp_path / "data"
    gate = StepGate()
    first = make_engine(data_dir=data, index_settings=SMALL_STEPS, gate=gate)
    first.add_roots([str(tmp_path / "root")])
    for _ in range(3):
        gate.wait_held(qtbot)
        gate.step(qtbot)
    gate.wait_held(qtbot)  # the fourth step is in flight when the window closes
    gate.abort_held()  # what RunOptions.terminate does to its inference
    started = time.monotonic()
    assert first.shutdown(3.0)
    assert time.monotonic() - started < 3.0
    committed = _counts(data)
    assert committed.vectors > 0 and committed.pending > 0

    second = make_engine(data_dir=data, index_settings=SMALL_STEPS, start=False)
    embedded = _embedded(second)
    with qtbot.waitSignal(second.status, timeout=60_000, check_params_cb=_idle):
        second.start()
    total = _counts(data)
    assert total.indexed == 60
    assert embedded[0] == total.vectors - committed.vectors, "committed chunks were embedded again"
    assert not [r for r in qtlog.records if "QThread" in r.message]


def test_kill_9_mid_batch_leaves_a_consistent_catalog(qtbot, make_engine, tmp_path, tiny_model_dir):
    root = tmp_path / "root"
    files = _corpus(root, 40)
    data = tmp_path / "data"
    child = subprocess.Popen(
        [sys.executable, str(Path(__file__).with_name("engine_child.py")), str(data), str(root),
         str(tiny_model_dir), "4"],
        stdout=subprocess.PIPE, text=True, env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    try:
        assert child.stdout is not None
        lines = []
        for line in child.stdout:  # the child holds the 5th step's inference: vectors made, uncommitted
            lines.append(line)
            if line.startswith("holding"):
                break
        assert lines and lines[-1].startswith("holding"), lines
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(10)
    catalog = Catalog(data / "catalog.db", readonly=True)
    try:
        on_disk = {str(p) for p in files}
        in_catalog = set(catalog.file_states_under(str(root)))
        assert in_catalog == on_disk  # every name committed by the plan, no ghosts
        chunk_ids = [cid for p in sorted(in_catalog) for cid in catalog.file_chunk_ids(p)]
        assert len(chunk_ids) == len(set(chunk_ids))  # no duplicates
        counts = catalog.counts()
        assert counts.chunks == len(chunk_ids) == counts.vectors
        committed = counts.vectors
        assert counts.indexed >= 1 and counts.pending > 0  # 4 steps committed, the 5th not
        assert counts.indexed + counts.pending == len(files)
    finally:
        catalog.close()

    client = make_engine(data_dir=data, index_settings=SMALL_STEPS, start=False)
    embedded = _embedded(client)
    with qtbot.waitSignal(client.status, timeout=60_000, check_params_cb=_idle):
        client.start()
    final = _counts(data)
    assert final.indexed == len(files) and final.chunks == final.vectors
    assert embedded[0] == final.vectors - committed


def test_pause_resume_and_a_failing_job(qtbot, make_engine, helpers, tmp_path):
    _corpus(tmp_path / "root", 30)
    failing = {"search": False}

    def searches_that_can_fail(library) -> None:
        search = library.search

        def maybe_failing(request):
            if failing["search"]:
                raise RuntimeError("injected search failure")
            return search(request)

        library.search = maybe_failing

    client = make_engine(index_settings=SMALL_STEPS, opened=searches_that_can_fail)
    with qtbot.waitSignal(client.progress, timeout=20_000):
        client.add_roots([str(tmp_path / "root")])
    with qtbot.waitSignal(client.status, check_params_cb=lambda s: s.state == "paused"):
        client.pause()
    steps_while_paused: list[object] = []
    client.progress.connect(steps_while_paused.append)
    for _ in range(2):  # two round trips: every tick queued before them has been handled
        helpers.ask(qtbot, client, "marker1")
    assert not steps_while_paused
    failing["search"] = True
    with qtbot.waitSignal(client.error, check_params_cb=lambda m: "injected" in m):
        client.search(SearchRequest("marker1", mode="keyword"))
    failing["search"] = False
    assert helpers.paths_of(helpers.ask(qtbot, client, "doc001")) >= {str(tmp_path / "root" / "doc001.txt")}
    with qtbot.waitSignal(client.progress, timeout=10_000):
        client.resume()
    with qtbot.waitSignal(client.status, timeout=60_000, check_params_cb=lambda s: s.state == "idle"):
        pass
    assert client.thread_nice is None or client.thread_nice >= 5


def test_set_dim_builds_in_the_background(qtbot, make_engine, helpers, tmp_path):
    _corpus(tmp_path / "root", 6)
    client = make_engine()
    client.add_roots([str(tmp_path / "root")])
    helpers.wait_found(qtbot, client, "marker2", lambda p: len(p) >= 1)
    with qtbot.waitSignal(client.status, timeout=10_000, check_params_cb=lambda s: s.dim == 64):
        client.set_dim(64)
    response = helpers.ask(qtbot, client, "w2x5 w2x6", mode="semantic")
    assert response.dim == 64 and response.results


def test_set_model_reembeds_while_the_old_index_answers(qtbot, make_engine, helpers, tmp_path):
    from support.qwen3 import build_tiny_qwen3

    other = build_tiny_qwen3(tmp_path / "model-b", shape="kv")
    _corpus(tmp_path / "root", 40)
    data = tmp_path / "data"
    gate = StepGate()
    client = make_engine(data_dir=data, index_settings=SMALL_STEPS, gate=gate)
    gate.open()
    client.add_roots([str(tmp_path / "root")])
    qtbot.waitUntil(lambda: _counts(data).indexed == 40, timeout=60_000)
    helpers.wait_found(qtbot, client, "marker7", lambda p: len(p) == 1)
    gate.close()  # the new model's steps wait for the test
    states: list[str] = []
    client.status.connect(lambda s: states.append(s.state))
    with qtbot.waitSignal(client.status, timeout=10_000,
                          check_params_cb=lambda s: s.state == "rebuilding"):
        client.set_model(str(other))
    gate.wait_held(qtbot)  # the new index is being filled ...
    with qtbot.waitSignal(client.results, timeout=10_000) as answer:
        client.search(SearchRequest("marker7", mode="keyword"))
        gate.allow(1)  # ... one more step of it, then the query: the old index answers
    assert helpers.paths_of(answer.args[0]) == {str(tmp_path / "root" / "doc007.txt")}
    assert states[-1] == "rebuilding"
    gate.open()
    qtbot.waitUntil(lambda: "idle" in states[states.index("rebuilding"):], timeout=60_000)
    assert str(other) in (data / "settings.json").read_text()
    assert helpers.paths_of(helpers.ask(qtbot, client, "marker7")) == {
        str(tmp_path / "root" / "doc007.txt")}
    assert _counts(data).indexed == 40


def test_throttle_rests_between_steps(qtbot, make_engine, tmp_path):
    from qfinder.services.settings import EngineSettings

    _corpus(tmp_path / "root", 12)
    settings = EngineSettings(watch=False, reconcile_interval_s=0, throttle=2.0)
    spans: list[tuple[float, float]] = []  # each step's start and end, on the engine thread

    def timed_steps(library) -> None:
        step = library.upkeep.step

        def timed():
            started = time.perf_counter()
            try:
                return step()
            finally:
                spans.append((started, time.perf_counter()))

        library.upkeep.step = timed

    client = make_engine(settings=settings, index_settings=SMALL_STEPS, opened=timed_steps)
    client.add_roots([str(tmp_path / "root")])
    qtbot.waitUntil(lambda: len(spans) >= 4, timeout=30_000)
    for (start, end), (next_start, _) in zip(spans[:3], spans[1:4], strict=True):
        # the next step starts no earlier than throttle x this step's time after it ended
        # (Qt's coarse timers may fire up to 5 % early)
        assert next_start - end >= 2.0 * (end - start) * 0.9


def test_a_failing_file_is_reported_and_can_be_retried(qtbot, make_engine, tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    broken = root / "broken.pdf"
    broken.write_bytes(b"%PDF-1.7 this is not really a pdf")
    client = make_engine()
    with qtbot.waitSignal(client.file_failed, timeout=20_000,
                          check_params_cb=lambda f: f.path == str(broken)) as blocker:
        client.add_roots([str(root)])
    assert blocker.args[0].reason
    with qtbot.waitSignal(client.file_failed, timeout=20_000,
                          check_params_cb=lambda f: f.path == str(broken)):
        client.retry_failed([str(broken)])


def test_a_query_preempts_a_long_step_and_the_step_is_redone(qtbot, make_engine, helpers, tmp_path):
    from qfinder.services.settings import EngineSettings

    _corpus(tmp_path / "root", 6)
    stuck = {"calls": 0}

    def first_inference_hangs(library) -> None:
        embedder = library.embedder
        original = embedder.embed_documents_with_stats

        def long_inference(texts, dim=None):
            # the first inference "takes 30 s" unless cancelled; later ones run normally
            stuck["calls"] += 1
            if stuck["calls"] == 1:
                qtbot_wait_cancel(embedder)
            return original(texts, dim)

        embedder.embed_documents_with_stats = long_inference

    settings = EngineSettings(watch=False, reconcile_interval_s=0, preempt_steps_longer_than_s=0.0)
    client = make_engine(settings=settings, index_settings=SMALL_STEPS, opened=first_inference_hangs)
    errors: list[str] = []
    client.error.connect(errors.append)
    with qtbot.waitSignal(client.status, timeout=10_000, check_params_cb=lambda s: s.state == "indexing"):
        client.add_roots([str(tmp_path / "root")])
    client.step_times.record(1.0)  # what a slow model's steps look like
    started = time.perf_counter()
    helpers.ask(qtbot, client, "marker1")
    assert time.perf_counter() - started < 10  # not the 30 s the stuck step would have taken
    assert client.preempted_steps >= 1
    assert stuck["calls"] >= 1
    with qtbot.waitSignal(client.status, timeout=30_000, check_params_cb=_idle):
        pass  # the preempted step was redone
    counts = _counts(tmp_path / "data")
    assert counts.indexed == 6 and counts.chunks == counts.vectors
    assert stuck["calls"] >= 2  # the preempted inference was run again
    assert not errors


def qtbot_wait_cancel(embedder, limit_s: float = 30.0) -> None:
    deadline = time.monotonic() + limit_s
    while not embedder._cancelled.is_set() and time.monotonic() < deadline:
        time.sleep(0.01)  # stands in for a long ONNX run that RunOptions.terminate would end
