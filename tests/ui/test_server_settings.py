"""Settings › Embedding: Test connection against a loopback server, the plain-http question,
and the API key: kept out of settings.json, never shown, and the keyring used off the GUI thread."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

from PySide6.QtWidgets import QWidget
from support.embed_servers import EmbedServer

from qfinder.core.config import LibraryConfig
from qfinder.core.model.embedder import Embedder
from qfinder.core.secrets import API_KEY_ENV, KEY_FILE, KEYRING_SERVICE, KeyStore
from qfinder.services.server_setup import ServerKeys
from qfinder.ui.server_settings import ENV_KEY, KEY_STORED, NO_KEY, ServerPage
from qfinder.ui.settings import AppSettings
from qfinder.ui.settings_dialog import SettingsDialog

URL = "https://gpu.example.lan:8080"
SECRET = "sk-never-shown-4711"


class GatedKeyring:
    """A working keyring backend whose calls wait until the test opens `gate` (as a locked
    desktop keyring waits for its password), noting whether each ran on the GUI thread."""

    def __init__(self, kept: dict[str, str] | None = None) -> None:
        self.kept = {(KEYRING_SERVICE, url): key for url, key in (kept or {}).items()}
        self.gate = threading.Event()
        self.on_gui_thread: list[bool] = []
        self.refusal: Exception | None = None  # what set_password and delete_password raise, if anything

    def _enter(self) -> None:
        self.on_gui_thread.append(threading.current_thread() is threading.main_thread())
        self.gate.wait(10)  # only a guard against a hang when the test fails

    def get_password(self, service: str, user: str) -> str | None:
        self._enter()
        return self.kept.get((service, user))

    def set_password(self, service: str, user: str, password: str) -> None:
        self._enter()
        if self.refusal is not None:
            raise self.refusal
        self.kept[(service, user)] = password

    def delete_password(self, service: str, user: str) -> None:
        self._enter()
        if self.refusal is not None:
            raise self.refusal
        del self.kept[(service, user)]


def _dialog(qtbot, config: LibraryConfig) -> SettingsDialog:
    dialog = SettingsDialog(AppSettings(), config)
    qtbot.addWidget(dialog)
    return dialog


def _page(qtbot, tmp_path: Path, ring: GatedKeyring) -> ServerPage:
    page = ServerPage(LibraryConfig(embed_on="server", server_url=URL), tmp_path, keys=ServerKeys(tmp_path, ring))
    qtbot.addWidget(page)
    page.show()
    return page


def _texts(widget: QWidget) -> list[str]:
    """Every text a person (or a screen reader) can get from `widget` and its children."""
    texts = []
    for each in [widget, *widget.findChildren(QWidget)]:
        texts += [each.toolTip(), each.accessibleName(), each.windowTitle()]
        for reader in ("text", "placeholderText", "currentText", "toPlainText"):
            if hasattr(each, reader):
                texts.append(getattr(each, reader)())
    return texts


def _data_dir() -> Path:
    return Path(os.environ["QFINDER_DATA_DIR"])


def test_test_connection_reports_the_served_model_off_the_gui_thread(qtbot, tiny_model_dir) -> None:
    with EmbedServer(Embedder.from_folder(tiny_model_dir, "cpu"), "tei", api_key="k3y") as server:
        dialog = _dialog(qtbot, LibraryConfig(model_folder=str(tiny_model_dir)))
        page = dialog.server_page
        page.server_radio.setChecked(True)
        page.url_edit.setText(server.url)
        KeyStore(_data_dir()).save(server.url, "k3y")  # kept, the field left empty: the check uses it
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
    data_dir = _data_dir()
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


def test_the_page_opens_while_the_keyring_blocks_and_never_shows_the_kept_key(qtbot, tmp_path) -> None:
    ring = GatedKeyring({URL: SECRET})
    page = _page(qtbot, tmp_path, ring)  # returns although the keyring holds its answer
    qtbot.wait(50)  # and the GUI's event loop turns meanwhile
    assert "Looking for a stored key" in page.key_field.status_label.text()
    assert not page.key_field.forget_button.isEnabled()
    ring.gate.set()
    qtbot.waitUntil(lambda: page.key_edit.placeholderText() == KEY_STORED, timeout=10_000)
    assert page.key_field.forget_button.isEnabled() and page.key_field.status_label.text() == ""
    assert not any(SECRET in text for text in _texts(page))
    assert ring.on_gui_thread and not any(ring.on_gui_thread)


def test_an_empty_key_field_on_save_keeps_the_kept_key(qtbot) -> None:
    KeyStore(_data_dir()).save(URL, SECRET)
    dialog = _dialog(qtbot, LibraryConfig(embed_on="server", server_url=URL))
    qtbot.waitUntil(lambda: dialog.server_page.key_edit.placeholderText() == KEY_STORED, timeout=10_000)
    assert not any(SECRET in text for text in _texts(dialog))
    with qtbot.waitSignal(dialog.settings_saved):
        dialog._save()
    assert KeyStore(_data_dir()).load(URL) == SECRET


def test_forget_key_removes_the_kept_key(qtbot, tmp_path) -> None:
    ring = GatedKeyring({URL: SECRET})
    ring.gate.set()
    page = _page(qtbot, tmp_path, ring)
    qtbot.waitUntil(lambda: page.key_field.forget_button.isEnabled(), timeout=10_000)
    ring.gate.clear()
    page.key_field.forget_button.click()
    qtbot.wait(50)
    assert "Forgetting the key" in page.key_field.status_label.text()
    assert not page.key_edit.isEnabled() and not page.url_edit.isEnabled()  # held for this address
    ring.gate.set()
    qtbot.waitUntil(lambda: page.key_edit.placeholderText() == NO_KEY, timeout=10_000)
    assert ring.kept == {} and not page.key_field.forget_button.isEnabled()
    assert page.key_edit.isEnabled() and page.url_edit.isEnabled()


def test_a_refusing_keyring_is_said_and_the_key_goes_to_the_private_file(qtbot, tmp_path) -> None:
    ring = GatedKeyring()
    ring.gate.set()
    ring.refusal = OSError("the keyring is locked")
    page = _page(qtbot, tmp_path, ring)
    qtbot.waitUntil(lambda: page.key_edit.placeholderText() == NO_KEY, timeout=10_000)
    ring.gate.clear()
    page.key_edit.setText(SECRET)
    saved: list[bool] = []
    busy: list[bool] = []
    page.key_busy.connect(busy.append)
    page.save_key(lambda: saved.append(True))
    qtbot.wait(50)
    assert "Saving the key" in page.key_field.status_label.text() and busy == [True]
    ring.gate.set()
    qtbot.waitUntil(lambda: busy == [True, False], timeout=10_000)
    status = page.key_field.status_label.text()
    assert "the keyring is locked" in status and str(tmp_path / KEY_FILE) in status
    assert not saved  # the dialog stays open to say so; the next Save (empty field) closes it
    assert SECRET in (tmp_path / KEY_FILE).read_text() and page.key_edit.text() == ""
    assert page.key_edit.placeholderText() == KEY_STORED


def test_a_forget_the_keyring_refuses_says_the_key_may_still_be_kept(qtbot, tmp_path) -> None:
    ring = GatedKeyring({URL: SECRET})
    ring.gate.set()
    page = _page(qtbot, tmp_path, ring)
    qtbot.waitUntil(lambda: page.key_field.forget_button.isEnabled(), timeout=10_000)
    ring.refusal = OSError("the keyring is locked")
    page.key_field.forget_button.click()
    qtbot.waitUntil(lambda: "the keyring is locked" in page.key_field.status_label.text(), timeout=10_000)
    assert "may still be kept" in page.key_field.status_label.text()
    assert page.key_edit.placeholderText() == KEY_STORED and page.key_field.forget_button.isEnabled()
    assert ring.kept == {(KEYRING_SERVICE, URL): SECRET}  # still there, as the page says


def test_a_key_from_the_environment_is_named_and_cannot_be_forgotten_here(qtbot, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv(API_KEY_ENV, SECRET)
    ring = GatedKeyring()
    ring.gate.set()
    page = _page(qtbot, tmp_path, ring)
    qtbot.waitUntil(lambda: page.key_edit.placeholderText() == ENV_KEY, timeout=10_000)
    assert not page.key_field.forget_button.isEnabled()
    assert not any(SECRET in text for text in _texts(page))


def test_a_key_kept_beside_the_environments_can_still_be_forgotten(qtbot, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv(API_KEY_ENV, "sk-from-the-shell")
    ring = GatedKeyring({URL: SECRET})
    ring.gate.set()
    page = _page(qtbot, tmp_path, ring)
    qtbot.waitUntil(lambda: page.key_field.forget_button.isEnabled(), timeout=10_000)
    assert page.key_edit.placeholderText() == ENV_KEY
    page.key_field.forget_button.click()
    qtbot.waitUntil(lambda: not ring.kept, timeout=10_000)
    qtbot.waitUntil(lambda: not page.key_field.forget_button.isEnabled(), timeout=10_000)
    assert page.key_edit.placeholderText() == ENV_KEY  # the shell's key is still the one used
