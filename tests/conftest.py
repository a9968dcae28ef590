"""Test-wide settings: headless Qt, offline, and the paths to the team's shared material."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["ORT_DISABLE_TELEMETRY"] = "1"
# API keys never reach the user's real keyring (child processes inherit this too): the fail
# backend makes qfinder keep keys in the data folder's 0600 file; a user's key is not read.
os.environ["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
os.environ.pop("QFINDER_API_KEY", None)

# PySide6 6.12.0 drops a reference to True on every signal emit/disconnect (pytest-qt's
# waitSignal disconnects each time) and the interpreter aborts after a few hundred: apply the
# services layer's fix before any test touches Qt (importing qfinder applies nothing by itself).
from qfinder.services import qt_fix  # noqa: E402

qt_fix.apply()


@pytest.fixture(autouse=True)
def _private_data_dir(tmp_path_factory, monkeypatch):
    """No test ever touches the real user's data folder."""
    monkeypatch.setenv("QFINDER_DATA_DIR", str(tmp_path_factory.mktemp("qfinder-data")))


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory):
    """A tiny model folder of the real Qwen3 architecture (random weights, plain graph shape)."""
    from support.qwen3 import build_tiny_qwen3

    return build_tiny_qwen3(tmp_path_factory.mktemp("tiny-qwen3"), shape="plain")
