"""Settings: the data folder's configuration (model, variant, provider, threads, indexing
limits, exclusions, chunking, dimension) and the app's own preferences (defaults, data folder)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from qfinder.core.config import LibraryConfig
from qfinder.ui.server_settings import ServerPage
from qfinder.ui.settings import AppSettings, DataFolder, data_folder_in_use

PROVIDERS = ("auto", "cpu", "cuda", "directml", "coreml")
VARIANTS = ("", "fp32", "fp16", "int8", "q4")
RESTART_NOTE = ("A new model, variant or chunk size means embedding every file again: qfinder asks "
                "first, then re-indexes in the background while the current index keeps "
                "answering. Provider and threads apply when the model is next loaded, the data "
                "folder on the next start. Model and indexing settings belong to this data folder "
                "(the command line uses them too).")


def _folder_row(parent: QWidget, edit: QLineEdit, title: str) -> QWidget:
    row = QWidget(parent)
    layout = QHBoxLayout(row)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.addWidget(edit, 1)
    browse = QPushButton("Browse…", row)
    browse.setAccessibleName(f"Browse for {title}")

    def pick() -> None:
        folder = QFileDialog.getExistingDirectory(parent, title, edit.text())
        if folder:
            edit.setText(folder)

    browse.clicked.connect(pick)
    layout.addWidget(browse)
    return row


def _spin(low: int, high: int, value: int, suffix: str = "") -> QSpinBox:
    box = QSpinBox()
    box.setRange(low, high)
    box.setValue(value)
    box.setSuffix(suffix)
    return box


class SettingsDialog(QDialog):
    settings_saved = Signal(object, object)  # AppSettings, LibraryConfig

    def __init__(self, settings: AppSettings, config: LibraryConfig | None = None,
                 parent: QWidget | None = None, data_folder: DataFolder | None = None) -> None:
        """`config`: the data folder's configuration (the engine's status says it);
        `data_folder`: the one the app started with (default: what `settings` give now)."""
        super().__init__(parent)
        self._data_folder = data_folder or data_folder_in_use(settings)
        self.setWindowTitle("qfinder settings")
        self.setMinimumWidth(560)
        self._original = settings
        self._original_config = config = config or LibraryConfig()
        tabs = QTabWidget(self)
        tabs.addTab(self._model_tab(settings, config), "Model")
        tabs.addTab(self._indexing_tab(settings, config), "Indexing")
        tabs.addTab(self._search_tab(settings, config), "Search")
        self.server_page = ServerPage(config, Path(self._data_folder.path), self)
        tabs.addTab(self.server_page, "Embedding")
        # asked before saving a plain-http address outside the LAN (tests answer it themselves)
        self.confirm: Callable[[str], bool] = self._ask
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel, self)
        buttons.accepted.connect(self._save)
        self._save_button = buttons.button(QDialogButtonBox.StandardButton.Save)
        self.server_page.key_busy.connect(self._hold_save)
        buttons.rejected.connect(self.reject)
        note = QLabel(RESTART_NOTE, self)
        note.setWordWrap(True)
        column = QVBoxLayout(self)
        column.addWidget(tabs)
        column.addWidget(note)
        column.addWidget(buttons)

    def _model_tab(self, s: AppSettings, c: LibraryConfig) -> QWidget:
        page = QWidget(self)
        form = QFormLayout(page)
        self.model_edit = QLineEdit(c.model_folder or "", page)
        self.model_edit.setPlaceholderText("No model: file-name and keyword search only")
        form.addRow("Model folder", _folder_row(page, self.model_edit, "Model folder"))
        self.variant_box = QComboBox(page)
        self.variant_box.addItems([v or "folder default" for v in VARIANTS])
        self.variant_box.setCurrentIndex(VARIANTS.index(c.variant or "") if (c.variant or "") in VARIANTS else 0)
        form.addRow("Variant", self.variant_box)
        self.provider_box = QComboBox(page)
        self.provider_box.addItems(list(PROVIDERS))
        self.provider_box.setCurrentText(c.provider)
        form.addRow("Execution provider", self.provider_box)
        self.threads_spin = _spin(0, 256, c.threads or 0)
        self.threads_spin.setSpecialValueText("automatic")
        form.addRow("Threads", self.threads_spin)
        self.data_edit = QLineEdit(s.data_folder or "", page)
        self.data_edit.setPlaceholderText("none chosen")
        form.addRow("Data folder", _folder_row(page, self.data_edit, "Data folder"))
        in_use = QLabel(f"In use: {self._data_folder.path} ({self._data_folder.source})", page)
        in_use.setWordWrap(True)
        in_use.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        form.addRow(in_use)
        return page

    def _indexing_tab(self, s: AppSettings, c: LibraryConfig) -> QWidget:
        page = QWidget(self)
        form = QFormLayout(page)
        self.low_priority_box = QCheckBox("Index at low priority (keeps the computer responsive)", page)
        self.low_priority_box.setChecked(s.low_priority_indexing)
        form.addRow(self.low_priority_box)
        self.hidden_box = QCheckBox("Index hidden files and folders", page)
        self.hidden_box.setChecked(c.index_hidden)
        form.addRow(self.hidden_box)
        self.exclude_edit = QPlainTextEdit("\n".join(c.exclude_globs), page)
        self.exclude_edit.setPlaceholderText("One .gitignore-style pattern per line")
        self.exclude_edit.setMaximumHeight(110)
        form.addRow("Exclude", self.exclude_edit)
        self.max_mb_spin = _spin(1, 10_000, c.max_file_mb, " MB")
        form.addRow("Largest file to read", self.max_mb_spin)
        self.max_chunks_spin = _spin(1, 1_000_000, c.max_chunks_per_file)
        form.addRow("Chunks per file at most", self.max_chunks_spin)
        self.chunk_spin = _spin(64, 2048, c.chunk_tokens, " tokens")
        form.addRow("Chunk size", self.chunk_spin)
        return page

    def _search_tab(self, s: AppSettings, c: LibraryConfig) -> QWidget:
        page = QWidget(self)
        form = QFormLayout(page)
        self.instruction_edit = QLineEdit(s.default_instruction or "", page)
        self.instruction_edit.setPlaceholderText("the model's default task")
        form.addRow("Default instruction", self.instruction_edit)
        self.dim_spin = _spin(0, 8192, c.dim or 0)
        self.dim_spin.setSpecialValueText("model default")
        form.addRow("Default dimension", self.dim_spin)
        self.hybrid_box = QCheckBox("Hybrid search (meaning + keywords)", page)
        self.hybrid_box.setChecked(s.hybrid)
        form.addRow(self.hybrid_box)
        self.rerank_box = QCheckBox("Re-score the best candidates at full size", page)
        self.rerank_box.setChecked(s.rerank)
        form.addRow(self.rerank_box)
        return page

    def current(self) -> AppSettings:
        return dataclasses.replace(
            self._original,
            low_priority_indexing=self.low_priority_box.isChecked(),
            default_instruction=self.instruction_edit.text().strip() or None,
            hybrid=self.hybrid_box.isChecked(),
            rerank=self.rerank_box.isChecked(),
            data_folder=self.data_edit.text().strip() or None,
        )

    def current_config(self) -> LibraryConfig:
        globs = tuple(line.strip() for line in self.exclude_edit.toPlainText().splitlines() if line.strip())
        return self.server_page.config_from(dataclasses.replace(
            self._original_config,
            model_folder=self.model_edit.text().strip() or None,
            variant=VARIANTS[self.variant_box.currentIndex()] or None,
            provider=self.provider_box.currentText(),
            threads=self.threads_spin.value() or None,
            index_hidden=self.hidden_box.isChecked(),
            exclude_globs=globs,
            max_file_mb=self.max_mb_spin.value(),
            max_chunks_per_file=self.max_chunks_spin.value(),
            chunk_tokens=self.chunk_spin.value(),
            dim=self.dim_spin.value() or None,
        ))

    def _ask(self, question: str) -> bool:
        answer = QMessageBox.question(self, "Send file text over plain http?", question)
        return answer == QMessageBox.StandardButton.Yes

    @Slot()
    def _save(self) -> None:
        warning = self.server_page.plain_http_warning()
        if warning is not None and not self.confirm(warning):
            return
        self.server_page.save_key(self._saved)  # the key on another thread; then the rest

    def _saved(self) -> None:
        self.settings_saved.emit(self.current(), self.current_config())
        self.accept()

    @Slot(bool)
    def _hold_save(self, busy: bool) -> None:
        self._save_button.setEnabled(not busy)
