"""The window on a REAL engine (tiny Qwen3 model, SQLite, hnswlib, watchdog), driven like a person."""

from __future__ import annotations

import gc
import os
import time
from pathlib import Path

from PySide6.QtCore import QElapsedTimer, QTimer
from support.gate import StepGate

TOPICS = ("budget forecast spreadsheet", "holiday train booking", "lemon cake recipe",
          "kernel driver panic", "garden tomato seedlings", "violin concerto rehearsal")


def _write_docs(folder: Path, count: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        topic = TOPICS[i % len(TOPICS)]
        path = folder / f"note-{i:03d}-{topic.split()[0]}.txt"
        path.write_text(f"{topic} number {i}. " * 30 + f"\nmarker{i} end\n", encoding="utf-8")
        paths.append(path)
    return paths


def _search(qtbot, window, text: str, timeout: int = 8000):
    """Type like a person and wait for the window to show this query's response."""
    window.ui.search_bar.clear()
    with qtbot.waitSignal(window.search.response_ready, timeout=timeout) as blocker:
        qtbot.keyClicks(window.ui.search_bar, text)
    return blocker.args[0]


def _wait_indexed(qtbot, window, root: Path, files: int, timeout: int = 30_000) -> None:
    def done() -> bool:
        states = {r.path: r for r in window.root_states}
        state = states.get(str(root))
        return state is not None and state.files_indexed >= files and state.files_pending == 0

    qtbot.waitUntil(done, timeout=timeout)


def test_typing_instruction_and_slider_on_a_real_engine(qtbot, live, tmp_path):
    docs = tmp_path / "docs"
    _write_docs(docs, 6)
    window, engine = live()
    window.drops.folders_dropped.emit([str(docs)])  # the drop path itself is tested with the stand-in
    _wait_indexed(qtbot, window, docs, 6)
    response = _search(qtbot, window, "lemon cake recipe")
    top = window.ui.model.index(0, 0).data()
    assert "lemon" in top, f"keyword evidence should rank the lemon note first, got {top}"
    assert response.results[0].chunks, "the best file carries its matching chunk"
    assert window.ui.dim.dims() == (32, 64, 128)
    with qtbot.waitSignal(window.search.response_ready, timeout=8000) as blocker:
        window.ui.dim.set_dim(32)
    assert blocker.args[0].request.dim == 32 and blocker.args[0].dim == 32
    picker = window.ui.instructions
    with qtbot.waitSignal(window.search.response_ready, timeout=8000) as blocker:
        picker.set_custom("Find baking instructions")
    assert blocker.args[0].request.instruction == "Find baking instructions"
    assert blocker.args[0].request.dim == 32 and window.ui.model.rowCount() > 0


def _runqueue_wait_ns() -> int:
    """How long this process's threads have waited, ready to run, for a CPU (Linux schedstat;
    else 0). Every thread counts: while the engine thread holds the GIL but waits for a CPU,
    the GUI thread waits for it, and that is the machine's load, not the app's doing."""
    total = 0
    for stat in Path("/proc/self/task").glob("*/schedstat"):
        try:
            total += int(stat.read_text().split()[1])
        except (OSError, IndexError, ValueError):
            continue  # a thread that ended meanwhile
    return total


class StallMeter:
    """A 5 ms main-thread timer: the longest gap between ticks is the longest stall. Within a
    gap, the main thread's own CPU time is the GUI's own work, and the time the process's
    threads spent ready but waiting for a CPU is the OS's doing (other processes on busy
    cores), not the app's: the app's share of a stall is the gap without that wait (its work,
    plus the GIL or locks the engine holds while it runs)."""

    def __init__(self) -> None:
        self.clock = QElapsedTimer()
        self.timer = QTimer()
        self.timer.setInterval(5)
        self.timer.timeout.connect(self._tick)
        self.gaps: list[tuple[float, float, float]] = []  # (wall, main-thread cpu, run-queue) ms

    def _now(self) -> tuple[int, int, int]:
        return self.clock.nsecsElapsed(), time.thread_time_ns(), _runqueue_wait_ns()

    def start(self) -> None:
        self.clock.start()
        self._last = self._now()
        self.timer.start()

    def _tick(self) -> None:
        now = self._now()
        self.gaps.append(tuple((a - b) / 1e6 for a, b in zip(now, self._last, strict=True)))  # type: ignore[arg-type]
        self._last = now

    def stop(self) -> tuple[float, float, float]:
        """(longest wall-clock gap, longest busy stretch, longest gap less its run-queue wait)."""
        self.timer.stop()
        settled = self.gaps[2:]
        return (max(g[0] for g in settled), max(g[1] for g in settled),
                max(max(0.0, g[0] - g[2]) for g in settled))


def test_gui_thread_never_stalls_while_indexing_and_searching(qtbot, live, tmp_path, request):
    docs = tmp_path / "many"
    _write_docs(docs, 60)
    gate = StepGate()
    window, engine = live(gate=gate)
    issue = engine.search

    def search_then_one_step(search_request):  # indexing and searching interleave, however fast the CPU
        request_id = issue(search_request)
        gate.allow(1)
        return request_id

    engine.search = search_then_one_step
    meter = StallMeter()
    # What earlier tests left on the heap is not the app's: a full collection of it (gen2 over
    # ~300k objects measured 100-470 ms late in the suite) would be charged to the GUI here.
    gc.collect()
    gc.freeze()
    request.addfinalizer(gc.unfreeze)
    meter.start()
    window.add_folders([str(docs)])
    for searches in range(6):
        gate.wait_held(qtbot)
        _search(qtbot, window, TOPICS[searches % len(TOPICS)])
    state = {r.path: r for r in window.root_states}.get(str(docs))
    still_indexing = state is not None and state.files_pending > 0
    gate.open()
    _wait_indexed(qtbot, window, docs, 60)
    worst_wall, worst_busy, worst_own = meter.stop()
    print(f"{len(meter.gaps)} ticks: longest stall {worst_wall:.0f} ms ({worst_own:.0f} ms without "
          f"waiting for a CPU), longest GUI-thread busy stretch {worst_busy:.0f} ms, "
          f"load/core {os.getloadavg()[0] / (os.cpu_count() or 1):.1f}")
    assert still_indexing and window.ui.model.rowCount() > 0
    # The GUI thread's own work per event-loop turn (a response: model reset, row layout, the
    # rows' paint) measures 5-25 ms on 2 cores; 40 leaves room for a slow CI core.
    assert worst_busy < 40, f"the GUI thread itself worked {worst_busy:.0f} ms without a break"
    # Waiting for the GIL or a lock the engine holds counts against the app; waiting for a CPU
    # that other processes keep busy does not (it is how loaded the machine is, not the app).
    assert worst_own < 100, f"the GUI thread stalled {worst_own:.0f} ms, not counting CPU waits"


def test_closing_during_indexing_exits_cleanly_and_next_start_resumes(qtbot, qtlog, live, tmp_path):
    docs = tmp_path / "resume"
    paths = _write_docs(docs, 40)
    data = tmp_path / "data-resume"
    window, engine = live(data)
    with qtbot.waitSignal(engine.progress, timeout=10_000):
        window.add_folders([str(docs)])
    window.close()
    started = time.monotonic()
    assert engine.shutdown(3.0) and not engine.running
    assert time.monotonic() - started < 3.0
    thread_warnings = [m.message for m in qtlog.records if "thread" in m.message.lower()]
    assert not thread_warnings, thread_warnings
    window2, _engine2 = live(data)
    qtbot.waitUntil(lambda: any(r.path == str(docs) for r in window2.root_states), timeout=10_000)
    _wait_indexed(qtbot, window2, docs, len(paths))
    response = _search(qtbot, window2, "marker39")
    assert any(r.path == str(paths[-1]) for r in response.results)


def test_without_a_model_file_names_and_words_are_still_found(qtbot, live, tmp_path):
    docs = tmp_path / "plain"
    paths = _write_docs(docs, 3)
    window, engine = live(with_model=False)
    assert window.ui.filters.mode() == "keyword" and not window.ui.instructions.isEnabled()
    assert "Set up a model" in window.ui.status.model_label.text()
    window.add_folders([str(docs)])
    qtbot.waitUntil(lambda: any(r.path == str(docs) for r in window.root_states), timeout=10_000)
    deadline = time.monotonic() + 15
    found: set[str] = set()
    while time.monotonic() < deadline and str(paths[1]) not in found:
        found = {r.path for r in _search(qtbot, window, "holiday").results}
        qtbot.wait(100)
    assert str(paths[1]) in found, f"the holiday note should be found by name or words: {found}"


def test_dropping_a_file_finds_similar_files_on_a_real_engine(qtbot, live, tmp_path):
    docs = tmp_path / "similar"
    paths = _write_docs(docs, 6)
    window, engine = live()
    window.add_folders([str(docs)])
    _wait_indexed(qtbot, window, docs, 6)
    with qtbot.waitSignal(window.search.response_ready, timeout=8000) as blocker:
        window.drops.files_dropped.emit([str(paths[0])])
    response = blocker.args[0]
    assert response.request.like_paths == (str(paths[0]),)
    assert window.ui.model.rowCount() == len(response.results) > 0
    assert window.ui.search_bar.placeholderText().startswith("Files like note-000")


def test_choosing_a_model_later_turns_on_search_by_meaning(qtbot, live, ui_model_dir):
    window, engine = live(with_model=False)
    assert window.ui.filters.mode() == "keyword"
    with qtbot.waitSignal(engine.status, timeout=30_000,
                          check_params_cb=lambda s: s.model_name is not None and s.state != "starting"):
        window.use_model(str(ui_model_dir))
    assert window.ui.filters.mode() == "hybrid" and window.ui.instructions.isEnabled()
    assert window.ui.dim.dims() == (32, 64, 128) and window.ui.dim.slider.isEnabled()
