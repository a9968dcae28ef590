"""Settings › Embedding: Test connection against a loopback server, the plain-http question,
and the API key kept out of settings.json."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

from support.embed_servers import EmbedServer

from qfinder.core.config import LibraryConfig
from qfinder.core.model.embedder import Embedder
from qfinder.ui.settings import AppSettings
from qfinder.ui.settings_dialog import SettingsDialog


def _dialog(qtbot, config: LibraryConfig) -> SettingsDialog:
    dialog = SettingsDialog(AppSettings(), config)
    qtbot.addWidget(dialog)
    return dialog


def test_test_connection_reports_the_served_model_off_the_gui_thread(qtbot, tiny_model_dir) -> None:
    with EmbedServer(Embedder.from_folder(tiny_model_dir, "cpu"), "tei", api_key="k3y") as server:
        dialog = _dialog(qtbot, LibraryConfig(model_folder=str(tiny_model_dir)))
        page = dialog.server_page
        page.server_radio.setChecked(True)
        page.url_edit.setText(server.url)
        page.key_edit.setText("k3y")
        server.quirks.block = threading.Event()  # the server answers no embed request until set
        page.test_button.click()  # returns although the check cannot finish: it runs on another thread
        qtbot.wait(50)  # and the GUI's event loop turns meanwhile
        assert not page.test_button.isEnabled() and "Qwen/Qwen3-Embedding-tiny" not in page.result_label.text()
        server.quirks.block.set()
        qtbot.waitUntil(lambda: page.test_button.isEnabled(), timeout=30_000)
        text = page.result_label.text()
        assert "Qwen/Qwen3-Embedding-tiny" in text and "128 dimensions" in text and "tokens/s" in text
        page.key_edit.setText("wrong")
        page.test_button.click()
        qtbot.waitUntil(lambda: page.test_button.isEnabled(), timeout=30_000)
        assert "refused the API key (401)" in page.result_label.text()


def test_plain_http_outside_the_lan_is_asked_and_the_key_stays_out_of_settings(qtbot) -> None:
    dialog = _dialog(qtbot, LibraryConfig(model_folder="/models/m"))
    page = dialog.server_page
    page.server_radio.setChecked(True)
    page.url_edit.setText("http://8.8.8.8:8080/")
    page.key_edit.setText("sk-private")
    asked: list[str] = []
    dialog.confirm = lambda question: asked.append(question) or False
    dialog._save()
    assert asked and "unencrypted" in asked[0] and dialog.result() == 0  # not saved
    dialog.confirm = lambda question: True
    with qtbot.waitSignal(dialog.settings_saved) as blocker:
        dialog._save()
    saved: LibraryConfig = blocker.args[1]
    assert (saved.embed_on, saved.server_url, saved.server_api) == ("server", "http://8.8.8.8:8080", "auto")
    assert "sk-private" not in json.dumps(saved.__dict__)
    data_dir = Path(os.environ["QFINDER_DATA_DIR"])
    assert "sk-private" in (data_dir / "server-keys.json").read_text()
    assert not (data_dir / "settings.json").exists() or "sk-private" not in (data_dir / "settings.json").read_text()


def test_a_lan_or_https_server_needs_no_question(qtbot) -> None:
    dialog = _dialog(qtbot, LibraryConfig())
    page = dialog.server_page
    page.server_radio.setChecked(True)
    for url in ("http://192.168.1.20:8080", "http://localhost:11434", "https://embed.example.com",
                "http://gpu.lan:80"):
        page.url_edit.setText(url)
        assert page.plain_http_warning() is None, url
