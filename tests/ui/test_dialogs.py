"""First-run setup, settings, crash dialog and desktop-entry install, on real code paths."""

from __future__ import annotations

import sys
import threading

import pytest
from PySide6.QtWidgets import QDialog

from qfinder.core.model.machine import Machine, recommended_model
from qfinder.services.model_jobs import ModelJobs
from qfinder.ui.settings import AppSettings, load_settings, save_settings
from qfinder.ui.setup_dialog import SetupDialog

CPU_ONLY = Machine(cores=4, ram_mb=16_000, gpu_provider=None)


@pytest.fixture
def setup_dialog(qtbot):
    dialog = SetupDialog(machine=CPU_ONLY)
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def test_recommends_the_small_model_on_a_cpu(setup_dialog):
    best = recommended_model(CPU_ONLY)
    assert (best.name, best.variant) == ("Qwen3-Embedding-0.6B", "fp32")
    assert recommended_model(Machine(8, 32_000, "cuda")).name == "Qwen3-Embedding-4B"
    first = setup_dialog.models.topLevelItem(0)
    assert first.text(0) == "★ Qwen3-Embedding-0.6B · fp32" and "GB RAM" in first.text(2)
    assert "Recommended for this computer" in setup_dialog.recommend_label.text()
    assert setup_dialog.selected_model() == ("Qwen3-Embedding-0.6B", "fp32")
    assert setup_dialog.optimize_box.isChecked()


def test_offline_download_fails_with_a_clear_message(qtbot, setup_dialog, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # the real downloader, offline
    setup_dialog.start_download()
    assert not setup_dialog.download_button.isEnabled()
    qtbot.waitUntil(lambda: setup_dialog.error_label.isVisible(), timeout=10_000)
    text = setup_dialog.error_label.text()
    assert "offline" in text.lower() and "model folder on disk" in text
    assert setup_dialog.download_button.isEnabled() and setup_dialog.folder_button.isEnabled()
    assert setup_dialog.result() != QDialog.DialogCode.Accepted


def test_valid_model_folder_is_accepted(qtbot, setup_dialog, ui_model_dir):
    with qtbot.waitSignal(setup_dialog.model_ready, timeout=10_000) as blocker:
        setup_dialog.check_folder(str(ui_model_dir))
    assert blocker.args == [str(ui_model_dir)]
    assert setup_dialog.result() == QDialog.DialogCode.Accepted


def test_invalid_model_folder_says_what_is_wrong(qtbot, setup_dialog, tmp_path):
    (tmp_path / "notes.txt").write_text("not a model")
    setup_dialog.check_folder(str(tmp_path))
    qtbot.waitUntil(lambda: setup_dialog.error_label.isVisible(), timeout=10_000)
    assert "model.onnx" in setup_dialog.error_label.text()
    assert setup_dialog.model_folder is None and setup_dialog.isVisible()


def test_settings_round_trip_and_broken_file(tmp_path):
    path = tmp_path / "settings.json"
    chosen = AppSettings(default_instruction="Find code", hybrid=False)
    chosen = chosen.with_recent_instruction("Find invoices")
    save_settings(chosen, path)
    assert load_settings(path) == chosen
    path.write_text("{ not json")
    assert load_settings(path) == AppSettings()


def test_settings_dialog_edits_the_app_and_the_data_folder_apart(qtbot):
    from qfinder.core.config import LibraryConfig
    from qfinder.ui.settings_dialog import SettingsDialog

    config = LibraryConfig(model_folder="/models/m", chunk_tokens=256)
    dialog = SettingsDialog(AppSettings(), config)
    qtbot.addWidget(dialog)
    assert dialog.model_edit.text() == "/models/m" and dialog.chunk_spin.value() == 256
    dialog.exclude_edit.setPlainText("*.log\nbuild/\n")
    dialog.dim_spin.setValue(128)
    dialog.provider_box.setCurrentText("cpu")
    dialog.instruction_edit.setText("Find invoices")
    with qtbot.waitSignal(dialog.settings_saved) as blocker:
        dialog._save()
    app, saved = blocker.args
    assert saved == LibraryConfig(model_folder="/models/m", chunk_tokens=256, dim=128,
                                  provider="cpu", exclude_globs=("*.log", "build/"))
    assert app == AppSettings(default_instruction="Find invoices")


def test_unexpected_exception_is_reported_and_app_keeps_running(qtbot, tmp_path):
    from qfinder.ui.crash import CrashReporter

    reporter = CrashReporter(tmp_path / "qfinder.log", show_dialog=False).install()
    try:
        error = RuntimeError("boom")
        sys.excepthook(RuntimeError, error, None)
        assert reporter.reported == [error]
        box = reporter._dialog(error, "Traceback: boom")
        assert str(tmp_path / "qfinder.log") in box.text() and box.detailedText() == "Traceback: boom"
    finally:
        reporter.uninstall()


def test_install_desktop_entry(tmp_path, monkeypatch):
    from qfinder.ui import desktop_entry

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    written = desktop_entry.install()
    desktop = (tmp_path / "applications" / "qfinder.desktop").read_text()
    assert "Exec=" in desktop and "Icon=qfinder" in desktop
    assert (tmp_path / "icons/hicolor/256x256/apps/qfinder.png").is_file()
    assert (tmp_path / "icons/hicolor/scalable/apps/qfinder.svg").is_file()
    assert len(written) == 2 + len(desktop_entry.ICON_SIZES) + 1


def test_command_line_folders_accept_paths_and_file_uris(tmp_path):
    from qfinder.desktop import local_folders

    (tmp_path / "a").mkdir()
    (tmp_path / "f.txt").write_text("x")
    uri = (tmp_path / "a").as_uri()
    assert local_folders([uri, str(tmp_path), str(tmp_path / "f.txt"), "/no/such"]) == [
        str(tmp_path / "a"), str(tmp_path)]


def test_download_shows_progress_and_speed_and_can_be_cancelled(qtbot):
    clicked = threading.Event()

    def slow_download(name, variant, progress):
        progress(50_000_000, 100_000_000, "onnx/model.onnx")
        clicked.wait(10)
        progress(60_000_000, 100_000_000, "onnx/model.onnx")  # the next chunk sees the cancel
        raise AssertionError("a cancelled download went on")

    setup_dialog = SetupDialog(machine=CPU_ONLY, jobs=ModelJobs(download=slow_download))
    qtbot.addWidget(setup_dialog)
    setup_dialog.show()
    setup_dialog.optimize_box.setChecked(False)
    setup_dialog.start_download()
    qtbot.waitUntil(lambda: setup_dialog.progress.value() == 500, timeout=5000)
    assert "50.0 MB of 100.0 MB" in setup_dialog.speed_label.text()
    assert "/s" in setup_dialog.speed_label.text() and setup_dialog.cancel_button.isVisible()
    setup_dialog.cancel_button.click()
    clicked.set()
    qtbot.waitUntil(lambda: setup_dialog.download_button.isEnabled(), timeout=5000)
    assert "cancelled" in setup_dialog.error_label.text().lower()
    assert setup_dialog.result() != QDialog.DialogCode.Accepted
