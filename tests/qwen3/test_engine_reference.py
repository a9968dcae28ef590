"""qfinder's Embedder on tiny Qwen3 models against transformers' Qwen3Model (reference.npz).

Single texts, mixed-length batches, every graph shape, full size and after MRL truncation,
documents (no prompt) and queries (default instruction prompt, text stripped).
"""

from __future__ import annotations

import numpy as np
import pytest
from support.qwen3 import load_reference

from qfinder.core.model.embedder import Embedder
from qfinder.core.model.mrl import truncate_normalize

MIN_COS = 0.9999
SHAPES = ["plain", "kv", "st"]


@pytest.fixture(scope="module", params=SHAPES)
def embedder(request, qwen3_folders):
    engine = Embedder.from_folder(qwen3_folders[request.param], provider="cpu")
    yield engine
    engine.close()


def _cosines(vectors: np.ndarray, reference: np.ndarray) -> np.ndarray:
    return np.sum(vectors * reference, axis=1) / (
        np.linalg.norm(vectors, axis=1) * np.linalg.norm(reference, axis=1))


def test_engine_reads_the_folder_as_qwen3(embedder) -> None:
    info = embedder.info
    assert (info.family, info.full_dim, info.pooling) == ("qwen3", 128, "lasttoken")
    assert info.instruction_aware and info.min_dim == 32
    documents = load_reference()[0]
    assert [embedder.tokenizer.encode(t).ids for t in documents.texts] == documents.token_ids


def test_documents_one_by_one_match_reference(embedder) -> None:
    documents = load_reference()[0]
    vectors = np.concatenate([embedder.embed_documents([text]) for text in documents.texts])
    assert vectors.dtype == np.float32 and vectors.shape == documents.single.shape
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert _cosines(vectors, documents.single).min() >= MIN_COS


def test_mixed_length_batch_matches_reference(embedder) -> None:
    """Shortest and longest texts together, in an order that is not sorted by length."""
    documents = load_reference()[0]
    order = [7, 0, 4, 8, 2, 6, 1, 5, 3]
    embedded = embedder.embed_documents_with_stats([documents.texts[i] for i in order])
    assert _cosines(embedded.vectors, documents.single[order]).min() >= MIN_COS
    assert embedded.stats.texts == len(order)


def test_queries_match_reference_with_default_instruction(embedder) -> None:
    queries, prompt = load_reference()[1], load_reference()[2]
    task = prompt.removeprefix("Instruct: ").removesuffix("\nQuery:")
    assert _cosines(embedder.embed_queries(queries.texts), queries.single).min() >= MIN_COS
    explicit = embedder.embed_queries(queries.texts, instruction=task)
    assert _cosines(explicit, queries.single).min() >= MIN_COS


@pytest.mark.parametrize("dim", [32, 64, 100, 128])
def test_mrl_truncation_matches_truncated_reference(embedder, dim: int) -> None:
    documents = load_reference()[0]
    expected = truncate_normalize(documents.single, dim)
    assert np.allclose(np.linalg.norm(expected, axis=1), 1.0, atol=1e-5)
    vectors = embedder.embed_documents(documents.texts, dim=dim)
    assert vectors.shape == (len(documents.texts), dim)
    assert _cosines(vectors, expected).min() >= MIN_COS
    full = embedder.embed_documents(documents.texts)
    assert _cosines(truncate_normalize(full, dim), expected).min() >= MIN_COS


def test_reference_truncation_is_plain_numpy() -> None:
    """truncate_normalize itself, checked against a hand computation."""
    vectors = load_reference()[0].single
    by_hand = vectors[:, :48] / np.linalg.norm(vectors[:, :48], axis=1, keepdims=True)
    assert np.allclose(truncate_normalize(vectors, 48), by_hand, atol=1e-6)


def test_small_batches_and_repeats_match_reference(qwen3_folders) -> None:
    """A tight padded-token budget splits the texts into many batches; results do not move."""
    from qfinder.core.model.info import EmbedOptions

    documents = load_reference()[0]
    options = EmbedOptions(max_padded_tokens=96, max_batch=3)
    engine = Embedder.from_folder(qwen3_folders["plain"], provider="cpu", options=options)
    try:
        texts = documents.texts + documents.texts[:3]
        embedded = engine.embed_documents_with_stats(texts)
        vectors = embedded.vectors
        assert embedded.stats.batches >= 4
        expected = np.concatenate([documents.single, documents.single[:3]])
        assert _cosines(vectors, expected).min() >= MIN_COS
    finally:
        engine.close()
