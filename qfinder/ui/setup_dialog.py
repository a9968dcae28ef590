"""First run without a model: recommend one for this machine, download it (off the GUI thread,
with progress, speed and cancel), optionally optimize it for this CPU, or use a folder on disk.

Closing or skipping keeps the app usable for file-name and keyword search.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from qfinder.core.errors import QfinderError
from qfinder.core.model.machine import Machine, recommended_model, this_machine
from qfinder.core.model.registry import REGISTRY
from qfinder.core.units import MB, format_size
from qfinder.services.model_jobs import ModelJobs

INTRO = ("qfinder finds files by meaning with an embedding model that runs on this computer — "
         "nothing leaves it. Choose one to download, or a model folder you already have. "
         "Until then, qfinder searches file names and words.")


@dataclass(frozen=True)
class ChoiceRow:
    name: str
    variant: str
    download: str  # sizes in the one format `qfinder models list` shows too
    ram: str
    note: str


def choice_rows() -> list[ChoiceRow]:
    """Every downloadable model variant with its sizes, for the table."""
    return [ChoiceRow(spec.name, v.name, format_size(v.download_mb * MB),
                      f"~{format_size(v.ram_mb * MB)} RAM", v.note)
            for spec in REGISTRY for v in spec.variants if not v.made_locally]


class SetupDialog(QDialog):
    model_ready = Signal(str)  # the model folder to use

    def __init__(self, parent: QWidget | None = None, machine: Machine | None = None,
                 jobs: ModelJobs | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Set up qfinder")
        self.setMinimumWidth(820)
        self.machine = machine or this_machine()
        self.model_folder: str | None = None
        self.jobs = jobs or ModelJobs()
        self.jobs.setParent(self)
        self._started_at = 0.0  # when the running download began, for its speed
        self.optimize_verdict = ""  # what optimizing found (faster or not, which model is used)
        self._build()
        self._connect_jobs()

    def _connect_jobs(self) -> None:
        self.jobs.progress.connect(self._on_progress)
        self.jobs.optimizing.connect(self._on_optimizing)
        self.jobs.optimized.connect(self._on_optimized)
        self.jobs.finished.connect(self._on_success)
        self.jobs.failed.connect(self._on_failure)
        self.jobs.cancelled.connect(self._on_cancelled)

    # -- layout ------------------------------------------------------------------------------
    def _build(self) -> None:
        heading = QLabel("<h2>Choose a model for searching by meaning</h2>", self)
        intro = QLabel(INTRO, self)
        intro.setWordWrap(True)
        self.machine_label = QLabel(self.machine.describe(), self)
        self.recommend_label = QLabel(self)
        self.recommend_label.setWordWrap(True)
        self.models = QTreeWidget(self)
        self.models.setAccessibleName("Models to download")
        self._fill_models()
        self.optimize_box = QCheckBox("Optimize for this CPU after downloading (fused ops, int8 "
                                      "weights, checked against the original; used only if it runs faster here)", self)
        self.optimize_box.setChecked(self.machine.gpu_provider is None)
        self.progress = QProgressBar(self)
        self.progress.setVisible(False)
        self.speed_label = QLabel("", self)  # progress, speed or the optimizer's verdict
        self.speed_label.setVisible(False)
        self.error_label = QLabel("", self)
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet("QLabel { color: #c62828; }")
        self.error_label.setVisible(False)
        self.error_label.setAccessibleName("Setup error")
        buttons = self._button_row()
        progress_row = QHBoxLayout()
        progress_row.addWidget(self.progress, 1)
        progress_row.addWidget(self.speed_label)
        column = QVBoxLayout(self)
        for widget in (heading, intro, self.machine_label, self.models, self.recommend_label,
                       self.optimize_box):
            column.addWidget(widget)
        column.addLayout(progress_row)
        column.addWidget(self.error_label)
        column.addLayout(buttons)
        for label in (intro, self.recommend_label):
            self._hold_height(label)

    def _show_hint(self, text: str) -> None:
        self.speed_label.setText(text)
        self.speed_label.setVisible(bool(text))  # an empty line would still take a row

    def _hold_height(self, label: QLabel) -> None:
        """Reserve a wrapped label's height at the dialog's narrowest width. Qt's minimum size
        of a window does not count wrapped lines, so without this a longer text (an error) made
        the layout squeeze the model table over the lines below it."""
        layout = self.layout()
        margins = layout.contentsMargins() if layout is not None else None
        width = self.minimumWidth() - (margins.left() + margins.right() if margins else 0)
        label.setMinimumHeight(label.heightForWidth(width) if label.text() else 0)

    def _button_row(self) -> QHBoxLayout:
        """Folder / skip on the left, cancel / download on the right."""
        self.download_button = QPushButton("Download", self)
        self.download_button.setDefault(True)
        self.cancel_button = QPushButton("Cancel download", self)
        self.cancel_button.setVisible(False)
        self.folder_button = QPushButton("Use a model folder on disk…", self)
        self.skip_button = QPushButton("Skip — keyword search only", self)
        self.download_button.clicked.connect(self.start_download)
        self.cancel_button.clicked.connect(self.cancel_job)
        self.folder_button.clicked.connect(self._pick_folder)
        self.skip_button.clicked.connect(self.reject)
        row = QHBoxLayout()
        for button in (self.folder_button, self.skip_button):
            row.addWidget(button)
        row.addStretch(1)
        row.addWidget(self.cancel_button)
        row.addWidget(self.download_button)
        return row

    def _fill_models(self) -> None:
        """One row per downloadable model and variant; the recommended one first, selected."""
        best = recommended_model(self.machine)
        best_row = (best.name, best.variant)
        self.models.setColumnCount(4)
        self.models.setHeaderLabels(["Model", "Download", "Memory", "Notes"])
        self.models.setRootIsDecorated(False)
        self.models.setAlternatingRowColors(True)
        rows = sorted(choice_rows(), key=lambda r: (r.name, r.variant) != best_row)
        for row in rows:
            recommended = (row.name, row.variant) == best_row
            label = f"{row.name} · {row.variant}"
            item = QTreeWidgetItem([f"★ {label}" if recommended else label, row.download, row.ram,
                                    row.note])
            item.setData(0, Qt.ItemDataRole.UserRole, (row.name, row.variant))
            item.setToolTip(3, row.note)
            if recommended:
                font = item.font(0)
                font.setBold(True)
                item.setFont(0, font)
            self.models.addTopLevelItem(item)
        first = self.models.topLevelItem(0)
        if first is not None:
            self.models.setCurrentItem(first)
        for column in range(3):
            self.models.resizeColumnToContents(column)
        self.models.setMinimumHeight(self.models.sizeHintForRow(0) * 7 + 30)
        self.recommend_label.setText(f"★ Recommended for this computer: <b>{best.name} · "
                                     f"{best.variant}</b> — {best.why}.")

    # -- actions -----------------------------------------------------------------------------
    def selected_model(self) -> tuple[str, str] | None:
        item = self.models.currentItem()
        return item.data(0, Qt.ItemDataRole.UserRole) if item else None

    @Slot()
    def start_download(self) -> None:
        choice = self.selected_model()
        if choice is None:
            return
        name, variant = choice
        self._set_busy(True, "Downloading…")
        self._started_at = time.monotonic()
        self.jobs.download(name, variant, optimize=self.optimize_box.isChecked() and variant == "fp32")

    def check_folder(self, folder: str) -> None:
        """Validate a model folder off the GUI thread; accept the dialog when it is usable."""
        self._set_busy(True, "Checking…")
        self.jobs.check_folder(folder)

    @Slot()
    def cancel_job(self) -> None:
        self.jobs.cancel()
        self._show_hint("Cancelling…")

    @Slot()
    def _pick_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Choose a model folder (with model.onnx)")
        if folder:
            self.check_folder(folder)

    def _set_busy(self, busy: bool, text: str = "") -> None:
        if busy:
            self.error_label.setVisible(False)
        self.progress.setVisible(busy)
        self.progress.setRange(0, 0)
        self._show_hint(text if busy else "")
        self.cancel_button.setVisible(busy)
        for widget in (self.download_button, self.folder_button, self.models, self.optimize_box):
            widget.setEnabled(not busy)

    # -- job signals -------------------------------------------------------------------------
    @Slot("qint64", "qint64")
    def _on_progress(self, done: int, total: int) -> None:
        if total > 0:
            self.progress.setRange(0, 1000)
            self.progress.setValue(int(1000 * done / total))
        rate = done / max(1e-3, time.monotonic() - self._started_at)
        self._show_hint(f"{format_size(done)} of {format_size(total)} · {format_size(rate)}/s")

    @Slot()
    def _on_optimizing(self) -> None:
        self.progress.setRange(0, 0)
        self._show_hint("Optimizing for this CPU and checking fidelity…")

    @Slot(str)
    def _on_optimized(self, verdict: str) -> None:
        self.optimize_verdict = verdict

    @Slot(str)
    def _on_success(self, folder: str) -> None:
        self._set_busy(False)
        self.model_folder = folder
        self.model_ready.emit(folder)
        if self.optimize_verdict:  # they asked for a faster model: say whether they got one
            self._show_hint(self.optimize_verdict)
            self.download_button.setText("Close")
            self.download_button.clicked.disconnect()
            self.download_button.clicked.connect(self.accept)
            return
        self.accept()

    @Slot(object, bool)
    def _on_failure(self, exc: BaseException, offline: bool) -> None:
        self._set_busy(False)
        self.show_error(exc, offline)

    @Slot(object)
    def _on_cancelled(self, exc: BaseException) -> None:
        self._on_failure(exc, False)

    def show_error(self, exc: BaseException, offline: bool) -> None:
        if isinstance(exc, QfinderError):
            text = f"<b>{exc.message}</b><br>{exc.hint}" if exc.hint else f"<b>{exc.message}</b>"
        else:
            text = f"<b>Something went wrong:</b> {exc}"
        if offline:
            text += ("<br>You seem to be offline. Connect and try again, or use "
                     "<i>Use a model folder on disk…</i> with a model copied from another computer.")
        self.error_label.setText(text)
        self._hold_height(self.error_label)
        self._show_hint("")  # one hint at a time: the error replaces the progress line
        self.error_label.setVisible(True)

    def reject(self) -> None:
        self.jobs.cancel()
        super().reject()
