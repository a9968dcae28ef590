"""What the engine reports while it works: folder progress, the model's facts, index memory."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from PySide6.QtCore import QCoreApplication
from support.gate import ManualClock, StepGate

from qfinder.core.indexing.indexer import IndexSettings
from qfinder.core.state import EngineStatus, ModelSummary, RootState
from qfinder.services.settings import EngineSettings

SMALL_STEPS = IndexSettings(step_files=2, step_tokens=256)
FAST = EngineSettings(quiet_s=0.15, max_delay_s=1.0, watch_check_s=0.1, polling_interval_s=0.2,
                      reconcile_interval_s=0, nice=5)


def _corpus(root: Path, n: int) -> None:
    root.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        (root / f"doc{i:03d}.txt").write_text(" ".join(f"w{i}x{j}" for j in range(60)) + "\n")


def test_folder_states_are_resent_while_indexing_at_a_bounded_rate(qtbot, make_engine, tmp_path):
    # The test moves the engine's clock by `tick` before each step it lets run: which steps
    # re-send the folders' states depends on the clock alone, never on the CPU's speed.
    _corpus(tmp_path / "root", 24)
    interval, tick = 1.0, 0.4
    gate, clock = StepGate(), ManualClock()
    client = make_engine(index_settings=SMALL_STEPS, gate=gate, clock=clock,
                         settings=dataclasses.replace(FAST, roots_interval_s=interval))
    sent: list[tuple[float, RootState]] = []
    client.roots.connect(lambda states: sent.extend((clock.now, s) for s in states))

    def finished() -> bool:
        return bool(sent) and sent[-1][1].files_indexed == 24 and sent[-1][1].availability != "indexing"

    client.add_roots([str(tmp_path / "root")])
    steps = 0
    while not finished():
        qtbot.waitUntil(lambda: gate.held > 0 or finished(), timeout=30_000)
        QCoreApplication.processEvents()
        if gate.held:
            clock.advance(tick)
            gate.step(qtbot)
            steps += 1
    midway = [(t, s) for t, s in sent if s.availability == "indexing" and s.files_indexed > 0]
    assert steps >= 12 and len(midway) >= 3, (steps, sent)  # 12+ steps x 0.4 s: 4+ intervals
    assert all(0 < s.files_pending < 24 for _, s in midway)
    gaps = [b[0] - a[0] for a, b in zip(midway, midway[1:], strict=False)]
    # never more often than the interval, and as soon as it is due (the first step after it)
    assert all(interval <= gap < interval + tick + 1e-9 for gap in gaps), gaps


def test_status_carries_the_model_facts_and_index_memory(qtbot, make_engine, tmp_path, helpers):
    _corpus(tmp_path / "root", 4)
    client = make_engine()
    statuses: list[EngineStatus] = []
    client.status.connect(statuses.append)
    with qtbot.waitSignal(client.roots, timeout=30_000,
                          check_params_cb=lambda states: bool(states) and states[0].files_indexed == 4
                          and states[0].availability != "indexing"):
        client.add_roots([str(tmp_path / "root")])
    status = statuses[-1]
    assert status.model == ModelSummary(status.model_name or "", 128, 32, status.model.default_dim
                                        if status.model else 0, True)
    assert status.model is not None and 32 <= status.model.default_dim <= 128
    memory = status.index_memory_bytes
    assert memory is not None and memory > 0
    dim = status.dim or 0
    smaller = 32 if dim != 32 else 64
    with qtbot.waitSignal(client.status, timeout=10_000,
                          check_params_cb=lambda s: s.dim == smaller):
        client.set_dim(smaller)
    after = statuses[-1]
    assert after.index_memory_bytes is not None
    assert (after.index_memory_bytes < memory) == (smaller < dim)


def test_no_model_reports_no_facts(qtbot, tmp_path):
    from qfinder.core.library.opener import LibraryOpener
    from qfinder.services.engine import EngineClient

    client = EngineClient(LibraryOpener(tmp_path / "data"), EngineSettings(watch=False,
                                                                           reconcile_interval_s=0))
    try:
        with qtbot.waitSignal(client.status, timeout=20_000,
                              check_params_cb=lambda s: s.state != "starting") as blocker:
            client.start()
        status: EngineStatus = blocker.args[0]
        assert status.model is None and status.index_memory_bytes is None
    finally:
        assert client.shutdown(3.0)


def test_a_recovered_catalog_is_reported_once(qtbot, make_engine, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "catalog.db").write_bytes(b"this is not a database at all\n" * 200)
    client = make_engine(data_dir=data, start=False)
    errors: list[str] = []
    client.error.connect(errors.append)
    with qtbot.waitSignal(client.status, timeout=20_000,
                          check_params_cb=lambda s: s.state != "starting"):
        client.start()
    qtbot.waitUntil(lambda: bool(errors), timeout=5000)
    assert len(errors) == 1 and "index database" in errors[0] and "kept as" in errors[0]
    kept = [p for p in data.iterdir() if p.name.startswith("catalog.db") and p.name != "catalog.db"
            and str(p) in errors[0]]
    assert kept, (errors[0], sorted(p.name for p in data.iterdir()))
    assert client.shutdown(3.0)
    again = make_engine(data_dir=data, start=False)  # the new catalog opens without a notice
    later: list[str] = []
    again.error.connect(later.append)
    with qtbot.waitSignal(again.status, timeout=20_000,
                          check_params_cb=lambda s: s.state != "starting"):
        again.start()
    assert not later


def test_during_a_model_switch_the_folder_counts_follow_the_new_index(qtbot, make_engine, tmp_path):
    # The status bar shows the new index's progress; the folder row must count the same files
    # (it used to show the old index's, which stand still: "153 files queued" beside 108/153).
    from support.qwen3 import build_tiny_qwen3

    other = build_tiny_qwen3(tmp_path / "model-b", shape="kv")
    _corpus(tmp_path / "root", 16)
    gate, clock = StepGate(), ManualClock()
    client = make_engine(index_settings=SMALL_STEPS, gate=gate, clock=clock)
    progress: list = []
    roots: list[tuple[RootState, ...]] = []
    client.progress.connect(progress.append)
    client.roots.connect(roots.append)
    gate.open()
    client.add_roots([str(tmp_path / "root")])
    # the engine reports its folders once on opening (none yet); on a loaded machine that report
    # can arrive after add_roots was called
    qtbot.waitUntil(lambda: bool(roots and roots[-1]) and roots[-1][0].files_indexed == 16
                    and not roots[-1][0].files_pending, timeout=60_000)
    gate.close()
    client.set_model(str(other))
    compared = 0
    while compared < 3:
        gate.wait_held(qtbot)
        clock.advance(10.0)  # the folders' states are due after every step
        sent = len(roots)
        gate.step(qtbot)
        qtbot.waitUntil(lambda sent=sent: len(roots) > sent, timeout=30_000)
        state = roots[-1][0]
        if 0 < state.files_indexed < 16:
            assert state.files_indexed == progress[-1].files_done, (state, progress[-1])
            assert state.files_pending == progress[-1].files_pending
            compared += 1
    gate.open()
