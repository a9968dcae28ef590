"""The main window: composes the widgets and wires them to the engine's signals and slots.

Longer than ~300 lines: it is the one place the window's parts meet (each handler a few lines
of wiring); the parts themselves are their own modules.

The engine is anything that meets EngineLike (ui/engine_port.py: EngineClient, a test's fake);
the window never calls into core search or indexing code itself, so the GUI thread never blocks.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt, Slot
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence, QResizeEvent
from PySide6.QtWidgets import QApplication, QMainWindow, QMessageBox, QWidget

from qfinder.core.config import LibraryConfig
from qfinder.core.results import SearchResponse
from qfinder.core.state import (
    EngineStatus,
    FileFailure,
    IndexChange,
    IndexProgress,
    ModelSummary,
    RootState,
)
from qfinder.ui import opener as opener_module
from qfinder.ui.drop_filter import DropFilter
from qfinder.ui.engine_port import EngineLike
from qfinder.ui.failures_dialog import FailuresDialog
from qfinder.ui.file_actions import FileActions
from qfinder.ui.live_results import LiveResults
from qfinder.ui.reconfigure import Reconfigure
from qfinder.ui.results_view import EMPTY_NO_RESULTS, EMPTY_NO_ROOTS, EMPTY_TYPE
from qfinder.ui.search_controller import SearchController
from qfinder.ui.settings import AppSettings, DataFolder, data_folder_in_use
from qfinder.ui.window_layout import WindowParts, build_parts, fit_rows, restore_layout, save_layout

log = logging.getLogger(__name__)


class MainWindow(QMainWindow):
    def __init__(self, engine: EngineLike, settings: AppSettings | None = None,
                 save_settings: Callable[[AppSettings], object] | None = None,
                 parent: QWidget | None = None, data_folder: DataFolder | None = None) -> None:
        super().__init__(parent)
        self.engine = engine
        self.settings = settings or AppSettings()
        # fixed for this run: a folder chosen in the settings applies on the next start
        self.data_folder = data_folder or data_folder_in_use(self.settings)
        self._save_settings = save_settings or (lambda _s: None)
        self.failures: dict[str, FileFailure] = {}
        self.root_states: tuple[RootState, ...] = ()
        self.engine_status: EngineStatus | None = None
        self._model: ModelSummary | None = None
        self.setWindowTitle("qfinder")
        self.setObjectName("qfinder-main")
        self.ui: WindowParts = build_parts(self, self.settings)
        self.search = SearchController(engine, self)
        self.live = LiveResults(self.search, self.ui.model, self)
        self.reconfigure = Reconfigure(engine, self.library_config, self)
        self.files = FileActions(self)
        self.search.state.rerank = self.settings.rerank
        self.search.state.instruction = self.settings.default_instruction
        self.ui.instructions.select_instruction(self.settings.default_instruction)
        self.drops = DropFilter(self)
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self.drops)
        self._build_actions()
        self._connect_widgets()
        self._connect_engine(engine)
        self._restore_layout()
        self._refresh_empty_state()

    # -- wiring ----------------------------------------------------------------------------
    def _build_actions(self) -> None:
        def action(text: str, keys: tuple[QKeySequence | QKeySequence.StandardKey | str, ...], slot: Callable[[], Any]) -> QAction:
            act = QAction(text, self)
            act.setShortcuts([QKeySequence(k) for k in keys])
            act.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            act.triggered.connect(slot)
            self.addAction(act)
            return act

        self.focus_action = action("Focus search", ("Ctrl+L", "Ctrl+F"), self.focus_search)
        file_menu = self.menuBar().addMenu("&File")
        file_menu.addAction(action("&Add folder…", ("Ctrl+O",), self.ui.folders.add_button.click))
        file_menu.addAction(action("&Settings…", (QKeySequence.StandardKey.Preferences, "Ctrl+,"),
                                   self.open_settings))
        file_menu.addSeparator()
        file_menu.addAction(action("&Quit", (QKeySequence.StandardKey.Quit,), self.close))
        help_menu = self.menuBar().addMenu("&Help")
        help_menu.addAction(action("&About qfinder", (), self._about))

    def _connect_widgets(self) -> None:
        ui, search = self.ui, self.search
        ui.search_bar.search_requested.connect(search.search_text)
        ui.search_bar.cleared.connect(search.clear)
        ui.search_bar.down_pressed.connect(self._focus_results)
        ui.instructions.instruction_changed.connect(self._on_instruction)
        ui.instructions.custom_added.connect(self._remember_instruction)
        ui.dim.dim_changed.connect(self._on_dim)
        ui.dim.rerank_changed.connect(self._on_rerank)
        ui.filters.filters_changed.connect(self._on_filters)
        search.response_ready.connect(self._show_response)
        search.cleared.connect(self._on_cleared)
        ui.results.open_requested.connect(self._open)
        ui.results.reveal_requested.connect(self.files.reveal)
        ui.results.open_with_requested.connect(self.files.open_with)
        ui.results.copy_requested.connect(self._copy)
        ui.results.similar_requested.connect(lambda p: self.find_similar([p]))
        ui.results.hit_selected.connect(ui.preview.show_hit)
        ui.preview.open_requested.connect(self._open)
        ui.preview.reveal_requested.connect(self.files.reveal)
        ui.folders.add_requested.connect(self.add_folders)
        ui.folders.remove_requested.connect(self.engine.remove_root)
        ui.folders.rescan_requested.connect(self.engine.rescan)
        ui.folders.pause_toggled.connect(self.set_paused)
        ui.status.pause_toggled.connect(self.set_paused)
        ui.status.failures_requested.connect(self.show_failures)
        ui.status.setup_requested.connect(self.show_setup)
        self.drops.folders_dropped.connect(self.add_folders)
        self.drops.files_dropped.connect(self.find_similar)

    def _connect_engine(self, engine: EngineLike) -> None:
        engine.results.connect(self.search.on_results)
        engine.progress.connect(self._on_progress)
        engine.status.connect(self._on_status)
        engine.roots.connect(self._on_roots)
        engine.file_failed.connect(self._on_file_failed)
        engine.index_changed.connect(self._on_index_changed)
        engine.error.connect(self._on_error)

    # -- user intents ----------------------------------------------------------------------
    @Slot()
    def focus_search(self) -> None:
        self.ui.search_bar.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.ui.search_bar.selectAll()

    @Slot()
    def _focus_results(self) -> None:
        if self.ui.model.rowCount():
            self.ui.results.setFocus(Qt.FocusReason.TabFocusReason)
            if not self.ui.results.currentIndex().isValid():
                self.ui.results.setCurrentIndex(self.ui.model.index(0, 0))

    @Slot(list)
    def add_folders(self, folders: list[str]) -> None:
        self.engine.add_roots(list(folders))
        names = ", ".join(os.path.basename(f.rstrip("/\\")) or f for f in folders)
        self.ui.status.notify(f"Adding {names} to the index…", 5000)

    @Slot(list)
    def find_similar(self, paths: list[str]) -> None:
        self.ui.search_bar.clear()
        self.ui.search_bar.setPlaceholderText(f"Files like {', '.join(p.rsplit('/', 1)[-1] for p in paths)}")
        self.search.find_similar(paths)

    @Slot(bool)
    def set_paused(self, paused: bool) -> None:
        (self.engine.pause if paused else self.engine.resume)()
        self.ui.folders.set_paused(paused)
        self.ui.status.set_paused(paused)

    @Slot()
    def show_setup(self) -> None:
        """The model setup dialog (first run, or from the status bar's link)."""
        from qfinder.ui.setup_dialog import SetupDialog

        dialog = SetupDialog(self)
        dialog.model_ready.connect(self.use_model)
        dialog.open()

    @Slot()
    def show_failures(self) -> None:
        dialog = FailuresDialog(self)
        dialog.set_failures(list(self.failures.values()))
        dialog.retry_requested.connect(self._retry)
        dialog.open()

    @Slot()
    def open_settings(self) -> None:
        from qfinder.ui.settings_dialog import SettingsDialog

        dialog = SettingsDialog(self.settings, self.library_config(), self,
                                data_folder=self.data_folder)
        dialog.settings_saved.connect(self.apply_settings)
        dialog.open()

    @Slot(object, object)
    def apply_settings(self, settings: AppSettings, config: LibraryConfig | None = None) -> None:
        """The app's preferences now; the data folder's `config` through the engine (asked
        first when it re-embeds every file)."""
        self.settings = settings
        self._save_settings(settings)
        self.ui.filters.set_mode("hybrid" if settings.hybrid else "semantic")
        if config is not None:
            if config.dim and config.dim != (self.library_config() or config).dim:
                self.ui.dim.set_dim(config.dim)
            self.reconfigure.apply(config)

    def library_config(self) -> LibraryConfig | None:
        """The data folder's configuration, as the engine last reported it."""
        return self.engine_status.config if self.engine_status is not None else None

    @Slot(str)
    def use_model(self, folder: str) -> None:
        """The model chosen in the setup dialog becomes the data folder's."""
        current = self.library_config() or LibraryConfig()
        self.reconfigure.apply(dataclasses.replace(current, model_folder=folder))

    @Slot(object)
    def _retry(self, paths: list[str]) -> None:
        for path in paths:
            self.failures.pop(path, None)
        self._show_failure_count()
        self.engine.retry_failed(paths)

    @Slot(object, object)
    def _open(self, path: str, page: object = None) -> None:
        self.files.open(path, page if isinstance(page, int) else None)

    @Slot(object)
    def _copy(self, path: str) -> None:
        opener_module.get_opener().copy_path(path)
        self.ui.status.notify(f"Copied {path}", 3000)

    @Slot(object)
    def _on_instruction(self, instruction: str | None) -> None:
        self.search.state.instruction = instruction
        self.search.rerun()

    @Slot(str)
    def _remember_instruction(self, text: str) -> None:
        self.settings = self.settings.with_recent_instruction(text)
        self._save_settings(self.settings)

    @Slot(int)
    def _on_dim(self, dim: int) -> None:
        self.search.state.dim = dim
        self.engine.set_dim(dim)
        self.search.rerun()

    @Slot(bool)
    def _on_rerank(self, rerank: bool) -> None:
        self.search.state.rerank = rerank
        self.search.rerun()

    @Slot()
    def _on_filters(self) -> None:
        self.search.state.mode = self.ui.filters.mode()
        self.search.state.filters = self.ui.filters.filters()
        self.search.rerun()

    # -- engine signals --------------------------------------------------------------------
    @Slot(object)
    def _show_response(self, response: SearchResponse) -> None:
        self.ui.preview.set_query(response.request.text)  # before the reset selects a row
        self.ui.model.set_response(response, keep_place=self.search.is_refresh(response))
        self._show_feedback(response)
        self._show_stats(response)
        query = response.request.text or "similar files"
        self.setWindowTitle(f"{query} — qfinder")
        self._refresh_empty_state()

    def _show_feedback(self, response: SearchResponse) -> None:
        """What the query syntax noticed: on the search bar, and for a while in the status line."""
        self.ui.search_bar.show_feedback(response.notes, response.syntax_error)
        if response.syntax_error:
            self.ui.status.notify(f"Left out of the search: {response.syntax_error}", 8000, error=True)
        elif response.notes:
            self.ui.status.notify("; ".join(response.notes), 6000)

    def _show_stats(self, response: SearchResponse | None) -> None:
        """The slider row: the engine's index memory for the current dimension, the last query."""
        memory = self.engine_status.index_memory_bytes if self.engine_status else None
        if response is None:
            self.ui.dim.set_stats(memory, None, False)
        else:
            self.ui.dim.set_stats(memory, response.elapsed_ms, response.exact, len(response.results))
        fit_rows(self.ui, self.width())  # longer figures may no longer fit beside the filters

    @Slot()
    def _on_cleared(self) -> None:
        self.ui.search_bar.setPlaceholderText("Search your files — describe what you're looking for")
        self.ui.search_bar.show_feedback((), None)
        self.ui.model.clear()
        self.setWindowTitle("qfinder")
        self._refresh_empty_state()

    @Slot(object)
    def _on_progress(self, progress: IndexProgress) -> None:
        self.ui.status.set_progress(progress)

    @Slot(object)
    def _on_status(self, status: EngineStatus) -> None:
        self.engine_status = status
        self.ui.status.set_engine_status(status)
        self.ui.folders.set_paused(status.state == "paused")
        has_model = status.model_name is not None
        info = status.model  # the engine's facts about the loaded model
        self.ui.filters.set_semantic_available(has_model)
        self.ui.dim.setEnabled(has_model)
        if info is not None and info != self._model:
            self._model = info  # only a new model resets the slider; the user's dim stays
            self.set_model_info(info, status.dim)
        elif not has_model:
            self.ui.instructions.set_instruction_aware(False)
        self._show_stats(self.search.last_response)

    def set_model_info(self, info: ModelSummary, current_dim: int | None = None) -> None:
        """Adapt the slider and the instruction picker to the loaded model."""
        dim = current_dim or info.default_dim
        self.ui.dim.blockSignals(True)
        self.ui.dim.set_model(info.min_dim, info.full_dim, dim)
        self.ui.dim.blockSignals(False)
        self.search.state.dim = self.ui.dim.dim()
        self.ui.instructions.set_instruction_aware(bool(info.instruction_aware))

    @Slot(object)
    def _on_roots(self, roots: tuple[RootState, ...]) -> None:
        self.root_states = tuple(roots)
        self.ui.folders.set_roots(self.root_states)
        self.ui.filters.set_roots([r.path for r in self.root_states])
        self._refresh_empty_state()

    @Slot(object)
    def _on_file_failed(self, failure: FileFailure) -> None:
        self.failures[failure.path] = failure
        self._show_failure_count()

    @Slot(object)
    def _on_index_changed(self, change: IndexChange) -> None:
        self.live.on_index_changed(change)
        if change.roots_removed:  # a removed folder's failures go with it
            self.failures = {path: f for path, f in self.failures.items() if not change.gone(path)}
            self._show_failure_count()

    def _show_failure_count(self) -> None:
        name_only = sum(f.name_only for f in self.failures.values())
        self.ui.status.set_failed_count(len(self.failures) - name_only, name_only)

    @Slot(str)
    def _on_error(self, message: str) -> None:
        log.warning("engine error: %s", message)
        self.ui.status.show_error(message)

    def _refresh_empty_state(self) -> None:
        if not self.root_states:
            text = EMPTY_NO_ROOTS
        elif self.search.has_query():
            text = EMPTY_NO_RESULTS if self.search.last_response is not None else "Searching…"
        else:
            text = EMPTY_TYPE
        self.ui.results.set_empty_text(text)

    @Slot()
    def _about(self) -> None:
        QMessageBox.about(self, "About qfinder", "<b>qfinder</b><br>Find your files by meaning, "
                          "offline, with Qwen3-Embedding running on your own computer.")

    # -- persistence -----------------------------------------------------------------------
    def _restore_layout(self) -> None:
        restore_layout(self, self.ui.splitter)

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt override
        fit_rows(self.ui, event.size().width())
        super().resizeEvent(event)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt override
        save_layout(self, self.ui.splitter)
        self._save_settings(dataclasses.replace(self.settings, rerank=self.ui.dim.rerank()))
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self.drops)
        super().closeEvent(event)

