"""Chunks of many files are embedded together, sorted by length into full batches.

Short files used to reach the model a few at a time (~2 rows per batch); now a step gathers
the chunks of many files, so batches are as full as one call over all the same chunks would make
them, the vectors are the same as when each file is embedded alone, and a cancel in a big step
loses only the call in flight."""

from __future__ import annotations

import numpy as np
import pytest

from qfinder.core.errors import CancelledError
from qfinder.core.indexing.indexer import Indexer, IndexSettings
from qfinder.core.storage.catalog import Catalog

WORDS = ["river", "stone", "bread", "lamp", "winter", "garden", "letter", "window", "music", "table", "cloud", "paper"]


@pytest.fixture
def short_files(tmp_path):
    """60 files of 3-60 words, a few of them long enough for several chunks."""
    rng = np.random.default_rng(3)
    root = tmp_path / "tree"
    root.mkdir()
    for i in range(60):
        count = int(rng.integers(3, 60)) if i % 10 else 400
        (root / f"note{i:02d}.txt").write_text(" ".join(rng.choice(WORDS, count)) + f" n{i}")
    return root


class Recording:
    """The tiny model, recording what each call was given and how it was batched; it can be
    told to be cancelled in the call during which `cancel_after` texts have gone through."""

    def __init__(self, embedder, cancel_after: int | None = None) -> None:
        self._inner = embedder
        self.calls: list[list[str]] = []
        self.batches = 0
        self.cancelled_call: list[str] | None = None
        self._cancel_after = cancel_after

    def __getattr__(self, name):
        return getattr(self._inner, name)

    def embed_documents_with_stats(self, texts, dim=None):
        sent = sum(len(c) for c in self.calls)
        if self._cancel_after is not None and sent <= self._cancel_after < sent + len(texts):
            self._cancel_after = None
            self.cancelled_call = list(texts)
            raise CancelledError("Embedding was cancelled.")  # what RunOptions.terminate gives
        embedded = self._inner.embed_documents_with_stats(texts, dim)
        self.calls.append(list(texts))
        self.batches += embedded.stats.batches
        return embedded


def _index(tmp_path, name, embedder, settings):
    return Indexer(Catalog(tmp_path / name / "catalog.db"), embedder, settings)


def _drain(indexer, root):
    indexer.plan([str(root)])
    while indexer.pending():
        indexer.step()
    return indexer


def _vectors_by_path(catalog):
    return {row.path: catalog.vectors(catalog.file_chunk_ids(row.path))[1]
            for row in catalog.files_with_status("indexed")}


def test_short_files_fill_batches_as_one_call_over_their_chunks_would(tmp_path, short_files, tiny_embedder):
    recording = Recording(tiny_embedder)
    _drain(_index(tmp_path, "steps", recording, IndexSettings(chunk_tokens=64, overlap_tokens=0)), short_files)
    texts = [t for call in recording.calls for t in call]
    alone = tiny_embedder.embed_documents_with_stats(texts).stats  # the engine alone, one call
    assert len(texts) / recording.batches >= 0.9 * (alone.texts / alone.batches)


def test_batches_across_files_give_the_vectors_of_one_file_at_a_time(tmp_path, short_files, tiny_embedder):
    settings = IndexSettings(chunk_tokens=64, overlap_tokens=0)
    together = _drain(_index(tmp_path, "together", tiny_embedder, settings), short_files)
    single = IndexSettings(chunk_tokens=64, overlap_tokens=0, step_files=1, step_tokens=1)
    alone = _drain(_index(tmp_path, "alone", tiny_embedder, single), short_files)
    got, want = _vectors_by_path(together.catalog), _vectors_by_path(alone.catalog)
    assert sorted(got) == sorted(want) and len(got) == 60
    for path, vectors in want.items():
        np.testing.assert_allclose(got[path], vectors, atol=2e-3)  # float16 storage
    assert together.catalog.counts() == alone.catalog.counts()


def test_a_cancel_in_a_big_step_loses_only_the_call_in_flight(tmp_path, short_files, tiny_embedder):
    settings = IndexSettings(chunk_tokens=64, overlap_tokens=0, step_files=100, step_tokens=100_000)
    probe = Recording(tiny_embedder)
    _drain(_index(tmp_path, "probe", probe, settings), short_files)
    distinct = sum(len(call) for call in probe.calls)

    recording = Recording(tiny_embedder, cancel_after=distinct // 2)  # a query arrives half-way
    indexer = _index(tmp_path, "cancelled", recording, settings)
    indexer.plan([str(short_files)])
    with pytest.raises(CancelledError):
        indexer.step()
    assert indexer.catalog.counts().indexed == 0  # the step commits as one: nothing yet
    while indexer.pending():
        indexer.step()  # the step redone after the query
    assert recording.cancelled_call is not None and len(recording.cancelled_call) < distinct
    assert sum(len(call) for call in recording.calls) == distinct  # nothing embedded twice
    counts = indexer.catalog.counts()
    assert counts.indexed == 60 and counts.chunks == counts.vectors
