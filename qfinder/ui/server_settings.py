"""Settings › Embedding: *Embed on this computer* or *Embed on a server* (address, API kind,
model, API key, Test connection), with what that means for privacy said plainly.

    page = ServerPage(config, data_dir, parent)
    page.config_from(config)      # the configuration with this page's choices
    page.plain_http_warning()     # the question to ask before saving, or None
    page.save_key()               # the key into the keyring / key file (never settings.json)

The connection test runs on its own thread (services.server_setup); its report or error shows
under the button. The key field shows the kept key as dots only.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from PySide6.QtCore import Slot
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QWidget,
)

from qfinder.core.config import LibraryConfig
from qfinder.core.model.remote.apis import API_CHOICES
from qfinder.core.model.remote.urls import plain_http_leaves_lan, server_address
from qfinder.services.server_setup import known_key, remember_key, test_connection

API_LABELS = ("detect", "text-embeddings-inference", "OpenAI-compatible (vLLM, llama.cpp, LM Studio…)",
              "Ollama")
PRIVACY = ("With a server, the text of your files is sent to it to be embedded. Everything else "
           "stays on this computer: the index, the vectors, search, previews. Use https, or a "
           "server on your own network. The model folder above is the local copy: its tokenizer "
           "cuts the text here, and queries use it while the server is unreachable.")


class ServerPage(QWidget):
    def __init__(self, config: LibraryConfig, data_dir: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._data_dir = data_dir
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
        self.key_edit = QLineEdit(known_key(data_dir, config.server_url or "") or "", self)
        self.key_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.key_edit.setPlaceholderText("none")
        form.addRow("API key", self.key_edit)
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

    def save_key(self) -> None:
        if self.url():
            remember_key(self._data_dir, self.url(), self.key_edit.text().strip() or None)

    @Slot()
    def _test(self) -> None:
        self.test_button.setEnabled(False)
        self.result_label.setText("Connecting…")
        tokenizer = self.tokenizer_edit.text().strip() or self._model_folder
        self._job = test_connection(self.url(), API_CHOICES[self.api_box.currentIndex()],
                                    self.model_edit.text().strip() or None, self.key_edit.text().strip() or None,
                                    tokenizer, self._show_report, self._show_failure)

    def _show_report(self, report: object) -> None:
        self.test_button.setEnabled(True)
        self.result_label.setText("\n".join(report.lines()))  # type: ignore[attr-defined]

    def _show_failure(self, exc: BaseException) -> None:
        self.test_button.setEnabled(True)
        self.result_label.setText(f"Could not connect: {exc}")
