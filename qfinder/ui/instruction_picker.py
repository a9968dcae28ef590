"""Task instruction selector: presets, recent custom instructions and "Custom…".

Instruction-aware models (Qwen3-Embedding) read a task line before the query; other models
ignore it, so the picker greys itself out with a tooltip saying why.
"""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import QComboBox, QInputDialog, QWidget

from qfinder.core.instructions import PRESETS

CUSTOM_LABEL = "Custom…"
AWARE_TIP = "The task the model should solve for your query; it changes which files rank first."
UNAWARE_TIP = "This model is not instruction-aware: it ignores task instructions."


def builtin_presets() -> tuple[tuple[str, str], ...]:
    """(label, instruction) pairs; "" is the model's default task (core lists it first)."""
    return tuple((p.label, p.instruction or "") for p in PRESETS)


class InstructionPicker(QComboBox):
    """Emits `instruction_changed(str | None)`; None means "the model's default task"."""

    instruction_changed = Signal(object)  # str | None (None: the model's default task)
    custom_added = Signal(str)

    def __init__(self, recent: Iterable[str] = (), parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Search instruction")
        self.setToolTip(AWARE_TIP)
        self.setMinimumContentsLength(18)
        self.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self._recent = list(recent)
        self._last_index = 0
        self._rebuild(None)
        self.activated.connect(self._on_activated)
        self.currentIndexChanged.connect(lambda _i: self._show_active())
        self._show_active()

    def _rebuild(self, select: str | None) -> None:
        self.blockSignals(True)
        self.clear()
        for label, text in builtin_presets():
            self.addItem(label, text)
            tip = text or "The model's own default task (web-style questions for Qwen3)"
            self.setItemData(self.count() - 1, tip, Qt.ItemDataRole.ToolTipRole)
        if self._recent:
            self.insertSeparator(self.count())
            for text in self._recent:
                self.addItem(_short(text), text)
                self.setItemData(self.count() - 1, text, Qt.ItemDataRole.ToolTipRole)
        self.insertSeparator(self.count())
        self.addItem(CUSTOM_LABEL, CUSTOM_LABEL)
        index = self.findData(select or "")
        self.setCurrentIndex(max(index, 0))
        self._last_index = self.currentIndex()
        self.blockSignals(False)

    def instruction(self) -> str | None:
        if not self.isEnabled():
            return None
        data = self.currentData()
        return None if data in (None, "", CUSTOM_LABEL) else str(data)

    def recent(self) -> tuple[str, ...]:
        return tuple(self._recent)

    def set_instruction_aware(self, aware: bool) -> None:
        self.setEnabled(aware)
        self._show_active()

    def _show_active(self) -> None:
        """The tooltip names the exact task text the next query carries."""
        if not self.isEnabled():
            self.setToolTip(UNAWARE_TIP)
            return
        active = self.instruction() or "the model's default task"
        self.setToolTip(f"{AWARE_TIP}\n\nActive: {active}")

    def set_custom(self, text: str) -> None:
        """Use and remember a custom instruction (what the "Custom…" dialog calls)."""
        text = " ".join(text.split())
        if not text:
            self.setCurrentIndex(self._last_index)
            return
        self._recent = [text, *[t for t in self._recent if t != text]][:8]
        self._rebuild(text)
        self.custom_added.emit(text)
        self.instruction_changed.emit(text)

    def select_instruction(self, text: str | None) -> None:
        index = self.findData(text or "")
        if index < 0 and text:
            self._recent = [text, *self._recent][:8]
            self._rebuild(text)
            return
        self.setCurrentIndex(max(index, 0))
        self._last_index = self.currentIndex()

    @Slot(int)
    def _on_activated(self, index: int) -> None:
        if self.itemData(index) == CUSTOM_LABEL:
            text, ok = QInputDialog.getText(
                self, "Custom instruction", "Describe the task, e.g. 'Find invoices from suppliers':"
            )
            if ok:
                self.set_custom(text)
            else:
                self.setCurrentIndex(self._last_index)
            return
        if index != self._last_index:
            self._last_index = index
            self.instruction_changed.emit(self.instruction())


def _short(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
