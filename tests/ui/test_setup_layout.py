"""The setup dialog keeps its lines apart after a failed download: the model table does not
shrink over the recommendation, and the error and progress hints share one place."""

from __future__ import annotations

import itertools
from pathlib import Path

from PySide6.QtCore import QPoint, QRect
from PySide6.QtWidgets import QLabel

from qfinder.core.errors import DownloadError
from qfinder.core.model.machine import Machine
from qfinder.services.model_jobs import ModelJobs
from qfinder.ui.setup_dialog import SetupDialog


def _fail_offline(name, variant, progress) -> Path:
    progress(1_200_000, 2_400_000_000, "onnx/model.onnx")
    raise DownloadError("Could not download Qwen3-Embedding-0.6B: network is unreachable.",
                        "Check the connection; the download resumes where it stopped.")


def _rect(dialog, widget) -> QRect:
    return QRect(widget.mapTo(dialog, QPoint(0, 0)), widget.size())


def test_after_a_failed_download_no_two_lines_overlap(qtbot, tmp_path):
    dialog = SetupDialog(machine=Machine(cores=4, ram_mb=16_000, gpu_provider=None),
                         jobs=ModelJobs(download=_fail_offline))
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    dialog.start_download()
    qtbot.waitUntil(lambda: dialog.error_label.isVisible(), timeout=5000)
    dialog.resize(dialog.minimumSize())  # as small as it lets itself be made
    dialog.layout().activate()
    shown = [w for w in (*dialog.findChildren(QLabel), dialog.models, dialog.optimize_box)
             if w.isVisible() and (not isinstance(w, QLabel) or w.text())]
    for first, second in itertools.combinations(shown, 2):
        overlap = _rect(dialog, first).intersected(_rect(dialog, second))
        assert overlap.isEmpty(), f"{first.objectName() or first.text()[:40]!r} overlaps " \
                                  f"{second.objectName() or getattr(second, 'text', str)()[:40]!r}"
    assert dialog.models.height() >= dialog.models.minimumHeight()
    table_bottom = _rect(dialog, dialog.models).bottom()
    assert table_bottom < _rect(dialog, dialog.recommend_label).top()
