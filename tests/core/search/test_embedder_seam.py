"""The indexer and the searcher need only the `TextEmbedder` protocol: an engine with no
tokenizer object and no onnxruntime session (as one behind an HTTP embedding server will be)
indexes and searches, and every statistic comes back with the call that produced it."""

from __future__ import annotations

import re
import zlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from qfinder.core.indexing.indexer import Indexer, IndexSettings
from qfinder.core.model.batching import EmbedStats
from qfinder.core.model.info import ModelInfo
from qfinder.core.model.protocol import Embedded, TextEmbedder
from qfinder.core.results import SearchRequest
from qfinder.core.search.searcher import Searcher
from qfinder.core.state import ProviderReport
from qfinder.core.storage.catalog import Catalog
from qfinder.core.vectors.indexes import VectorIndexes

DIM = 64
_WORD = re.compile(r"\w+")


class WordHashEngine:
    """Bag-of-words vectors (each word hashed to one dimension): a stand-in for a remote engine,
    deterministic, where texts sharing a word are near each other."""

    info = ModelInfo("word-hash", "word-hash-v1", "generic", DIM, DIM, DIM, False, None, "mean", 512, "none")
    provider = ProviderReport("auto", "remote")

    def __init__(self) -> None:
        self.calls: list[int] = []  # texts per embed call

    def token_spans(self, texts: Sequence[str]) -> list[list[tuple[int, int]]]:
        return [[m.span() for m in _WORD.finditer(text)] for text in texts]

    def count_tokens(self, text: str) -> int:
        return len(_WORD.findall(text))

    def embed_documents_with_stats(self, texts: Sequence[str], dim: int | None = None) -> Embedded:
        vectors = np.zeros((len(texts), DIM), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in _WORD.findall(text.lower()):
                vectors[row, zlib.crc32(word.encode()) % DIM] += 1.0
        vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        self.calls.append(len(texts))
        tokens = sum(self.count_tokens(t) for t in texts)
        return Embedded(vectors, EmbedStats(texts=len(texts), tokens=tokens, padded_tokens=tokens, batches=1))

    def embed_queries_with_stats(self, texts: Sequence[str], instruction: str | None = None,
                                 dim: int | None = None) -> Embedded:
        return self.embed_documents_with_stats(texts, dim)

    def cancel(self) -> None:
        pass

    def reset_cancel(self) -> None:
        pass

    def close(self) -> None:
        pass


@pytest.fixture
def indexed(tmp_path: Path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "zoo.txt").write_text("The zebra and the giraffe live at the zoo.", encoding="utf-8")
    (docs / "kitchen.txt").write_text("Bread, butter and a kettle for tea.", encoding="utf-8")
    (docs / "garage.txt").write_text("The car needs new tyres and an oil change.", encoding="utf-8")
    catalog = Catalog(tmp_path / "data" / "catalog.db")
    engine: TextEmbedder = WordHashEngine()
    indexer = Indexer(catalog, engine, IndexSettings(chunk_tokens=16, overlap_tokens=2))
    indexer.plan([docs])
    while indexer.pending():
        indexer.step()
    vectors = VectorIndexes(catalog, tmp_path / "data" / "indexes", persist=False)
    yield docs, indexer, Searcher(catalog, vectors, engine, default_dim=DIM)
    catalog.close()


def test_an_engine_without_a_tokenizer_object_indexes_and_searches(indexed) -> None:
    docs, indexer, searcher = indexed
    assert indexer.catalog.counts().vectors == 3
    assert indexer.stats.texts_embedded == sum(indexer.embedder.calls) == 3  # its own stats
    assert indexer.stats.tokens_embedded == sum(len(_WORD.findall(f.read_text())) for f in docs.iterdir())
    response = searcher.search(SearchRequest("zebra", mode="semantic", k=1))
    assert [r.path for r in response.results] == [str(docs / "zoo.txt")]
    assert response.exact  # three vectors: brute force, not a graph


def test_the_exact_flag_belongs_to_the_search_that_ran(indexed) -> None:
    _, _, searcher = indexed
    assert searcher.search(SearchRequest("zebra", mode="semantic")).exact
    nothing_to_embed = searcher.search(SearchRequest("", mode="semantic"))
    assert nothing_to_embed.results == () and not nothing_to_embed.exact
