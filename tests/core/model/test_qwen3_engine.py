"""Qwen3 behaviour of the engine on tiny real-architecture models (helper B's builder) and toys:
EOS rule, prompts, last-token pooling independent of batch composition, MRL, truncation."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from onnx import TensorProto
from support.shared import shared_path

from qfinder.core.errors import EmbeddingError, ModelError
from qfinder.core.model.embedder import Embedder
from qfinder.core.model.info import EmbedOptions
from qfinder.core.model.mrl import truncate_normalize
from qfinder.core.model.tokenize import QWEN3_EOS_ID, TextEncoder, eos_id_of, load_tokenizer

DOCS = ["short", "a somewhat longer document about rivers and trees",
        "x " * 40 + "the longest text in this batch, far longer than the others", "mid length text here"]


@pytest.mark.parametrize("shape", ["plain", "kv", "st"])
def test_text_alone_equals_text_in_mixed_batch(tiny_qwen3, shape):
    emb = Embedder.from_folder(tiny_qwen3(shape))
    batch = emb.embed_documents(DOCS)
    alone = np.stack([emb.embed_documents([d])[0] for d in DOCS])
    assert (batch * alone).sum(axis=1).min() >= 0.9999
    assert emb.info.family == "qwen3" and emb.info.pooling == "lasttoken"
    assert batch.dtype == np.float32 and np.allclose(np.linalg.norm(batch, axis=1), 1.0, atol=1e-5)


def test_qwen3_info_and_mrl(tiny_qwen3):
    emb = Embedder.from_folder(tiny_qwen3("kv"))
    info = emb.info
    assert (info.full_dim, info.min_dim, info.instruction_aware) == (128, 32, True)
    assert info.default_instruction == "Given a web search query, retrieve relevant passages that answer the query"
    full = emb.embed_documents(DOCS)
    for dim in (32, 64):
        cut = emb.embed_documents(DOCS, dim=dim)
        assert cut.shape == (len(DOCS), dim)
        assert np.allclose(cut, truncate_normalize(full, dim), atol=1e-6)
    with pytest.raises(EmbeddingError, match="Allowed: 32..128"):
        emb.embed_documents(DOCS, dim=16)


def test_query_prompt_format_and_default_instruction(tiny_qwen3):
    emb = Embedder.from_folder(tiny_qwen3("plain"))
    task = emb.info.default_instruction
    explicit = emb.embed_documents([f"Instruct: {task}\nQuery:where is the river"])
    assert np.allclose(emb.embed_queries(["  where is the river \n"]), explicit, atol=1e-6)
    assert np.allclose(emb.embed_queries(["where is the river"], instruction=task), explicit, atol=1e-6)
    other = emb.embed_queries(["where is the river"], instruction="Find code")
    assert np.allclose(other, emb.embed_documents(["Instruct: Find code\nQuery:where is the river"]), atol=1e-6)


def test_real_qwen3_tokenizer_appends_eos():
    path = shared_path("models", "qwen3-tokenizer", "tokenizer.json")
    tokenizer = load_tokenizer(path)
    assert tokenizer.encode("test").ids == [1944, QWEN3_EOS_ID]
    encoder = TextEncoder(tokenizer, force_eos_id=eos_id_of(tokenizer))
    assert not encoder.appends_eos_itself
    assert encoder.encode(["test"], 64).ids == [[1944, QWEN3_EOS_ID]]


def test_old_qwen3_tokenizer_gets_eos_from_engine(tmp_path):
    source = shared_path("models", "qwen3-tokenizer", "tokenizer.json")
    data = json.loads(source.read_text(encoding="utf-8"))
    data["post_processor"] = None
    old = tmp_path / "tokenizer.json"
    old.write_text(json.dumps(data), encoding="utf-8")
    tokenizer = load_tokenizer(old)
    assert tokenizer.encode("test").ids == [1944]
    encoder = TextEncoder(tokenizer, force_eos_id=eos_id_of(tokenizer))
    assert encoder.appends_eos_itself
    long = encoder.encode(["test " * 50], 8)
    assert long.ids[0][-1] == QWEN3_EOS_ID and len(long.ids[0]) == 8 and long.truncated == [True]


def test_toy_without_eos_post_processor_gets_eos_and_same_vectors(toy_folder):
    with_eos = Embedder.from_folder(toy_folder("with", with_eos=True))
    without = Embedder.from_folder(toy_folder("without", with_eos=False))
    texts = ["apple banana", "the dog is under the tree"]
    assert np.allclose(with_eos.embed_documents(texts), without.embed_documents(texts), atol=1e-6)


def test_truncation_keeps_eos_and_is_flagged(toy_folder):
    emb = Embedder.from_folder(toy_folder(), options=EmbedOptions(max_tokens_document=6))
    long_text = "apple banana cherry dog cat car house tree"
    embedded = emb.embed_documents_with_stats(["sky", long_text])
    cut = embedded.vectors
    assert embedded.stats.truncated == 1 and embedded.stats.truncated_indices == (1,)
    # The toy sums token states up to the pooled (last) token: equal to 5 words + EOS.
    assert np.allclose(cut[1], emb.embed_documents(["apple banana cherry dog cat"])[0], atol=1e-6)


def test_fp16_graph_output_is_cast_and_past_inputs_use_declared_dtype(toy_folder):
    fp32 = Embedder.from_folder(toy_folder("fp32"))
    fp16 = Embedder.from_folder(toy_folder("fp16", dtype=TensorProto.FLOAT16))
    texts = ["red car", "green tree on the river"]
    vectors = fp16.embed_documents(texts)
    assert vectors.dtype == np.float32 and fp16.info.quantization == "fp16"
    assert (vectors * fp32.embed_documents(texts)).sum(axis=1).min() > 0.999


def test_non_finite_output_is_refused(toy_folder):
    with pytest.raises(ModelError, match="non-finite"):
        Embedder.from_folder(toy_folder(kind="nan"))


def test_padding_waste_is_exposed_and_bounded(tiny_qwen3):
    emb = Embedder.from_folder(tiny_qwen3("plain"))
    mix = [("word " * n).strip() for n in (3, 5, 8, 13, 21, 34, 55, 89, 90, 91, 30, 31, 7, 6)]
    stats = emb.embed_documents_with_stats(mix).stats
    assert stats.texts == len(mix) and stats.padded_tokens >= stats.tokens
    assert 0.0 <= stats.padding_waste <= 0.1


def test_empty_input_and_model_folder_copy_with_renamed_root(tiny_qwen3, tmp_path):
    copy = tmp_path / "my model"
    shutil.copytree(tiny_qwen3("st"), copy)
    emb = Embedder.from_folder(Path(copy))
    assert emb.embed_documents([]).shape == (0, 128)
    assert emb.count_tokens("hello world") >= 2


def test_graph_that_pools_by_position_gets_left_padding(toy_folder):
    pooled = Embedder.from_folder(toy_folder("pooled", output="sentence_embedding", pools_last=True))
    plain = Embedder.from_folder(toy_folder("plain"))
    texts = ["sky", "the red car is under the green tree", "dog on a river"]
    batch = pooled.embed_documents(texts)
    alone = np.stack([pooled.embed_documents([t])[0] for t in texts])
    assert (batch * alone).sum(axis=1).min() >= 0.9999
    assert (batch * plain.embed_documents(texts)).sum(axis=1).min() >= 0.9999


def test_family_from_instruct_prompt_and_generic_defaults(toy_folder):
    folder = toy_folder("st-prompt", model_type="unknown")
    prompt = {"prompts": {"query": "Instruct: Find recipes\nQuery:", "document": ""}}
    (folder / "config_sentence_transformers.json").write_text(json.dumps(prompt), encoding="utf-8")
    emb = Embedder.from_folder(folder)
    assert emb.info.family == "qwen3" and emb.info.default_instruction == "Find recipes"
    generic = Embedder.from_folder(toy_folder("generic", model_type="bert", with_eos=False))
    assert generic.info.family == "generic" and not generic.info.instruction_aware
    assert generic.info.pooling == "mean" and generic.info.min_dim == generic.info.full_dim
