"""Settings › Embedding: *Embed on this computer* or *Embed on a server* (address, API kind,
model, API key, Test connection), with what that means for privacy said plainly.

    page = ServerPage(config, data_dir, parent)   # keys=ServerKeys(...): a stand-in keyring (tests)
    page.config_from(config)      # the configuration with this page's choices
    page.plain_http_warning()     # the question to ask before saving, or None
    page.save_key(then)           # a typed key into the keyring / key file (never settings.json)
    page.key_busy                 # Signal(bool): a key is being saved or forgotten

The connection test and every keyring call run on their own threads (services.server_setup);
their outcome shows under the button or the key. The page never holds the kept key: the key
field starts empty and says whether one is kept; an empty field on save keeps it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QWidget,
)

from qfinder.core.config import LibraryConfig
from qfinder.core.model.remote.apis import API_CHOICES
from qfinder.core.model.remote.urls import plain_http_leaves_lan, server_address
from qfinder.services.server_setup import KeyState, ServerKeys, test_connection

API_LABELS = ("detect", "text-embeddings-inference", "OpenAI-compatible (vLLM, llama.cpp, LM Studio…)",
              "Ollama")
PRIVACY = ("With a server, the text of your files is sent to it to be embedded. Everything else "
           "stays on this computer: the index, the vectors, search, previews. Use https, or a "
           "server on your own network. The model folder above is the local copy: its tokenizer "
           "cuts the text here, and queries use it while the server is unreachable.")
KEY_STORED = "A key is stored — type to replace it"
NO_KEY = "No key stored"
ENV_KEY = "QFINDER_API_KEY is set — its key is used instead of one kept here"


class KeyField(QWidget):
    """The API key row: a password field that starts empty, Forget key, and a status line.

    Signals:
        busy(bool): a key is being saved or forgotten (the dialog holds Save meanwhile)
    """

    busy = Signal(bool)

    def __init__(self, keys: ServerKeys, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._keys = keys
        self._url = ""
        self._job: object | None = None  # the latest key job: an older one's outcome is stale
        self._then: Callable[[], None] | None = None  # what a save does once the key is kept
        self._writing = False
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        self.edit = QLineEdit(self)
        self.edit.setEchoMode(QLineEdit.EchoMode.Password)
        row.addWidget(self.edit, 1)
        self.forget_button = QPushButton("Forget key", self)
        self.forget_button.clicked.connect(self._forget)
        row.addWidget(self.forget_button)
        self.status_label = QLabel("", self)  # the page puts it on a row of its own
        self.status_label.setWordWrap(True)
        self._show(None)

    def typed(self) -> str | None:
        return self.edit.text().strip() or None

    def look_up(self, url: str) -> None:
        """Say whether a key is kept for `url` (found on another thread); not while one is written,
        whose outcome says it."""
        if self._writing or (url == self._url and self._job is not None):
            return
        self._url = url
        if not url:
            self._show(KeyState(url, stored=False))
            return
        self._show(None)
        self._start(self._keys.look_up(url, self._state_came, self._failed), "Looking for a stored key…")

    def save(self, url: str, then: Callable[[], None]) -> None:
        """Keep the typed key for `url`, then call `then`; an empty field keeps the kept key."""
        key = self.typed()
        if not (url and key):
            then()
            return
        self._url, self._then = url, then
        self._start(self._keys.keep(url, key, self._state_came, self._failed), "Saving the key…", writes=True)

    @Slot()
    def _forget(self) -> None:
        self._then = None
        self._start(self._keys.keep(self._url, None, self._state_came, self._failed),
                    "Forgetting the key…", writes=True)

    def _start(self, job: object, status: str, writes: bool = False) -> None:
        self._job = job
        self.status_label.setText(status)
        self.forget_button.setEnabled(False)
        if writes:
            self._writing = True
            self.edit.setEnabled(False)
            self.busy.emit(True)

    @Slot(object)
    def _state_came(self, state: KeyState) -> None:
        if self.sender() is not self._job or state.url != self._url:
            return
        if self._settle():
            self.edit.clear()  # kept: the field goes back to saying so, holding no copy
        self._show(state)
        then, self._then = self._then, None
        if then is not None and state.trouble is None:
            then()

    @Slot(object)
    def _failed(self, exc: BaseException) -> None:
        if self.sender() is not self._job:
            return
        self._then = None
        self._settle()
        self.forget_button.setEnabled(True)  # unknown: forgetting may still help
        self.status_label.setText(f"Could not reach the key store: {exc}")

    def _settle(self) -> bool:
        """End a write the job was doing; whether it was one."""
        wrote, self._writing = self._writing, False
        if wrote:
            self.edit.setEnabled(True)
            self.busy.emit(False)
        return wrote

    def _show(self, state: KeyState | None) -> None:
        """What is known of the kept key: nothing yet (None), or the state a job found."""
        if state is None:
            self.edit.setPlaceholderText("")
        else:
            self.edit.setPlaceholderText(ENV_KEY if state.from_environment else KEY_STORED if state.stored else NO_KEY)
        self.forget_button.setEnabled(state is not None and state.stored)  # the kept one; the shell's stays
        self.status_label.setText("" if state is None else state.trouble or "")


class ServerPage(QWidget):
    key_busy = Signal(bool)

    def __init__(self, config: LibraryConfig, data_dir: Path, parent: QWidget | None = None,
                 keys: ServerKeys | None = None) -> None:
        super().__init__(parent)
        self._keys = keys or ServerKeys(data_dir)
        form = QFormLayout(self)
        self.local_radio = QRadioButton("Embed on this computer", self)
        self.server_radio = QRadioButton("Embed on a server", self)
        (self.server_radio if config.embed_on == "server" else self.local_radio).setChecked(True)
        form.addRow(self.local_radio)
        form.addRow(self.server_radio)
        self.url_edit = QLineEdit(config.server_url or "", self)
        self.url_edit.setPlaceholderText("https://gpu.example.lan:8080")
        form.addRow("Server address", self.url_edit)
        self.api_box = QComboBox(self)
        self.api_box.addItems(list(API_LABELS))
        self.api_box.setCurrentIndex(API_CHOICES.index(config.server_api) if config.server_api in API_CHOICES else 0)
        form.addRow("API", self.api_box)
        self.model_edit = QLineEdit(config.server_model or "", self)
        self.model_edit.setPlaceholderText("the one it serves")
        form.addRow("Model name", self.model_edit)
        self.key_field = KeyField(self._keys, self)
        self.key_edit = self.key_field.edit
        self.key_field.busy.connect(self.key_busy)
        self.key_field.busy.connect(self.url_edit.setDisabled)  # the key is written for this address
        form.addRow("API key", self.key_field)
        form.addRow(self.key_field.status_label)
        self.url_edit.editingFinished.connect(self._look_up_key)
        self.tokenizer_edit = QLineEdit(config.server_tokenizer or "", self)
        self.tokenizer_edit.setPlaceholderText("the model folder's tokenizer.json")
        form.addRow("Tokenizer", self.tokenizer_edit)
        self.test_button = QPushButton("Test connection", self)
        self.test_button.clicked.connect(self._test)
        form.addRow(self.test_button)
        self.result_label = QLabel("", self)
        self.result_label.setWordWrap(True)
        form.addRow(self.result_label)
        privacy = QLabel(PRIVACY, self)
        privacy.setWordWrap(True)
        form.addRow(privacy)
        self._model_folder = config.model_folder
        self.key_field.look_up(self.url())

    def url(self) -> str:
        return server_address(self.url_edit.text())

    def config_from(self, config: LibraryConfig) -> LibraryConfig:
        on_server = self.server_radio.isChecked() and bool(self.url())
        return dataclasses.replace(
            config, embed_on="server" if on_server else "local", server_url=self.url() or None,
            server_api=API_CHOICES[self.api_box.currentIndex()], server_model=self.model_edit.text().strip() or None,
            server_tokenizer=self.tokenizer_edit.text().strip() or None)

    def plain_http_warning(self) -> str | None:
        if not (self.server_radio.isChecked() and plain_http_leaves_lan(self.url())):
            return None
        return (f"{self.url()} is plain http outside this computer and your local network: the text of "
                "your files would travel unencrypted. Send it there anyway?")

    def save_key(self, then: Callable[[], None]) -> None:
        """Keep a typed key (on another thread), then call `then`; not when the keyring failed,
        so that the page can say where the key went instead."""
        self.key_field.save(self.url(), then)

    @Slot()
    def _look_up_key(self) -> None:
        self.key_field.look_up(self.url())

    @Slot()
    def _test(self) -> None:
        self.test_button.setEnabled(False)
        self.result_label.setText("Connecting…")
        tokenizer = self.tokenizer_edit.text().strip() or self._model_folder
        self._job = test_connection(self.url(), API_CHOICES[self.api_box.currentIndex()],
                                    self.model_edit.text().strip() or None, self.key_field.typed(),
                                    tokenizer, self._show_report, self._show_failure, self._keys)

    def _show_report(self, report: object) -> None:
        self.test_button.setEnabled(True)
        self.result_label.setText("\n".join(report.lines()))  # type: ignore[attr-defined]

    def _show_failure(self, exc: BaseException) -> None:
        self.test_button.setEnabled(True)
        self.result_label.setText(f"Could not connect: {exc}")
