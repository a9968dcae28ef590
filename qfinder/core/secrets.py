"""API keys of embedding servers: in the OS keyring where one works, else a private file.

    keys = KeyStore(data_dir)
    keys.save("https://gpu.lan:8080", "sk-…")   # keyring, or <data_dir>/server-keys.json (0600)
    keys.load("https://gpu.lan:8080")           # QFINDER_API_KEY first, then the file, then the keyring
    keys.find(url)                              # a KeyLookup: the key, where it came from, the keyring's error
    keys.save(url, None)                        # forget; save returns the keyring's error, or None
    keys.where                                  # "the system keyring" | that file, for the setup text

A key never goes into settings.json (which other tools and backups read) and is never logged:
log lines name the server, not the key. The `keyring` package picks the platform's store
(Secret Service, macOS Keychain, Windows Credential Locker); a headless Linux has none — its
fail backend raises — and then the key lives in a 0600 file in the data folder, as private as
the index it unlocks.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qfinder.core.model.remote.urls import server_address
from qfinder.core.paths import ensure_private_dir, read_json_object, write_atomic

log = logging.getLogger(__name__)

API_KEY_ENV = "QFINDER_API_KEY"
KEYRING_SERVICE = "qfinder embedding server"
KEY_FILE = "server-keys.json"
# KeyLookup.source values
FROM_ENVIRONMENT, FROM_KEYRING, FROM_FILE = "environment", "keyring", "file"


@dataclass(frozen=True)
class KeyLookup:
    key: str | None
    source: str | None  # FROM_ENVIRONMENT, FROM_KEYRING or FROM_FILE; None when no key is kept
    keyring_error: Exception | None = None  # the keyring failed, so no key could be read from it


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


def environment_key() -> str | None:
    """QFINDER_API_KEY, which every server's look-up returns first (None when unset or blank)."""
    return os.environ.get(API_KEY_ENV, "").strip() or None


class KeyStore:
    def __init__(self, data_dir: Path, keyring_module: Any | None = None, use_system: bool = True) -> None:
        """`keyring_module`: a stand-in (tests); otherwise the system's when `use_system`."""
        self._file = Path(data_dir) / KEY_FILE
        self._keyring = keyring_module if keyring_module is not None else (
            _usable_keyring() if use_system else None)

    @property
    def where(self) -> str:
        return "the system keyring" if self._keyring is not None else str(self.key_file)

    @property
    def key_file(self) -> Path:
        """The 0600 file that keeps keys where the keyring is missing or fails."""
        return self._file

    def load(self, url: str) -> str | None:
        """The key for `url`: the environment variable, the file, or the keyring; None if none."""
        return self.find(url).key

    def find(self, url: str, environment: bool = True) -> KeyLookup:
        """The key for `url`, where it came from, and the keyring's error if it had one.
        `environment` False: the key kept here, whatever QFINDER_API_KEY says."""
        url = server_address(url)
        from_env = environment_key() if environment else None
        if from_env:
            return KeyLookup(from_env, FROM_ENVIRONMENT)
        in_file = self._read_file().get(url)
        if in_file:  # written only where the keyring failed or is missing: never older than its entry
            return KeyLookup(str(in_file), FROM_FILE)
        if self._keyring is None:
            return KeyLookup(None, None)
        try:
            found = self._keyring.get_password(KEYRING_SERVICE, url)
        except Exception as exc:  # a locked or vanished keyring
            log.info("keyring unreadable for %s (%s)", url, type(exc).__name__)
            return KeyLookup(None, None, exc)
        return KeyLookup(str(found), FROM_KEYRING) if found else KeyLookup(None, None)

    def save(self, url: str, key: str | None) -> Exception | None:
        """Keep `key` for `url` (None or "" forgets it). Returns the keyring's error when it failed:
        a key to keep then went to the file; a key to forget may still be in the keyring."""
        url = server_address(url)
        error = self._save_keyring(url, key) if self._keyring is not None else None
        if self._keyring is not None and error is None:
            self._write_file_entry(url, None)  # never two copies that can disagree
        else:
            self._write_file_entry(url, key or None)
        return error

    def _save_keyring(self, url: str, key: str | None) -> Exception | None:
        assert self._keyring is not None
        try:
            if key:
                self._keyring.set_password(KEYRING_SERVICE, url, key)
            else:
                self._forget_in_keyring(url)
        except Exception as exc:
            log.warning("could not use the keyring for %s (%s); the file is %s", url, type(exc).__name__, self._file)
            return exc
        return None

    def _forget_in_keyring(self, url: str) -> None:
        """Delete the keyring's entry; one that is not there is no failure, anything else is."""
        assert self._keyring is not None
        if self._keyring.get_password(KEYRING_SERVICE, url) is None:
            return  # keyring raises PasswordDeleteError for a missing entry; nothing to forget
        self._keyring.delete_password(KEYRING_SERVICE, url)

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
