"""The model work the setup dialog asks for, off the GUI thread: download a registry model (then,
if asked, optimize it for this CPU), or check a model folder on disk. One job at a time.

The core's downloader, optimizer and folder check do the work (imported when a job runs, so
the window loads none of them until then); the dialog only listens to the signals.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QObject, Signal, Slot

from qfinder.core.errors import CancelledError, DownloadError, ModelError
from qfinder.services.thread_job import ThreadJob, start_job

Progress = Callable[[int, int, str], None]  # bytes done, bytes in all, the file being fetched
Download = Callable[[str, str, Progress], Path]  # (model, variant, progress) -> model folder
Optimize = Callable[[Path], tuple[Path, str]]  # fp32 folder -> (folder to use, the verdict)

_OFFLINE_WORDS = ("offline", "connect", "resolve", "network", "unreachable", "timed out",
                  "name or service", "temporary failure")


class ModelJobs(QObject):
    """Signals:
        progress(qint64, qint64): bytes downloaded so far, and in all (0 while not known)
        optimizing(): the download is done; the optimized copy is being made and checked
        optimized(str): what optimizing found, as a sentence ("The optimized model is …")
        finished(str): the model folder to use
        failed(object, bool): the exception (a QfinderError carries a message and a hint), and
            whether it looks like the network is down
        cancelled(object): the CancelledError of a job stopped by cancel(), saying how to go on
    """

    # qint64: Signal(int) is a 32-bit C++ int and turns a 16 GB download negative
    progress = Signal("qint64", "qint64")  # type: ignore[arg-type]  # the stubs know only types
    optimizing = Signal()
    optimized = Signal(str)
    finished = Signal(str)
    failed = Signal(object, bool)
    cancelled = Signal(object)

    def __init__(self, parent: QObject | None = None, download: Download | None = None,
                 optimize: Optimize | None = None) -> None:
        super().__init__(parent)
        self._download = download or _download_model
        self._optimize = optimize or _optimize_for_cpu
        self._cancel = threading.Event()
        self._job: ThreadJob | None = None
        app = QCoreApplication.instance()
        if app is not None:  # before the job's own wait: a download stops at its next chunk
            app.aboutToQuit.connect(self.cancel)

    def download(self, name: str, variant: str, optimize: bool) -> None:
        """Download `name`'s `variant`; with `optimize`, make the optimized copy and use it if faster."""
        self._start(lambda: self._fetch(name, variant, optimize), "qfinder-model-download")

    def check_folder(self, folder: str) -> None:
        self._start(lambda: _usable_folder(folder), "qfinder-model-check")

    @Slot()
    def cancel(self) -> None:
        self._cancel.set()

    def is_running(self) -> bool:
        return self._job is not None and self._job.isRunning()

    def _start(self, work: Callable[[], str], name: str) -> None:
        self._cancel = threading.Event()  # each job its own: a late cancel never stops the next
        self._job = start_job(work, name, self._succeeded, self._failed)

    def _fetch(self, name: str, variant: str, optimize: bool) -> str:
        """On the job's thread."""
        cancel = self._cancel

        def progress(done: int, total: int, _filename: str) -> None:
            if cancel.is_set():  # raised inside the downloader: it stops and keeps what it has
                raise CancelledError("Download cancelled.", "Start it again to resume where it stopped.")
            self.progress.emit(done, total)

        folder = self._download(name, variant, progress)
        if optimize:
            self.optimizing.emit()
            folder, verdict = self._optimize(folder)
            self.optimized.emit(verdict)
        return str(folder)

    @Slot(object)
    def _succeeded(self, folder: str) -> None:
        self._job = None
        self.finished.emit(folder)

    @Slot(object)
    def _failed(self, exc: BaseException) -> None:
        self._job = None
        if isinstance(exc, CancelledError):
            self.cancelled.emit(exc)
        else:
            self.failed.emit(exc, looks_offline(exc))


def looks_offline(exc: BaseException) -> bool:
    text = str(exc).lower()
    return isinstance(exc, (DownloadError, OSError)) and any(w in text for w in _OFFLINE_WORDS)


def _download_model(name: str, variant: str, progress: Progress) -> Path:
    from qfinder.core.model.download import download_model

    return download_model(name, variant, progress=progress)


def _optimize_for_cpu(folder: Path) -> tuple[Path, str]:
    """The optimized copy (kept only if it matches fp32, ModelError if not) when it is faster here,
    else `folder` itself; and the sentence that says which and why."""
    from qfinder.core.model.optimize import optimize_model, preferred_folder

    report = optimize_model(folder)
    return preferred_folder(report), f"The optimized model is {report.verdict}."


def _usable_folder(folder: str) -> str:
    """A usable model folder, or ModelError saying what is wrong (missing model.onnx, …)."""
    from qfinder.core.model.folder import find_model_folder

    found = find_model_folder(folder)
    if not found.tokenizer_path.exists():
        raise ModelError(f"No tokenizer.json in {folder}.", "Copy the model's tokenizer.json beside it.")
    return str(found.root)
