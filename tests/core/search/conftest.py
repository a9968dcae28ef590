"""Fixtures for indexing/search tests: a tiny real-architecture Qwen3 model, loaded once."""

from __future__ import annotations

import pytest

from qfinder.core.indexer import IndexSettings
from qfinder.core.model import Embedder

# Small chunks so a few short paragraphs make several chunks with the tiny byte-level tokenizer.
TINY_SETTINGS = IndexSettings(chunk_tokens=48, overlap_tokens=0, step_files=4, step_tokens=2048)


@pytest.fixture
def tiny_settings():
    return TINY_SETTINGS


@pytest.fixture(scope="session")
def tiny_qwen3_dir(tmp_path_factory):
    from support.qwen3 import build_tiny_qwen3

    return build_tiny_qwen3(tmp_path_factory.mktemp("tiny-qwen3"))


@pytest.fixture(scope="session")
def tiny_embedder(tiny_qwen3_dir):
    embedder = Embedder.from_folder(tiny_qwen3_dir, provider="cpu")
    yield embedder
    embedder.close()
