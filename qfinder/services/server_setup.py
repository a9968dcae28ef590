"""What the app's Settings do with an embedding server, off the GUI thread and away from widgets.

    keys = ServerKeys(data_dir)                      # keyring_module=: a stand-in (tests)
    keys.look_up(url, on_state, on_failure)          # ThreadJobs; on_state gets a KeyState
    keys.keep(url, key, on_state, on_failure)        # key None: forget the one kept
    job = test_connection(url, api, model, key, tokenizer, on_report, on_failure, keys)

The dialog never touches the client, the keyring or the tokenizer itself (the ui layer keeps
to widgets); it gets a ServerReport's lines, a KeyState or the error's one-line message back.
Every keyring call runs on a job's thread: a locked desktop keyring or a D-Bus timeout can
block for seconds, and even finding the keyring's backend can ask D-Bus. A KeyState says
whether a key is kept, never the key: the dialog has no copy of the secret to show or leak.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qfinder.core.model.remote.check import ServerReport, check_server
from qfinder.core.model.remote.hints import tokenizer_file
from qfinder.core.model.tokenize import load_tokenizer
from qfinder.core.secrets import KeyStore, environment_key
from qfinder.services.thread_job import ThreadJob, start_job


def test_connection(url: str, api: str, model: str | None, key: str | None, tokenizer: str | None,
                    on_report: Callable[[ServerReport], None],
                    on_failure: Callable[[BaseException], None],
                    keys: ServerKeys | None = None) -> ThreadJob:
    """`key` None: the one `keys` keep for `url`, read on the check's thread."""
    def check() -> ServerReport:
        counting = load_tokenizer(tokenizer_file(tokenizer)) if tokenizer else None
        used = key if key is not None or keys is None else keys.load(url)
        return check_server(url, api, model, used, counting)

    return start_job(check, "qfinder-server-check", on_report, on_failure)


@dataclass(frozen=True)
class KeyState:
    """Whether a key is kept for `url` after a look-up, keep or forget (never the key itself)."""

    url: str
    stored: bool  # a key is kept here (keyring or file), whatever QFINDER_API_KEY says
    trouble: str | None = None  # the keyring failed: what happened and where the key is instead
    from_environment: bool = False  # QFINDER_API_KEY is set: its key is used, the kept one is not


class ServerKeys:
    """The data folder's server keys, each look-up, keep or forget on a job's thread."""

    def __init__(self, data_dir: Path, keyring_module: Any | None = None) -> None:
        self._data_dir = data_dir
        self._keyring_module = keyring_module

    def look_up(self, url: str, on_state: Callable[[KeyState], None],
                on_failure: Callable[[BaseException], None]) -> ThreadJob:
        def find() -> KeyState:
            store = self._store()
            kept = store.find(url, environment=False)
            trouble = _trouble(store, kept.keyring_error, "no key could be read from it")
            return KeyState(url, kept.key is not None, trouble, environment_key() is not None)

        return start_job(find, "qfinder-key-look-up", on_state, on_failure)

    def keep(self, url: str, key: str | None, on_state: Callable[[KeyState], None],
             on_failure: Callable[[BaseException], None]) -> ThreadJob:
        """`key` None: forget the kept one. A forget the keyring refused leaves the key there, so
        the state says a key may still be kept."""
        def save() -> KeyState:
            store = self._store()
            error = store.save(url, key)
            fallback = ("the key is kept in {file} instead, readable only by you" if key else
                        "the key may still be kept there: unlock the keyring and press Forget key again")
            return KeyState(url, bool(key) or error is not None, _trouble(store, error, fallback),
                            environment_key() is not None)

        return start_job(save, "qfinder-key-keep", on_state, on_failure)

    def load(self, url: str) -> str | None:
        """The key itself, for work already off the GUI thread (a connection test)."""
        return self._store().load(url) if url else None

    def _store(self) -> KeyStore:
        return KeyStore(self._data_dir, self._keyring_module)



def _trouble(store: KeyStore, error: Exception | None, fallback: str) -> str | None:
    """`fallback`: what happened instead when the keyring failed ({file}: the store's key file)."""
    if error is None:
        return None
    return (f"The system keyring failed ({type(error).__name__}: {error}); "
            + fallback.format(file=store.key_file) + ".")
