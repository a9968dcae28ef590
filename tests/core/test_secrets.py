"""API keys: the keyring where one works, else a 0600 file; the environment first; one copy."""

from __future__ import annotations

import stat

from qfinder.core.secrets import API_KEY_ENV, KEY_FILE, KEYRING_SERVICE, KeyStore


class MemoryKeyring:
    """A working keyring backend's interface, kept in a dict."""

    def __init__(self) -> None:
        self.kept: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, user: str) -> str | None:
        return self.kept.get((service, user))

    def set_password(self, service: str, user: str, password: str) -> None:
        self.kept[(service, user)] = password

    def delete_password(self, service: str, user: str) -> None:
        del self.kept[(service, user)]


def test_without_a_keyring_the_key_lives_in_a_private_file(tmp_path):
    store = KeyStore(tmp_path)  # the suite's keyring backend is the fail one
    store.save("http://gpu.lan:8080", "sk-one")
    assert store.where == str(tmp_path / KEY_FILE)
    assert stat.S_IMODE((tmp_path / KEY_FILE).stat().st_mode) == 0o600
    assert KeyStore(tmp_path).load("http://gpu.lan:8080") == "sk-one"
    store.save("http://gpu.lan:8080", None)
    assert KeyStore(tmp_path).load("http://gpu.lan:8080") is None


def test_a_keyring_takes_the_key_and_the_file_keeps_no_second_copy(tmp_path):
    KeyStore(tmp_path).save("http://gpu.lan:8080", "sk-old")  # kept in the file before a keyring existed
    ring = MemoryKeyring()
    store = KeyStore(tmp_path, keyring_module=ring)
    store.save("http://gpu.lan:8080", "sk-new")
    assert ring.kept == {(KEYRING_SERVICE, "http://gpu.lan:8080"): "sk-new"}
    assert "sk-old" not in (tmp_path / KEY_FILE).read_text() and store.where == "the system keyring"
    assert store.load("http://gpu.lan:8080") == "sk-new"


def test_the_environment_overrides_what_is_kept(tmp_path, monkeypatch):
    KeyStore(tmp_path).save("http://gpu.lan:8080", "sk-kept")
    monkeypatch.setenv(API_KEY_ENV, " sk-env ")
    assert KeyStore(tmp_path).load("http://gpu.lan:8080") == "sk-env"


def test_one_server_is_one_key_however_its_address_is_spelled(tmp_path):
    KeyStore(tmp_path).save(" http://gpu.lan:8080/ ", "sk-one")
    assert KeyStore(tmp_path).load("http://gpu.lan:8080") == "sk-one"
