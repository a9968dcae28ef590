"""Model jobs (download, optimize, folder check) run off the GUI thread and report through typed
signals: progress in bytes, the folder to use, a failure (and whether the network seems down), a
cancel. The download stand-ins take the core downloader's arguments."""

from __future__ import annotations

import threading
from pathlib import Path

from PySide6.QtCore import QThread

from qfinder.core.errors import CancelledError, DownloadError
from qfinder.services.model_jobs import ModelJobs

GB16 = 16_100_000_000  # more than a 32-bit int holds: the 4B model's size in bytes


def test_a_download_reports_its_bytes_then_the_folder(qtbot, tmp_path):
    seen: list[tuple[int, int]] = []
    threads: list[QThread] = []

    def download(name, variant, progress) -> Path:
        threads.append(QThread.currentThread())
        progress(1_000, GB16, "onnx/model.onnx")
        progress(GB16, GB16, "onnx/model.onnx_data")
        return tmp_path / f"{name}-{variant}"

    jobs = ModelJobs(download=download)
    jobs.progress.connect(lambda done, total: seen.append((done, total)))
    with qtbot.waitSignal(jobs.finished, timeout=5000) as done:
        jobs.download("Qwen3-Embedding-4B", "fp16", optimize=False)
    assert done.args == [str(tmp_path / "Qwen3-Embedding-4B-fp16")]
    assert seen == [(1_000, GB16), (GB16, GB16)]
    assert threads and threads[0] is not QThread.currentThread()  # never on the GUI thread


def test_cancel_stops_the_download_at_its_next_chunk(qtbot, tmp_path):
    asked = threading.Event()
    finished: list[str] = []

    def download(name, variant, progress) -> Path:
        progress(50, 100, "onnx/model.onnx")
        asked.wait(10)
        progress(60, 100, "onnx/model.onnx")  # the next chunk: raises, a cancel was asked
        return tmp_path

    jobs = ModelJobs(download=download)
    jobs.finished.connect(finished.append)
    with qtbot.waitSignal(jobs.progress, timeout=5000):
        jobs.download("Qwen3-Embedding-0.6B", "fp32", optimize=False)
    with qtbot.waitSignal(jobs.cancelled, timeout=5000) as cancelled:
        jobs.cancel()
        asked.set()
    error = cancelled.args[0]
    assert isinstance(error, CancelledError) and "resume" in error.hint
    assert finished == []
    qtbot.waitUntil(lambda: not jobs.is_running(), timeout=5000)


def test_an_unreachable_network_is_flagged_as_offline(qtbot):
    def download(name, variant, progress) -> Path:
        raise DownloadError("Could not download: network is unreachable.", "Check the connection.")

    jobs = ModelJobs(download=download)
    with qtbot.waitSignal(jobs.failed, timeout=5000) as failed:
        jobs.download("Qwen3-Embedding-0.6B", "fp32", optimize=False)
    assert isinstance(failed.args[0], DownloadError) and failed.args[1] is True


def test_a_folder_without_a_model_fails_with_what_is_missing(qtbot, tmp_path):
    (tmp_path / "notes.txt").write_text("not a model")
    jobs = ModelJobs()
    with qtbot.waitSignal(jobs.failed, timeout=5000) as failed:
        jobs.check_folder(str(tmp_path))
    assert "model.onnx" in str(failed.args[0]) and failed.args[1] is False


def test_a_model_folder_is_checked_and_given_back(qtbot, tiny_model_dir):
    jobs = ModelJobs()
    with qtbot.waitSignal(jobs.finished, timeout=10_000) as done:
        jobs.check_folder(str(tiny_model_dir))
    assert done.args == [str(tiny_model_dir)]


def test_a_job_that_ends_at_once_is_never_lost(qtbot):
    # The outcome's signal was once connected after the thread started: a job quicker than the
    # caller's next line emitted into nothing and the dialog waited forever.
    from qfinder.services.thread_job import start_job

    results: list[int] = []
    for i in range(40):
        start_job(lambda i=i: i, f"qfinder-test-{i}", results.append, lambda exc: None)
    qtbot.waitUntil(lambda: len(results) == 40, timeout=10_000)
    assert sorted(results) == list(range(40))
