"""What the app's Settings do with an embedding server, off the GUI thread and away from widgets.

    job = test_connection(url, api, model, key, tokenizer, on_report, on_failure)  # a ThreadJob
    remember_key(data_dir, url, key)      # keyring, else the data folder's 0600 key file
    known_key(data_dir, url)              # what is kept (env, keyring, file), or None

The dialog never touches the client, the keyring or the tokenizer itself (the ui layer keeps
to widgets); it gets a ServerReport's lines or the error's one-line message back.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from qfinder.core.model.remote.check import ServerReport, check_server
from qfinder.core.model.remote.hints import tokenizer_file
from qfinder.core.model.tokenize import load_tokenizer
from qfinder.core.secrets import KeyStore
from qfinder.services.thread_job import ThreadJob, start_job


def test_connection(url: str, api: str, model: str | None, key: str | None, tokenizer: str | None,
                    on_report: Callable[[ServerReport], None],
                    on_failure: Callable[[BaseException], None]) -> ThreadJob:
    def check() -> ServerReport:
        counting = load_tokenizer(tokenizer_file(tokenizer)) if tokenizer else None
        return check_server(url, api, model, key, counting)

    return start_job(check, "qfinder-server-check", on_report, on_failure)


def remember_key(data_dir: Path, url: str, key: str | None) -> str:
    """Keep `key` for `url` (empty: forget it); where it went, for the dialog to say."""
    store = KeyStore(data_dir)
    store.save(url, key or None)
    return store.where


def known_key(data_dir: Path, url: str) -> str | None:
    return KeyStore(data_dir).load(url) if url else None
