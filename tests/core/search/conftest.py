"""Fixtures for indexing/search tests: the tiny real-architecture Qwen3 model, loaded once."""

from __future__ import annotations

import pytest

from qfinder.core.model.embedder import Embedder


@pytest.fixture(scope="session")
def tiny_embedder(tiny_model_dir):
    embedder = Embedder.from_folder(tiny_model_dir, provider="cpu")
    yield embedder
    embedder.close()
