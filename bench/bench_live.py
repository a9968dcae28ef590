"""Live-engine benchmark: query latency while indexing vs idle, event-loop stalls, save→searchable,
idle CPU once indexing is done.

    python3 bench/bench_live.py [--model DIR | --tiny] [--files 40] [--step-tokens 1024]

Model: by default the random-weight Qwen3-Embedding-0.6B architecture in its 8-bit CPU variant,
built once by qfinder.devtools.bench_models (cached in --cache, default /tmp/qfinder-live-bench;
needs ../shared's Qwen3 tokenizer); `--tiny` uses the tests' tiny Qwen3 instead. Cost depends on the architecture
only, so random weights time faithfully. Documents come from ../shared/data/cisi when present.

Reported (baseline measured in the same run): query latency p50/p95 idle vs while indexing and
the ratio to (one step + idle p95), the longest a request waited in the engine thread's event
loop (a queued ping every 10 ms) and the longest stall of the GUI thread's loop, file save → searchable p50/p95, and CPU use while idle after indexing.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

from corpus import TOKENIZER, documents, write_texts  # bench/ is on sys.path
from PySide6.QtCore import QCoreApplication, QElapsedTimer, QEventLoop, QObject, QTimer, Signal

from qfinder.core.indexing.indexer import IndexSettings
from qfinder.core.library.opener import LibraryOpener
from qfinder.core.results import SearchRequest
from qfinder.services import qt_fix
from qfinder.services.engine import EngineClient
from qfinder.services.settings import EngineSettings

ROOT = Path(__file__).resolve().parents[1]


class StallProbe(QObject):
    """A 10 ms timer on some thread's event loop; the largest gap minus 10 ms is its longest stall."""

    start_requested = Signal()
    stop_requested = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.longest_ms = 0.0
        self._clock = QElapsedTimer()
        self._timer: QTimer | None = None
        self.start_requested.connect(self._start)
        self.stop_requested.connect(self._stop)

    def _start(self) -> None:
        self._timer = QTimer(self)
        self._timer.timeout.connect(self._beat)
        self._clock.start()
        self._timer.start(10)

    def _stop(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer.deleteLater()
            self._timer = None

    def _beat(self) -> None:
        self.longest_ms = max(self.longest_ms, self._clock.restart() - 10.0)

    def reset(self) -> None:
        self.longest_ms = 0.0


class QueueProbe(QObject):
    """Every 10 ms the GUI thread posts a ping to the engine thread (a queued call, like a search);
    the longest wait between posting and handling is the engine loop's longest stall as a
    request sees it. (A QTimer on the engine thread would not do: while indexing runs, the posted
    steps keep Qt busy and timers there barely fire, so a timer measures timer starvation.)"""

    ping = Signal(float)

    def __init__(self) -> None:
        super().__init__()
        self.longest_ms = 0.0
        self.ping.connect(self._pong)

    def _pong(self, sent: float) -> None:
        self.longest_ms = max(self.longest_ms, (time.perf_counter() - sent) * 1000)

    def reset(self) -> None:
        self.longest_ms = 0.0


def wait_until(predicate, timeout_s: float, poll_ms: int = 20) -> bool:
    deadline = time.monotonic() + timeout_s
    loop = QEventLoop()
    while not predicate():
        if time.monotonic() > deadline:
            return False
        QTimer.singleShot(poll_ms, loop.quit)
        loop.exec()
    return True


def sleep_in_loop(seconds: float) -> None:
    loop = QEventLoop()
    QTimer.singleShot(int(seconds * 1000), loop.quit)
    loop.exec()


def ask(client: EngineClient, text: str, mode: str = "hybrid") -> tuple[float, set[str]]:
    box: list = []
    loop = QEventLoop()

    def got(response) -> None:
        if response.request.request_id == rid:
            box.append(response)
            loop.quit()

    client.results.connect(got)
    started = time.perf_counter()
    rid = client.search(SearchRequest(text, mode=mode))  # type: ignore[arg-type]
    QTimer.singleShot(120_000, loop.quit)
    loop.exec()
    client.results.disconnect(got)
    elapsed = time.perf_counter() - started
    return elapsed, {r.path for r in box[0].results} if box else set()


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def model_folder(args: argparse.Namespace, work: Path) -> tuple[Path, str]:
    if args.model:
        return Path(args.model), f"given: {args.model}"
    if not args.tiny and TOKENIZER.exists():
        from bench_engine import ensure_models  # onnxruntime and the builders: only for this model

        # our own cache: other benchmarks build theirs concurrently, never share a folder in flight
        q8 = ensure_models(Path(args.cache))[1]
        return q8, "Qwen3-Embedding-0.6B architecture, random weights, 8-bit (bench_models quantize)"
    sys.path.insert(0, str(ROOT / "tests"))
    from support.qwen3 import build_tiny_qwen3

    return build_tiny_qwen3(work / "tiny"), "tiny Qwen3 (hidden 128, 2 layers) — not the 0.6B"


def run(args: argparse.Namespace) -> dict:
    work = Path(tempfile.mkdtemp(prefix="qfinder-live-"))
    model, model_note = model_folder(args, work)
    texts = documents(args.files * 3)
    write_texts(work / "first", texts[: args.files], "a")
    write_texts(work / "second", texts[args.files : args.files * 2], "b")
    write_texts(work / "third", texts[args.files * 2 :], "c")
    queries = [t.split("\n")[0][:60] or "information retrieval" for t in texts[: args.queries]]
    app = QCoreApplication.instance() or QCoreApplication([])
    settings = EngineSettings(reconcile_interval_s=0, nice=args.nice)
    cores = LibraryOpener(work / "data", index_settings=IndexSettings(step_tokens=args.step_tokens),
                         target_step_s=args.target_step_s or None)
    client = EngineClient(cores, settings, model_folder=str(model))
    gui_probe, engine_probe = StallProbe(), QueueProbe()
    engine_probe.moveToThread(client._thread)
    pinger = QTimer()
    pinger.timeout.connect(lambda: engine_probe.ping.emit(time.perf_counter()))
    client.start()
    gui_probe.start_requested.emit()
    pinger.start(10)
    out: dict = {"model": model_note, "files_per_phase": args.files, "step_tokens": args.step_tokens,
                 "target_step_s": args.target_step_s,
                 "nice": args.nice, "load_avg_at_start": os.getloadavg()[0]}

    latest: dict = {"status": None, "progress": None}  # what the engine last reported
    client.status.connect(lambda status: latest.__setitem__("status", status))
    client.progress.connect(lambda progress: latest.__setitem__("progress", progress))

    def caught_up() -> bool:
        progress, status = latest["progress"], latest["status"]
        return bool(progress and progress.files_pending == 0 and status and status.state == "idle")

    started = time.perf_counter()
    client.add_roots([str(work / "first")])
    assert wait_until(caught_up, 3600)
    out["first_index_s"] = time.perf_counter() - started
    ask(client, "warm up")
    idle = [ask(client, q)[0] for q in queries]

    engine_probe.reset()
    gui_probe.reset()
    client.step_times.clear()
    latest["progress"] = None
    client.add_roots([str(work / "second")])
    wait_until(lambda: len(client.step_times.recent()) >= 1, 600)
    busy = []
    for q in queries:
        if caught_up():
            break
        busy.append(ask(client, q)[0])
        sleep_in_loop(0.05)  # spread the queries over the indexing run
    out["preempted_steps"] = client.preempted_steps
    wait_until(caught_up, 3600)
    out["tokens_per_s"] = latest["progress"].tokens_per_s
    # every step of the phase, not only those while queries ran: the loop-wait probe covers the
    # whole phase, and the tail's steps (one whole chunk each on a slow model) can be the longest
    steps = client.step_times.recent()
    out["engine_loop_longest_wait_ms"] = engine_probe.longest_ms
    out["gui_loop_longest_stall_ms"] = gui_probe.longest_ms

    saves = []
    for i in range(args.saves):
        word = f"freshword{i}q"
        path = work / "first" / f"saved{i}.txt"
        t0 = time.perf_counter()
        path.write_text(f"a note about {word}\n")
        wait_until(lambda w=word: bool(ask(client, w, "keyword")[1]), 60, poll_ms=10)
        saves.append(time.perf_counter() - t0)

    pinger.stop()
    gui_probe.stop_requested.emit()
    sleep_in_loop(2.0)  # let the watcher's last batch settle
    cpu0, wall0 = _cpu(), time.perf_counter()
    sleep_in_loop(args.idle_s)  # one wait: the benchmark itself must not poll
    idle_cpu = (_cpu() - cpu0) / (time.perf_counter() - wall0) * 100

    out.update(_summary(idle, busy, steps, saves, idle_cpu))
    out["shutdown_mid_step_s"] = shutdown_mid_step(client, work / "third")
    del app
    return out


def shutdown_mid_step(client: EngineClient, folder: Path) -> float:
    """Start indexing more files, stop while a step's inference runs; seconds shutdown took."""
    client.step_times.clear()
    client.add_roots([str(folder)])
    wait_until(lambda: len(client.step_times.recent()) >= 1, 600)
    sleep_in_loop(min(0.3, client.step_times.recent()[0] / 3))  # inside the next step
    started = time.perf_counter()
    client.shutdown(3.0)
    return time.perf_counter() - started


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _summary(idle, busy, steps, saves, idle_cpu) -> dict:
    step_max = max(steps) if steps else 0.0
    target = (statistics.median(steps) if steps else 0.0) + pct(idle, 0.95)
    return {
        "query_idle_p50_ms": pct(idle, 0.5) * 1000, "query_idle_p95_ms": pct(idle, 0.95) * 1000,
        "query_busy_p50_ms": pct(busy, 0.5) * 1000 if busy else None,
        "query_busy_p95_ms": pct(busy, 0.95) * 1000 if busy else None,
        "busy_queries": len(busy),
        "step_p50_ms": statistics.median(steps) * 1000 if steps else None,
        "step_max_ms": step_max * 1000, "steps": len(steps),
        "busy_p95_over_target": (pct(busy, 0.95) / target) if busy and target else None,
        "save_to_searchable_p50_ms": pct(saves, 0.5) * 1000,
        "save_to_searchable_p95_ms": pct(saves, 0.95) * 1000,
        "idle_cpu_percent": idle_cpu,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model")
    parser.add_argument("--tiny", action="store_true")
    parser.add_argument("--cache", default="/tmp/qfinder-live-bench", help="where the 0.6B model is built")
    parser.add_argument("--files", type=int, default=40)
    parser.add_argument("--queries", type=int, default=20)
    parser.add_argument("--saves", type=int, default=15)
    parser.add_argument("--step-tokens", type=int, default=1024, help="ceiling of a step")
    parser.add_argument("--target-step-s", type=float, default=0.5,
                        help="size steps to this duration at the measured rate (0: always the ceiling)")
    parser.add_argument("--idle-s", type=float, default=5.0)
    parser.add_argument("--nice", type=int, default=0,
                        help="engine thread nice increment (the app uses 10; 0 here so a busy "
                             "shared machine does not starve the measurement)")
    args = parser.parse_args()
    qt_fix.apply()  # PySide6 6.12.0 signal refcount bug; importing qfinder applies nothing
    result = run(args)
    for key, value in result.items():
        print(f"{key:32s} {value:.1f}" if isinstance(value, float) else f"{key:32s} {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
