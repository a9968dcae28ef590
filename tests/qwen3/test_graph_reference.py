"""The ONNX graph builder alone (raw onnxruntime + numpy pooling) against transformers' Qwen3Model.

If these pass and the engine tests fail, the fault is in the engine, not in the test model.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
from support.qwen3 import FIXTURES, TINY_CONFIG, Reference, load_reference, onnx_path
from tokenizers import Tokenizer

MIN_COS = 0.9999


def _session(folder: Path, shape: str) -> ort.InferenceSession:
    return ort.InferenceSession(str(onnx_path(folder, shape)), providers=["CPUExecutionProvider"])


def _run(session: ort.InferenceSession, ids: np.ndarray, mask: np.ndarray, positions: np.ndarray,
         past: dict[str, np.ndarray] | None = None) -> list[np.ndarray]:
    feeds = {"input_ids": ids, "attention_mask": mask, "position_ids": positions}
    for item in session.get_inputs():
        if item.name.startswith("past_key_values."):
            empty = np.zeros((ids.shape[0], TINY_CONFIG.num_key_value_heads, 0, TINY_CONFIG.head_dim), np.float32)
            feeds[item.name] = empty if past is None else past[item.name]
    return session.run(None, feeds)


def _pool_normalise(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Right padding: the last token of each row is at mask.sum() - 1."""
    pooled = hidden[np.arange(len(hidden)), mask.sum(axis=1) - 1]
    return pooled / np.linalg.norm(pooled, axis=1, keepdims=True)


def _embed_right_padded(session: ort.InferenceSession, rows: list[list[int]]) -> np.ndarray:
    width = max(len(row) for row in rows)
    ids = np.zeros((len(rows), width), np.int64)
    mask = np.zeros_like(ids)
    for i, row in enumerate(rows):
        ids[i, : len(row)], mask[i, : len(row)] = row, 1
    positions = np.broadcast_to(np.arange(width), ids.shape).copy()
    return _pool_normalise(_run(session, ids, mask, positions)[0], mask)


def _min_cos(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.min(np.sum(a * b, axis=1)))


@pytest.mark.parametrize("shape", ["plain", "kv", "st"])
@pytest.mark.parametrize("which", ["documents", "queries"])
def test_graph_single_texts_match_transformers(qwen3_folders, shape: str, which: str) -> None:
    documents, queries, _ = load_reference()
    reference: Reference = documents if which == "documents" else queries
    session = _session(qwen3_folders[shape], shape)
    vectors = np.concatenate([_embed_right_padded(session, [row]) for row in reference.token_ids])
    assert _min_cos(vectors, reference.single) >= MIN_COS


@pytest.mark.parametrize("shape", ["plain", "kv"])
def test_graph_padded_batch_matches_transformers(qwen3_folders, shape: str) -> None:
    documents = load_reference()[0]
    vectors = _embed_right_padded(_session(qwen3_folders[shape], shape), documents.token_ids)
    assert _min_cos(vectors, documents.single) >= MIN_COS
    assert _min_cos(vectors, documents.batch_right) >= MIN_COS


@pytest.mark.parametrize("shape", ["plain", "kv"])
def test_graph_left_padded_batch_honours_the_mask(qwen3_folders, shape: str) -> None:
    """Left padding with positions 0..L-1 (as transformers does): RoPE is relative, padding masked."""
    documents = load_reference()[0]
    rows = documents.token_ids
    width = max(len(row) for row in rows)
    ids = np.zeros((len(rows), width), np.int64)
    mask = np.zeros_like(ids)
    for i, row in enumerate(rows):
        ids[i, width - len(row):], mask[i, width - len(row):] = row, 1
    positions = np.broadcast_to(np.arange(width), ids.shape).copy()
    hidden = _run(_session(qwen3_folders[shape], shape), ids, mask, positions)[0][:, -1]
    vectors = hidden / np.linalg.norm(hidden, axis=1, keepdims=True)
    assert _min_cos(vectors, documents.batch_left) >= MIN_COS
    assert _min_cos(vectors, documents.single) >= MIN_COS


def test_kv_graph_continues_from_its_own_cache(qwen3_folders) -> None:
    """Prefix, then the rest with present.* fed back as past: same vector as the whole text."""
    documents = load_reference()[0]
    longest = max(range(len(documents.texts)), key=lambda i: len(documents.token_ids[i]))
    tokens = np.asarray([documents.token_ids[longest]], np.int64)
    split = tokens.shape[1] // 2
    session = _session(qwen3_folders["kv"], "kv")
    first = _run(session, tokens[:, :split], np.ones((1, split), np.int64), np.arange(split)[None])
    names = [o.name.replace("present.", "past_key_values.") for o in session.get_outputs()[1:]]
    past = dict(zip(names, first[1:], strict=True))
    assert past["past_key_values.0.key"].shape == (1, TINY_CONFIG.num_key_value_heads, split, TINY_CONFIG.head_dim)
    rest = _run(session, tokens[:, split:], np.ones_like(tokens), np.arange(split, tokens.shape[1])[None], past)
    pooled = rest[0][:, -1] / np.linalg.norm(rest[0][:, -1])
    assert float(pooled[0] @ documents.single[longest]) >= MIN_COS


def test_reference_is_discriminative_and_batch_invariant() -> None:
    """Distinct texts are far apart, so cos >= 0.9999 against the reference means something."""
    documents, queries, _ = load_reference()
    # Queries share the long instruction prompt, hence closer; still far from 0.9999.
    for reference, ceiling in ((documents, 0.95), (queries, 0.99)):
        sims = reference.single @ reference.single.T
        assert np.max(sims - 2 * np.eye(len(sims))) < ceiling
        assert _min_cos(reference.batch_right, reference.single) >= 0.999999
        assert _min_cos(reference.batch_left, reference.single) >= 0.999999


def test_folder_looks_like_qwen3_embedding(qwen3_folders) -> None:
    folder = qwen3_folders["plain"]
    config = json.loads((folder / "config.json").read_text())
    assert (config["model_type"], config["hidden_size"], config["head_dim"]) == ("qwen3", 128, 32)
    pooling = json.loads((folder / "1_Pooling" / "config.json").read_text())
    assert pooling["pooling_mode_lasttoken"] is True
    prompts = json.loads((folder / "config_sentence_transformers.json").read_text())["prompts"]
    assert prompts["query"] == load_reference()[2] and prompts["document"] == ""
    tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
    documents = load_reference()[0]
    assert [tokenizer.encode(t).ids for t in documents.texts] == documents.token_ids
    assert tokenizer.encode("test").ids[-1] == config["eos_token_id"] == tokenizer.token_to_id("<|endoftext|>")
    assert (qwen3_folders["st"] / "onnx" / "model.onnx_data").is_file()


def test_fixtures_stay_small() -> None:
    assert sum(p.stat().st_size for p in FIXTURES.iterdir()) < 2_000_000


def test_fp16_graph_stays_close_to_transformers(tmp_path) -> None:
    """The fp16 variant (for GPUs; gpu_check.py) also runs on CPU onnxruntime: finite, close."""
    from support.qwen3 import tiny_weights

    from qfinder.devtools.qwen3_folder import write_model_folder

    folder = write_model_folder(tmp_path / "fp16", TINY_CONFIG, tiny_weights(), FIXTURES / "tokenizer.json",
                                dtype="float16")
    session = _session(folder, "plain")
    assert session.get_outputs()[0].type == "tensor(float16)"
    documents = load_reference()[0]
    vectors = _embed_right_padded(session, documents.token_ids).astype(np.float32)
    assert np.isfinite(vectors).all()
    assert _min_cos(vectors / np.linalg.norm(vectors, axis=1, keepdims=True), documents.single) >= 0.999


def test_graph_with_heads_wider_than_hidden_matches_transformers(tmp_path) -> None:
    """As in Qwen3-Embedding-0.6B (16 x 128 = 2048 > 1024): q_proj widens, o_proj narrows."""
    from qfinder.devtools.qwen3_config import Qwen3Config
    from qfinder.devtools.qwen3_onnx import build_qwen3_onnx

    wide = Qwen3Config(vocab_size=TINY_CONFIG.vocab_size, hidden_size=64, num_hidden_layers=2,
                       num_attention_heads=4, num_key_value_heads=2, head_dim=32, intermediate_size=128)
    with np.load(FIXTURES / "weights_wide.npz") as stored:
        weights = {name: stored[name].astype(np.float32) for name in stored.files}
    path = build_qwen3_onnx(wide, weights, tmp_path / "model.onnx")
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    with np.load(FIXTURES / "reference.npz") as stored:
        expected = stored["wide_doc_single"]
    vectors = _embed_right_padded(session, load_reference()[0].token_ids)
    assert _min_cos(vectors, expected) >= MIN_COS
