"""The settings dialog shows the data folder really in use, and where that choice came from."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from PySide6.QtWidgets import QLabel

from qfinder.ui.settings import AppSettings
from qfinder.ui.settings_dialog import SettingsDialog


def label_texts(dialog: SettingsDialog) -> str:
    return "\n".join(label.text() for label in dialog.findChildren(QLabel))


@pytest.fixture
def open_dialog(qtbot):
    def make(settings: AppSettings) -> SettingsDialog:
        dialog = SettingsDialog(settings)
        qtbot.addWidget(dialog)
        return dialog

    return make


def test_a_folder_from_the_command_line_is_shown(open_dialog, tmp_path, monkeypatch):
    override = tmp_path / "from-the-command-line"
    monkeypatch.setenv("QFINDER_DATA_DIR", str(override))  # what --data-dir sets
    dialog = open_dialog(AppSettings())
    shown = label_texts(dialog)
    assert str(override) in shown and "--data-dir" in shown
    assert "platform default" not in dialog.data_edit.placeholderText() + shown
    assert dialog.current().data_folder is None  # this run's override is not saved as the choice


def test_the_command_line_beats_the_saved_folder_which_is_kept(open_dialog, tmp_path, monkeypatch):
    from qfinder.ui.settings import data_folder_in_use

    override, saved = tmp_path / "override", tmp_path / "saved"
    monkeypatch.setenv("QFINDER_DATA_DIR", str(override))
    settings = AppSettings(data_folder=str(saved))
    assert data_folder_in_use(settings).path == override
    dialog = open_dialog(settings)
    assert str(override) in label_texts(dialog) and dialog.data_edit.text() == str(saved)
    assert dialog.current().data_folder == str(saved)


def test_without_an_override_the_saved_or_the_platform_folder_is_shown(open_dialog, tmp_path,
                                                                       monkeypatch):
    monkeypatch.delenv("QFINDER_DATA_DIR")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    default = open_dialog(AppSettings())
    assert str(tmp_path / "xdg-data" / "qfinder") in label_texts(default)
    assert "platform default" in label_texts(default)
    saved = open_dialog(AppSettings(data_folder=str(tmp_path / "saved")))
    assert str(tmp_path / "saved") in label_texts(saved)


def test_the_window_shows_the_folder_it_started_with(qtbot, fake_engine, tmp_path, monkeypatch):
    from qfinder.ui.main_window import MainWindow
    from qfinder.ui.settings import data_folder_in_use

    monkeypatch.delenv("QFINDER_DATA_DIR")
    settings = AppSettings(data_folder=str(tmp_path / "started-with"))
    window = MainWindow(fake_engine, settings, data_folder=data_folder_in_use(settings))
    qtbot.addWidget(window)
    # a new folder chosen in settings applies on the next start only
    window.apply_settings(dataclasses.replace(settings, data_folder=str(tmp_path / "next-start")))
    window.open_settings()
    [dialog] = window.findChildren(SettingsDialog)
    assert str(Path(tmp_path / "started-with")) in label_texts(dialog)
    assert dialog.data_edit.text() == str(tmp_path / "next-start")
