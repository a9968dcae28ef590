"""API keys: the keyring where one works, else a 0600 file; the environment first; one copy."""

from __future__ import annotations

import stat

import pytest

from qfinder.core.secrets import (
    API_KEY_ENV,
    FROM_ENVIRONMENT,
    FROM_FILE,
    FROM_KEYRING,
    KEY_FILE,
    KEYRING_SERVICE,
    KeyStore,
)


class MemoryKeyring:
    """A working keyring backend's interface, kept in a dict."""

    def __init__(self) -> None:
        self.kept: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, user: str) -> str | None:
        return self.kept.get((service, user))

    def set_password(self, service: str, user: str, password: str) -> None:
        self.kept[(service, user)] = password

    def delete_password(self, service: str, user: str) -> None:
        if self.locked:
            raise OSError("the keyring is locked")
        del self.kept[(service, user)]  # a missing entry raises, as keyring's PasswordDeleteError

    locked = False


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


def test_each_look_up_says_where_the_key_came_from(tmp_path, monkeypatch):
    url = "http://gpu.lan:8080"
    assert KeyStore(tmp_path).find(url).source is None
    KeyStore(tmp_path).save(url, "sk-file")
    assert KeyStore(tmp_path).find(url).source == FROM_FILE
    ring = MemoryKeyring()
    KeyStore(tmp_path, keyring_module=ring).save(url, "sk-ring")
    assert KeyStore(tmp_path, keyring_module=ring).find(url).source == FROM_KEYRING
    monkeypatch.setenv(API_KEY_ENV, "sk-env")
    found = KeyStore(tmp_path, keyring_module=ring).find(url)
    assert (found.key, found.source, found.keyring_error) == ("sk-env", FROM_ENVIRONMENT, None)


def test_a_forget_the_keyring_refuses_is_reported_and_the_key_is_still_found(tmp_path):
    url = "http://gpu.lan:8080"
    ring = MemoryKeyring()
    store = KeyStore(tmp_path, keyring_module=ring)
    assert store.save(url, "sk-kept") is None
    ring.locked = True
    error = store.save(url, None)
    assert isinstance(error, OSError) and "locked" in str(error)
    assert store.load(url) == "sk-kept"  # not forgotten, and not said to be
    ring.locked = False
    assert store.save(url, None) is None and store.load(url) is None
    assert store.save(url, None) is None  # nothing kept: nothing to forget, no failure


@pytest.mark.parametrize("refusal", [OSError("no D-Bus"), RuntimeError("backend gone")])
def test_a_keyring_that_cannot_be_read_is_said(tmp_path, refusal):
    class Broken(MemoryKeyring):
        def get_password(self, service: str, user: str) -> str | None:
            raise refusal

    found = KeyStore(tmp_path, keyring_module=Broken()).find("http://gpu.lan:8080")
    assert (found.key, found.source, found.keyring_error) == (None, None, refusal)
    KeyStore(tmp_path).save("http://gpu.lan:8080", "sk-file")  # where a refused save puts it
    found = KeyStore(tmp_path, keyring_module=Broken()).find("http://gpu.lan:8080")
    assert (found.key, found.source, found.keyring_error) == ("sk-file", FROM_FILE, None)  # not even asked


def test_a_key_the_keyring_refused_is_used_not_the_older_one_it_still_holds(tmp_path):
    url = "http://gpu.lan:8080"
    ring = MemoryKeyring()
    KeyStore(tmp_path, keyring_module=ring).save(url, "sk-old")

    class Refusing(MemoryKeyring):
        def set_password(self, service: str, user: str, password: str) -> None:
            raise OSError("the keyring is locked")

    refusing = Refusing()
    refusing.kept = ring.kept  # same entries: it can still read the old key
    assert isinstance(KeyStore(tmp_path, keyring_module=refusing).save(url, "sk-new"), OSError)
    assert KeyStore(tmp_path, keyring_module=refusing).load(url) == "sk-new"


def test_the_key_kept_here_is_found_beside_the_environments(tmp_path, monkeypatch):
    ring = MemoryKeyring()
    KeyStore(tmp_path, keyring_module=ring).save("http://gpu.lan:8080", "sk-kept")
    monkeypatch.setenv(API_KEY_ENV, "sk-env")
    store = KeyStore(tmp_path, keyring_module=ring)
    assert store.load("http://gpu.lan:8080") == "sk-env"
    kept = store.find("http://gpu.lan:8080", environment=False)
    assert (kept.key, kept.source) == ("sk-kept", FROM_KEYRING)
