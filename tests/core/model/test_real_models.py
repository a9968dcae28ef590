"""Real semantics from the two real models in ../shared (skipped when absent)."""

from __future__ import annotations

import numpy as np
import pytest
from support.shared import shared_path

from qfinder.core.model.embedder import Embedder


@pytest.fixture(scope="module")
def minilm() -> Embedder:
    return Embedder.from_folder(shared_path("models", "all-MiniLM-L6-v2-int8"))


@pytest.fixture(scope="module")
def e5() -> Embedder:
    return Embedder.from_folder(shared_path("models", "multilingual-e5-small-q4"))


def test_paraphrase_ranks_above_unrelated(minilm):
    query = minilm.embed_queries(["A man is playing a guitar."])[0]
    docs = minilm.embed_documents(["Someone is playing an instrument.", "The stock market fell sharply today."])
    scores = docs @ query
    assert scores[0] > scores[1] + 0.2
    assert minilm.info.family == "generic" and minilm.info.min_dim == minilm.info.full_dim == 384


def test_chinese_query_finds_english_counterpart(e5):
    assert (e5.info.query_prompt, e5.info.document_prompt) == ("query: ", "passage: ")
    docs = ["The weather is sunny and warm today.", "The stock market crashed after the announcement.",
            "My cat sleeps on the sofa all afternoon.", "Python is a popular programming language."]
    vectors = e5.embed_documents(docs)
    for query, expected in (("今天天气晴朗温暖", 0), ("我的猫整个下午都在沙发上睡觉", 2), ("股市暴跌", 1)):
        scores = vectors @ e5.embed_queries([query])[0]
        assert int(np.argmax(scores)) == expected, (query, scores)


@pytest.mark.parametrize("which", ["minilm", "e5"])
def test_batch_equals_single(which, request):
    emb = request.getfixturevalue(which)
    texts = ["short", "a medium length sentence about the sea", "a much longer sentence " * 12, "中文句子也可以"]
    batch = emb.embed_documents(texts)
    single = np.stack([emb.embed_documents([t])[0] for t in texts])
    assert (batch * single).sum(axis=1).min() >= 0.9999


def test_generic_models_reject_mrl_unless_forced(minilm):
    from qfinder.core.errors import EmbeddingError
    from qfinder.core.model.info import EmbedOptions

    with pytest.raises(EmbeddingError):
        minilm.embed_documents(["x"], dim=128)
    forced = Embedder.from_folder(minilm.folder.root, options=EmbedOptions(force_mrl=True))
    assert forced.info.min_dim == 32 and forced.embed_documents(["x"], dim=128).shape == (1, 128)
