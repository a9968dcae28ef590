"""Changing the data folder's configuration from the window, asking first when it re-embeds.

A new model, variant or chunk size means embedding every file again: hours on a big folder on a
laptop. So the person is told how much work it is (files, tokens, the time at the speed measured
so far) and asked; the engine then re-indexes in the background while the current index keeps
answering. Changes that re-embed nothing (exclusions, limits, threads) go to the engine at once.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Slot
from PySide6.QtWidgets import QMessageBox, QWidget

from qfinder.core.config import LibraryConfig
from qfinder.core.state import IndexProgress, ReembedEstimate
from qfinder.ui.engine_port import EngineLike
from qfinder.ui.status_bar import format_eta

TITLE = "Re-index every file?"


class Reconfigure(QObject):
    """`current()` is the data folder's configuration as the engine last reported it (None
    before the engine has opened it)."""

    def __init__(self, engine: EngineLike, current: Callable[[], LibraryConfig | None],
                 parent: QWidget) -> None:
        super().__init__(parent)
        self._engine = engine
        self._current = current
        self._window = parent
        self._waiting: LibraryConfig | None = None  # asked about, waiting for the estimate
        self._tokens_per_s = 0.0
        engine.progress.connect(self._on_progress)
        engine.reembed_estimate.connect(self._on_estimate)

    def apply(self, config: LibraryConfig) -> None:
        """Send `config` to the engine; first ask, with an estimate, when it re-embeds."""
        current = self._current()
        if config == current:
            return
        if current is not None and current.reembeds(config):
            self._waiting = config
            self._engine.estimate_reembed()
        else:  # nothing to re-embed, or nothing opened yet to lose
            self._engine.configure(config)

    @Slot(object)
    def _on_estimate(self, estimate: ReembedEstimate) -> None:
        config, self._waiting = self._waiting, None
        if config is None:
            return
        if estimate.files == 0 or ask(self._window, describe(estimate, self._tokens_per_s)):
            self._engine.configure(config)

    @Slot(object)
    def _on_progress(self, progress: IndexProgress) -> None:
        if progress.tokens_per_s > 0:
            self._tokens_per_s = progress.tokens_per_s


def describe(estimate: ReembedEstimate, tokens_per_s: float) -> str:
    time = (f"about {format_eta(estimate.tokens / tokens_per_s).removesuffix(' left')} at the "
            f"speed measured so far" if tokens_per_s > 0 else "a time not known yet (no speed "
            "measured in this session)")
    return (f"These settings change how files are embedded, so all {estimate.files:,} files with "
            f"text (about {estimate.tokens:,} tokens) are embedded again: {time}.\n\n"
            "The current index keeps answering searches until the new one is ready.")


def ask(parent: QWidget, text: str) -> bool:
    answer = QMessageBox.question(parent, TITLE, text,
                                  QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                                  QMessageBox.StandardButton.No)
    return answer == QMessageBox.StandardButton.Yes
