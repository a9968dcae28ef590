"""Tiny Qwen3 model folders of each graph shape, built once per test session."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.qwen3 import build_tiny_qwen3


@pytest.fixture(scope="session")
def qwen3_folders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("tiny-qwen3")
    return {shape: build_tiny_qwen3(root / shape, shape) for shape in ("plain", "kv", "st")}
