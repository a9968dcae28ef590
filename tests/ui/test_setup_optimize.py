"""Setup dialog, "Optimize for this CPU": an optimized folder is used only where it is safe and faster,
and the dialog says which model it picked (real download stand-in, real optimizer on the tiny model)."""

from __future__ import annotations

import json
import shutil

from qfinder.core.model.machine import Machine
from qfinder.services.model_jobs import ModelJobs
from qfinder.ui.setup_dialog import SetupDialog


def test_optimizing_uses_the_faster_model_and_says_so(qtbot, tmp_path, tiny_model_dir):
    source = tmp_path / "Qwen3-tiny"

    def download_copy(name, variant, progress):
        shutil.copytree(tiny_model_dir, source)
        return source

    dialog = SetupDialog(machine=Machine(cores=4, ram_mb=16_000, gpu_provider=None),
                         jobs=ModelJobs(download=download_copy))
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.optimize_box.isChecked() and dialog.selected_model()[1] == "fp32"
    with qtbot.waitSignal(dialog.model_ready, timeout=60_000) as ready:
        dialog.start_download()
    optimized = tmp_path / "Qwen3-tiny-optimized"
    faster = optimized.exists()  # written only when a safe candidate beat fp32 on this machine
    assert ready.args == [str(optimized) if faster else str(source)]
    if faster:
        saved = json.loads((optimized / "qfinder_optimize.json").read_text(encoding="utf-8"))
        assert dialog.speed_label.text() == f"The optimized model is {saved['verdict']}."
    assert ("qfinder uses the " if faster else "keeps using the fp32 model") in dialog.speed_label.text()
    assert dialog.isVisible() and dialog.download_button.text() == "Close"  # stays open to be read
    dialog.download_button.click()
    assert not dialog.isVisible() and dialog.result() == dialog.DialogCode.Accepted
