"""Status bar: indexing progress (files, chunks, tokens/s, ETA), pause, model and provider, and
a link to the failed-files list."""

from __future__ import annotations

from PySide6.QtCore import QTimer, Signal, Slot
from PySide6.QtWidgets import QLabel, QProgressBar, QStatusBar, QToolButton, QWidget

from qfinder.core.state import EngineStatus, IndexProgress

WARNING_STYLE = "QLabel { color: #b35c00; font-weight: 600; }"
ERROR_STYLE = "QLabel { color: #c62828; }"


def format_eta(seconds: float | None) -> str:
    if seconds is None:
        return "estimating…"
    seconds = int(seconds)
    if seconds < 90:
        return f"{seconds} s left"
    if seconds < 5400:
        return f"{round(seconds / 60)} min left"
    return f"{seconds / 3600:.1f} h left"


def describe_progress(progress: IndexProgress) -> str:
    files_total = progress.files_done + progress.files_pending
    chunks_total = progress.chunks_done + progress.chunks_pending
    parts = [f"Indexing {progress.files_done:,}/{files_total:,} files",
             f"{progress.chunks_done:,}/{chunks_total:,} chunks"]
    if progress.tokens_per_s > 0:
        parts.append(f"{progress.tokens_per_s:,.0f} tok/s")
    parts.append(format_eta(progress.eta_s))
    return " · ".join(parts)


class StatusBar(QStatusBar):
    pause_toggled = Signal(bool)
    failures_requested = Signal()
    setup_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.progress_label = QLabel("", self)
        self.progress_label.setAccessibleName("Indexing progress")
        self.progress_bar = QProgressBar(self)
        self.progress_bar.setMaximumWidth(160)
        self.progress_bar.setTextVisible(False)
        self.pause_button = QToolButton(self)
        self.pause_button.setText("Pause")
        self.pause_button.setCheckable(True)
        self.pause_button.setAccessibleName("Pause indexing")
        self.failed_link = QLabel(self)
        self.failed_link.setAccessibleName("Failed files")
        self.failed_link.linkActivated.connect(lambda _href: self.failures_requested.emit())
        self.notice_label = QLabel("", self)
        self.notice_label.setAccessibleName("Notice")
        self.notice_label.setVisible(False)
        self._notice_timer = QTimer(self)
        self._notice_timer.setSingleShot(True)
        self._notice_timer.timeout.connect(lambda: self.notice_label.setVisible(False))
        self._idle_text = ""
        self.model_label = QLabel("No model — keyword search only", self)
        self.model_label.setAccessibleName("Model and execution provider")
        self.model_label.linkActivated.connect(lambda _href: self.setup_requested.emit())
        self.addWidget(self.progress_label)
        self.addWidget(self.progress_bar)
        self.addWidget(self.pause_button)
        self.addWidget(self.notice_label, 1)
        self.addPermanentWidget(self.failed_link)
        self.addPermanentWidget(self.model_label)
        self.pause_button.toggled.connect(self._on_pause)
        self.set_progress(None)
        self.set_failed_count(0)

    def set_progress(self, progress: IndexProgress | None) -> None:
        active = progress is not None and progress.files_pending > 0
        self.progress_bar.setVisible(active)
        self.pause_button.setVisible(active or self.pause_button.isChecked())
        if progress is None or not active:
            self.progress_label.setText(self._idle_text or ("Up to date" if progress else ""))
            return
        total = progress.files_done + progress.files_pending
        self.progress_bar.setRange(0, max(1, total))
        self.progress_bar.setValue(progress.files_done)
        self.progress_label.setText(describe_progress(progress))
        self.progress_label.setToolTip(progress.current_file or "")

    def set_engine_status(self, status: EngineStatus) -> None:
        self.set_paused(status.state == "paused")
        if status.model_name is None:
            self.model_label.setText('No model — keyword & file-name search only · '
                                     '<a href="setup">Set up a model…</a>')
            self.model_label.setStyleSheet("")
            return
        provider = status.provider
        used = provider.used if provider else "?"
        text = f"{status.model_name} · {used}"
        opening = f"\nModel {status.opening.describe()}" if status.opening else ""  # what a first search waits for
        if provider is not None and provider.fell_back:
            self.model_label.setText(f"⚠ {text} (GPU not used)")
            self.model_label.setStyleSheet(WARNING_STYLE)
            self.model_label.setToolTip(
                f"Requested {provider.requested}, running on {provider.used}: "
                f"{provider.fallback_reason}\nIndexing will be slower. Check the GPU drivers "
                "or the onnxruntime build, or choose CPU in Settings." + opening
            )
        else:
            self.model_label.setText(text)
            self.model_label.setStyleSheet("")
            self.model_label.setToolTip(f"Model {status.model_name}, running on {used}{opening}")
        if status.message and status.state not in ("indexing", "error"):
            self._idle_text = status.message  # e.g. "Up to date": shown while nothing runs
            if not self.progress_bar.isVisible():
                self.progress_label.setText(status.message)
        elif status.state == "error" and status.message:
            self.show_error(status.message)

    def set_paused(self, paused: bool) -> None:
        self.pause_button.blockSignals(True)
        self.pause_button.setChecked(paused)
        self.pause_button.setText("Resume" if paused else "Pause")
        self.pause_button.setVisible(paused or self.progress_bar.isVisible())
        self.pause_button.blockSignals(False)

    def set_failed_count(self, failed: int, name_only: int = 0) -> None:
        """Failures, and apart from them the files found by name only (empty, binary)."""
        parts = [f"{failed} file{'' if failed == 1 else 's'} failed"] if failed else []
        if name_only:
            parts.append(f"{name_only} found by name only")
        self.failed_link.setVisible(bool(parts))
        self.failed_link.setText(f'<a href="failures">{" · ".join(parts)}</a>')
        self.failed_link.setToolTip("Files whose content is not indexed; their names are searchable")

    def show_error(self, text: str) -> None:
        self.notify(f"⚠ {text}", 15000, error=True)

    def notify(self, text: str, timeout_ms: int = 4000, error: bool = False) -> None:
        """A passing notice beside the progress (QStatusBar.showMessage would hide the progress)."""
        self.notice_label.setText(text)
        self.notice_label.setToolTip(text)
        self.notice_label.setStyleSheet(ERROR_STYLE if error else "")
        self.notice_label.setVisible(True)
        self._notice_timer.start(timeout_ms)

    @Slot(bool)
    def _on_pause(self, paused: bool) -> None:
        self.pause_button.setText("Resume" if paused else "Pause")
        self.pause_toggled.emit(paused)
