"""Vectors through each server API equal the local engine's: documents, instructed queries, MRL
dimensions — and each server's limits and quirks are met without losing or changing a vector."""

from __future__ import annotations

import numpy as np
import pytest
from support.embed_servers import Quirks

from qfinder.core.model.embedder import Embedder
from qfinder.core.model.info import EmbedOptions
from qfinder.core.model.remote.client import ServerLimits

DOCUMENTS = ["The quarterly report is due on Friday.", "def add(a, b):\n    return a + b",
             "Die Katze schläft.", "北京是首都。", "short", "a longer passage about rivers " * 12]
QUERIES = ["when is the report due", "python function that sums"]


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.sum(a * b, axis=1)


@pytest.mark.parametrize("kind", ["tei", "openai", "ollama"])
def test_documents_queries_and_mrl_dims_equal_the_local_engine(kind, serve, remote_for, local_engine: Embedder) -> None:
    server = serve(kind, max_batch=4)
    remote = remote_for(server)
    assert _cosines(remote.embed_documents_with_stats(DOCUMENTS).vectors,
                    local_engine.embed_documents(DOCUMENTS)).min() >= 0.9999
    for instruction in (None, "Find code that answers the question"):
        got = remote.embed_queries_with_stats(QUERIES, instruction).vectors
        assert _cosines(got, local_engine.embed_queries(QUERIES, instruction)).min() >= 0.9999
    for dim in (32, 64):
        got = remote.embed_documents_with_stats(DOCUMENTS, dim=dim).vectors
        assert got.shape == (len(DOCUMENTS), dim)
        assert _cosines(got, local_engine.embed_documents(DOCUMENTS, dim=dim)).min() >= 0.9999
    assert remote.info.full_dim == local_engine.info.full_dim
    assert remote.info.instruction_aware and remote.info.min_dim == 32


def test_tei_requests_follow_its_info_limits(serve, remote_for) -> None:
    server = serve("tei", max_batch=3)
    remote = remote_for(server)
    embedded = remote.embed_documents_with_stats([f"text number {i}" for i in range(10)])
    assert embedded.stats.batches == 4  # ceil(10 / 3)
    assert server.refused == 0  # never the 422 of a bigger batch


def test_tei_without_info_limits_learns_the_batch_size_from_its_422(serve, remote_for, local_engine) -> None:
    server = serve("tei", max_batch=3)
    remote = remote_for(server)
    remote.connect()
    remote._the_client().limits = ServerLimits(max_batch=32)  # as if /info had not said
    texts = [f"text number {i}" for i in range(12)]
    got = remote.embed_documents_with_stats(texts).vectors
    assert _cosines(got, local_engine.embed_documents(texts)).min() >= 0.9999
    assert remote._the_client().limits.max_batch <= 3


def test_text_longer_than_tei_max_input_is_cut_here_keeping_the_end_of_text_token(serve, remote_for, tiny_model_dir) -> None:
    server = serve("tei", max_input=24)
    remote = remote_for(server)
    long_text = "many words in a row " * 40
    embedded = remote.embed_documents_with_stats([long_text, "short"])
    assert embedded.stats.truncated_indices == (0,)
    same_cut = Embedder.from_folder(tiny_model_dir, "cpu", options=EmbedOptions(max_tokens_document=24))
    assert _cosines(embedded.vectors, same_cut.embed_documents([long_text, "short"])).min() >= 0.9999


def test_openai_base64_answers_are_read(serve, remote_for, local_engine) -> None:
    remote = remote_for(serve("openai", quirks=Quirks(force_base64=True)))
    got = remote.embed_documents_with_stats(DOCUMENTS).vectors
    assert _cosines(got, local_engine.embed_documents(DOCUMENTS)).min() >= 0.9999


def test_llama_cpp_500_past_its_physical_batch_teaches_a_shorter_input(serve, remote_for, tiny_model_dir) -> None:
    remote = remote_for(serve("openai", ubatch=40))
    long_text = "tokens beyond the physical batch " * 30
    embedded = remote.embed_documents_with_stats(["fits", long_text])
    assert embedded.stats.truncated_indices == (1,)
    limit = remote.info.max_tokens
    assert limit <= 40
    same_cut = Embedder.from_folder(tiny_model_dir, "cpu", options=EmbedOptions(max_tokens_document=limit))
    assert _cosines(embedded.vectors, same_cut.embed_documents(["fits", long_text])).min() >= 0.9999


def test_a_gguf_without_the_end_of_text_token_gets_it_from_the_client(serve, remote_for, local_engine) -> None:
    remote = remote_for(serve("openai", quirks=Quirks(missing_eos=True)))
    remote.connect()
    assert remote.facts.appends_eos is False
    got = remote.embed_documents_with_stats(DOCUMENTS).vectors
    assert _cosines(got, local_engine.embed_documents(DOCUMENTS)).min() >= 0.9999


def test_ollama_never_truncates_silently(serve, remote_for, tiny_model_dir) -> None:
    remote = remote_for(serve("ollama", num_ctx=30))
    long_text = "ollama would cut this without a word " * 20
    embedded = remote.embed_documents_with_stats([long_text])
    assert embedded.stats.truncated_indices == (0,)  # cut here, and said so
    limit = remote.info.max_tokens
    assert limit <= 30
    same_cut = Embedder.from_folder(tiny_model_dir, "cpu", options=EmbedOptions(max_tokens_document=limit))
    assert _cosines(embedded.vectors, same_cut.embed_documents([long_text])).min() >= 0.9999
