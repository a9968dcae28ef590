"""Fixtures shared by the core tests (extraction and walking both check permission errors)."""

from __future__ import annotations

import ctypes
import os
import subprocess
import sys
from collections.abc import Callable

import pytest


def _drop_dac_override() -> None:
    """In a child of a root test run: give up the capabilities that let root ignore file modes."""
    libc = ctypes.CDLL(None, use_errno=True)
    for capability in (1, 2):  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH
        if libc.prctl(24, capability, 0, 0, 0) != 0:  # PR_CAPBSET_DROP
            raise OSError(ctypes.get_errno(), "PR_CAPBSET_DROP failed")


def _run_unprivileged(code: str, *args: str) -> str:
    """Run Python code where file modes are enforced (as root: without CAP_DAC_*); its stdout."""
    preexec = _drop_dac_override if os.geteuid() == 0 else None
    try:
        done = subprocess.run(
            [sys.executable, "-c", code, *args],
            capture_output=True,
            text=True,
            check=True,
            preexec_fn=preexec,
        )
    except subprocess.SubprocessError as exc:
        pytest.skip(f"cannot drop root's file-permission override here: {exc}")
    return done.stdout


@pytest.fixture(scope="session")
def run_unprivileged() -> Callable[..., str]:
    """`run_unprivileged(code, *argv) -> stdout` (a conftest cannot be imported by name)."""
    return _run_unprivileged
