"""API keys of embedding servers: in the OS keyring where one works, else a private file.

    keys = KeyStore(data_dir)
    keys.save("https://gpu.lan:8080", "sk-…")   # keyring, or <data_dir>/server-keys.json (0600)
    keys.load("https://gpu.lan:8080")           # QFINDER_API_KEY first, then keyring, then the file
    keys.where                                  # "the system keyring" | that file, for the setup text
    keys.keyring_error                          # why the last load/save fell back to the file, or None

A key never goes into settings.json (which other tools and backups read) and is never logged:
log lines name the server, not the key. The `keyring` package picks the platform's store
(Secret Service, macOS Keychain, Windows Credential Locker); a headless Linux has none — its
fail backend raises — and then the key lives in a 0600 file in the data folder, as private as
the index it unlocks.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from pathlib import Path
from typing import Any

from qfinder.core.model.remote.urls import server_address
from qfinder.core.paths import ensure_private_dir, read_json_object, write_atomic

log = logging.getLogger(__name__)

API_KEY_ENV = "QFINDER_API_KEY"
KEYRING_SERVICE = "qfinder embedding server"
KEY_FILE = "server-keys.json"


def _usable_keyring() -> Any | None:
    """The keyring module when a real backend is behind it (not the fail or null backend)."""
    try:
        import keyring
    except ImportError:
        return None
    try:
        backend = keyring.get_keyring()
        usable = float(backend.priority) > 0  # fail (0) and null (-1) backends keep nothing
    except Exception:  # a broken keyring configuration: the file is as good
        return None
    return keyring if usable else None


class KeyStore:
    def __init__(self, data_dir: Path, keyring_module: Any | None = None, use_system: bool = True) -> None:
        """`keyring_module`: a stand-in (tests); otherwise the system's when `use_system`."""
        self._file = Path(data_dir) / KEY_FILE
        self._keyring = keyring_module if keyring_module is not None else (
            _usable_keyring() if use_system else None)
        self.keyring_error: Exception | None = None  # a setup dialog says it; a log line only names its type

    @property
    def where(self) -> str:
        return "the system keyring" if self._keyring is not None else str(self._file)

    def load(self, url: str) -> str | None:
        """The key for `url`: the environment variable, the keyring, or the file; None if none."""
        url = server_address(url)
        self.keyring_error = None
        from_env = os.environ.get(API_KEY_ENV, "").strip()
        if from_env:
            return from_env
        if self._keyring is not None:
            try:
                found = self._keyring.get_password(KEYRING_SERVICE, url)
            except Exception as exc:  # a locked or vanished keyring: fall back to the file
                self.keyring_error = exc
                log.info("keyring unreadable for %s (%s); trying %s", url, type(exc).__name__, self._file)
            else:
                if found:
                    return str(found)
        key = self._read_file().get(url)
        return str(key) if key else None

    def save(self, url: str, key: str | None) -> None:
        """Keep `key` for `url` (None or "" forgets it)."""
        url = server_address(url)
        self.keyring_error = None
        if self._keyring is not None and self._save_keyring(url, key):
            self._write_file_entry(url, None)  # never two copies that can disagree
            return
        self._write_file_entry(url, key or None)

    def _save_keyring(self, url: str, key: str | None) -> bool:
        assert self._keyring is not None
        try:
            if key:
                self._keyring.set_password(KEYRING_SERVICE, url, key)
            else:
                with contextlib.suppress(Exception):  # nothing kept: nothing to forget
                    self._keyring.delete_password(KEYRING_SERVICE, url)
            return True
        except Exception as exc:
            self.keyring_error = exc
            log.warning("could not use the keyring for %s (%s); keeping the key in %s", url,
                        type(exc).__name__, self._file)
            return False

    def _read_file(self) -> dict[str, str]:
        return {str(k): str(v) for k, v in read_json_object(self._file).items()}

    def _write_file_entry(self, url: str, key: str | None) -> None:
        keys = self._read_file()
        if key is None and url not in keys:
            return
        if key is None:
            keys.pop(url, None)
        else:
            keys[url] = key
        ensure_private_dir(self._file.parent)
        write_atomic(self._file, json.dumps(keys, indent=1))  # 0600
