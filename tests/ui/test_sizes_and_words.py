"""One size format for the command line and the window (decimal units, as GNOME Files and the
macOS Finder show them), and model descriptions written for users, in both places."""

from __future__ import annotations

import re

import pytest
from PySide6.QtCore import Qt
from support.cli import cli

from qfinder.core.model.machine import Machine
from qfinder.core.units import format_size
from qfinder.ui.setup_dialog import SetupDialog


@pytest.mark.parametrize(("count", "shown"), [
    (0, "0 B"), (999, "999 B"), (1000, "1.0 kB"), (3_400_000, "3.4 MB"), (999_960, "1.0 MB"),
    (2_400_000_000, "2.4 GB"), (16_100_000_000, "16.1 GB"), (2.5e12, "2.5 TB"),
])
def test_format_size_uses_decimal_units(count, shown):
    assert format_size(count) == shown


def _dialog_rows(qtbot) -> dict[str, tuple[str, str, str]]:
    dialog = SetupDialog(machine=Machine(cores=4, ram_mb=16_000, gpu_provider=None))
    qtbot.addWidget(dialog)
    rows = {}
    for i in range(dialog.models.topLevelItemCount()):
        item = dialog.models.topLevelItem(i)
        name, variant = item.data(0, Qt.ItemDataRole.UserRole)
        rows[f"{name} {variant}"] = (item.text(1), item.text(2), item.text(3))
    return rows


def _cli_rows(capsys, tmp_path, monkeypatch) -> dict[str, str]:
    monkeypatch.setenv("QFINDER_DATA_DIR", str(tmp_path / "data"))
    code, out, err = cli(capsys, "models", "list")
    assert code == 0, err
    rows, model = {}, ""
    for line in out.splitlines():
        if line and not line.startswith(" ") and "(" in line:
            model = line.split()[0]
        elif line.startswith("    "):
            rows[f"{model} {line.split()[0]}"] = line
    return rows


def test_the_window_and_the_command_line_show_the_same_model_sizes(qtbot, capsys, tmp_path,
                                                                   monkeypatch):
    window_rows, cli_rows = _dialog_rows(qtbot), _cli_rows(capsys, tmp_path, monkeypatch)
    assert window_rows["Qwen3-Embedding-0.6B fp32"][0] == format_size(2400 * 10**6) == "2.4 GB"
    for key, (download, memory, _note) in window_rows.items():
        assert f"~{download} download" in cli_rows[key], (key, download, cli_rows[key])
        assert f"{memory}" in cli_rows[key], (key, memory, cli_rows[key])


def test_model_notes_speak_to_users_not_to_developers(qtbot, capsys, tmp_path, monkeypatch):
    shown = " ".join(" ".join(row) for row in _dialog_rows(qtbot).values())
    shown += " ".join(_cli_rows(capsys, tmp_path, monkeypatch).values())
    assert not re.search(r"\bseed\b", shown)
    assert "Qwen3-Embedding-4B, sentence-transformers ONNX export" in shown
