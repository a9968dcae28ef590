"""The dimension slider: trade index memory and speed against accuracy (Matryoshka dims).

It snaps to the dimensions the model allows — powers of two from its minimum up, plus the full
size — and shows beside it the current dimension, the measured index memory, the last query
time and a toggle for exact full-size re-scoring of the candidates.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QSlider, QWidget

from qfinder.core.units import format_size

TRADE_TIP = (
    "Search dimension. Smaller = a smaller, faster index in memory but less precise ranking;\n"
    "larger = more precise but more memory. Vectors are stored full-size, so moving this never\n"
    "re-reads your files; a missing index for a new dimension is built in the background.\n"
    "With full-size re-scoring on, the best candidates are re-ranked exactly at full size,\n"
    "which recovers most of the accuracy of small dimensions."
)

FIXED_TIP = "This model has one fixed dimension (not Matryoshka-trained): it always searches at full size."
STATS_ROOM = "00 files · index 000.0 MB · 000 ms · exact search"  # the widest usual figures


def allowed_dims(min_dim: int, full_dim: int) -> tuple[int, ...]:
    """Powers of two between min_dim and full_dim, plus both ends."""
    if full_dim <= 0:
        return ()
    low = max(1, min(min_dim, full_dim))
    dims = {low, full_dim}
    power = 1
    while power < full_dim:
        if power >= low:
            dims.add(power)
        power *= 2
    return tuple(sorted(dims))


class DimSlider(QWidget):
    """Emits `dim_changed(int)` when the user settles on a dimension, `rerank_changed(bool)`."""

    dim_changed = Signal(int)
    rerank_changed = Signal(bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._dims: tuple[int, ...] = ()
        self.slider = QSlider(Qt.Orientation.Horizontal, self)
        self.slider.setAccessibleName("Search dimension")
        self.slider.setTickPosition(QSlider.TickPosition.TicksBelow)
        self.slider.setTickInterval(1)
        self.slider.setPageStep(1)
        self.slider.setMinimumWidth(90)
        self.slider.setMaximumWidth(280)
        self.slider.setTracking(False)  # emit on release / keyboard step, not per pixel
        self.dim_label = QLabel("–", self)
        self.dim_label.setMinimumWidth(self.dim_label.fontMetrics().horizontalAdvance("0000 / 0000"))
        self.stats_label = QLabel("", self)
        self.stats_label.setAccessibleName("Index memory and last query time")
        self.stats_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        # A fixed width: growing with the first results' figures would push these controls to
        # another row, away from the pointer (the full text is in the tooltip).
        self.stats_label.setFixedWidth(self.fontMetrics().horizontalAdvance(STATS_ROOM))
        self.rerank_box = QCheckBox("Re-score at full size", self)
        self.rerank_box.setChecked(True)
        self.rerank_box.setAccessibleName("Full-size re-scoring")
        for widget in (self, self.slider, self.dim_label, self.rerank_box):
            widget.setToolTip(TRADE_TIP)
        self._layout()
        self.slider.valueChanged.connect(self._on_value)
        self.slider.sliderMoved.connect(self._preview_value)
        self.rerank_box.toggled.connect(self.rerank_changed)
        self.set_dims(())

    def _layout(self) -> None:
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(QLabel("Dimension", self))
        row.addWidget(self.slider, 1)
        row.addWidget(self.dim_label)
        row.addWidget(self.rerank_box)
        row.addWidget(self.stats_label)

    def set_dims(self, dims: tuple[int, ...], current: int | None = None) -> None:
        self._dims = dims
        self.slider.blockSignals(True)
        # A range of one value draws the knob at the left end, which reads as "smallest": a
        # fixed-size model gets a (disabled) step below its one size, which then sits at the
        # right, where full size is on any other model.
        self.slider.setRange(-1 if len(dims) == 1 else 0, max(0, len(dims) - 1))
        self.slider.setEnabled(len(dims) > 1)
        if dims:
            self.slider.setValue(self._index_of(current or dims[-1]))
        self.slider.blockSignals(False)
        self._show_dim(self.dim())
        self.slider.setToolTip(FIXED_TIP if len(dims) == 1 else TRADE_TIP)

    def set_model(self, min_dim: int, full_dim: int, current: int | None = None) -> None:
        self.set_dims(allowed_dims(min_dim, full_dim), current)

    def dims(self) -> tuple[int, ...]:
        return self._dims

    def dim(self) -> int | None:
        return self._dims[self.slider.value()] if self._dims else None

    def set_dim(self, dim: int) -> None:
        """Move to `dim` (snapped) as if the user did it: emits dim_changed when it changes."""
        self.slider.setValue(self._index_of(dim))

    def rerank(self) -> bool:
        return self.rerank_box.isChecked()

    def set_stats(self, memory_bytes: float | None, query_ms: float | None, exact: bool,
                  files: int | None = None) -> None:
        parts = [f"{files} file{'' if files == 1 else 's'}"] if files is not None else []
        if memory_bytes is not None:
            parts.append(f"index {format_size(memory_bytes)}")
        if query_ms is not None:
            parts.append(f"{query_ms:.0f} ms")
        if exact:
            parts.append("exact search")
        text = " · ".join(parts)
        self.stats_label.setText(self.stats_label.fontMetrics().elidedText(
            text, Qt.TextElideMode.ElideRight, self.stats_label.width()))
        self.stats_label.setToolTip(text)

    def _index_of(self, dim: int) -> int:
        if not self._dims:
            return 0
        return min(range(len(self._dims)), key=lambda i: abs(self._dims[i] - dim))

    def _show_dim(self, dim: int | None) -> None:
        full = self._dims[-1] if self._dims else None
        self.dim_label.setText(f"{dim} / {full}" if dim and full else "–")

    @Slot(int)
    def _preview_value(self, index: int) -> None:
        if 0 <= index < len(self._dims):
            self._show_dim(self._dims[index])

    @Slot(int)
    def _on_value(self, index: int) -> None:
        self._show_dim(self.dim())
        dim = self.dim()
        if dim is not None:
            self.dim_changed.emit(dim)
