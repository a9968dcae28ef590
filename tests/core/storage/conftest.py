"""Fixtures for the storage tests: a real SQLite catalog filled with random normalised vectors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from qfinder.core.indexing.chunking import Chunk, chunk_hash
from qfinder.core.storage.catalog import Catalog, PipelineStamp

FULL_DIM = 64


def spectrum_vectors(rng: np.random.Generator, n: int, dim: int, decay: float = 1.0) -> np.ndarray:
    """Normalised vectors whose leading dimensions carry most of the variance (MRL-like)."""
    scale = (np.arange(dim) + 1.0) ** (-decay / 2)
    vectors = rng.standard_normal((n, dim)) * scale
    return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)


def fill(
    cat: Catalog, vectors: np.ndarray, per_file: int = 10, root: str = "/r", start: int = 0
) -> list[int]:
    """Store `vectors` as chunks of files root/f<i>.txt; returns the chunk ids in order."""
    root_id = cat.add_root(root)
    with cat.write():
        for first in range(0, len(vectors), per_file):
            path = f"{root}/f{start + first // per_file}.txt"
            file_id, _ = cat.upsert_file(
                path, root_id=root_id, size=1, mtime_ns=1, inode=1, kind="txt"
            )
            items = []
            for j, vec in enumerate(vectors[first : first + per_file]):
                text = f"chunk {first + j} of {path}"
                items.append(
                    (Chunk(text, j * 40, j * 40 + len(text), None, 1, chunk_hash(text)), vec)
                )
            cat.replace_file_chunks(file_id, items)
    ids = cat.all_vector_ids().tolist()
    return ids[-len(vectors) :]


@pytest.fixture
def catalog(tmp_path: Path):
    cat = Catalog(tmp_path / "data" / "catalog.db")
    cat.reset_for_stamp(PipelineStamp("test-model", FULL_DIM, 1))
    yield cat
    cat.close()


@pytest.fixture
def spectrum():
    return spectrum_vectors


@pytest.fixture
def fill_catalog():
    return fill


@pytest.fixture(scope="module")
def spectrum_module():
    return spectrum_vectors


@pytest.fixture(scope="module")
def fill_catalog_module():
    return fill
