"""A model with one fixed size (no Matryoshka dims): the slider sits at full size, disabled."""

from __future__ import annotations

from PySide6.QtWidgets import QStyle, QStyleOptionSlider

from qfinder.ui.dim_slider import DimSlider


def _knob_centre_x(slider) -> int:
    option = QStyleOptionSlider()
    slider.initStyleOption(option)
    knob = slider.style().subControlRect(QStyle.ComplexControl.CC_Slider, option,
                                         QStyle.SubControl.SC_SliderHandle, slider)
    return knob.center().x()


def test_a_fixed_size_model_shows_the_knob_at_full_size(qtbot):
    widget = DimSlider()
    qtbot.addWidget(widget)
    widget.show()
    widget.set_model(384, 384)
    slider = widget.slider
    assert widget.dim() == 384 and widget.dim_label.text() == "384 / 384"
    assert not slider.isEnabled()
    assert _knob_centre_x(slider) > slider.width() / 2, "the knob sits at the right: full size"
    widget.set_model(32, 1024, 32)  # a Matryoshka model afterwards: the smallest is at the left
    assert slider.isEnabled() and _knob_centre_x(slider) < slider.width() / 2
