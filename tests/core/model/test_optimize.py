"""`models optimize` on the tiny Qwen3 models: every candidate is built, loaded and gated against fp32,
a candidate below the gate is never used, and the folder left behind is the one the report chose.

Which safe candidate wins depends on this machine's speed, so tests that run the whole optimizer
accept either outcome and check that the folders and the report agree with it; the choice rule
itself is checked with fixed figures in test_optimize_parts.py.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import onnx
import pytest

from qfinder.core.errors import ModelError
from qfinder.core.model import optimize_candidates as build
from qfinder.core.model.embedder import Embedder
from qfinder.core.model.folder import find_model_folder
from qfinder.core.model.optimize import optimize_model, preferred_folder
from qfinder.core.model.optimize_gate import check, embed_sample, load_sample
from qfinder.devtools.qwen3_folder import write_model_folder

OUTLIER = 1e3


def _with_outliers(dest: Path) -> Path:
    """The tiny model with activation outliers in front of every o_proj, the same function in fp32:
    two value channels scaled up by 1e3 and the o_proj inputs they feed scaled down by as much
    (what SmoothQuant undoes). Per-tensor int8 activations then lose every other channel there."""
    from support.qwen3 import FIXTURES, tiny_weights
    from support.qwen3 import TINY_CONFIG as cfg

    weights = dict(tiny_weights())
    groups = cfg.num_attention_heads // cfg.num_key_value_heads
    for layer in range(cfg.num_hidden_layers):
        prefix = f"layers.{layer}.self_attn."
        v, o = weights[prefix + "v_proj.weight"].copy(), weights[prefix + "o_proj.weight"].copy()
        for channel in (3, 40):
            kv_head, dim = divmod(channel, cfg.head_dim)
            v[channel, :] *= OUTLIER
            for g in range(groups):
                o[:, (kv_head * groups + g) * cfg.head_dim + dim] /= OUTLIER
        weights[prefix + "v_proj.weight"], weights[prefix + "o_proj.weight"] = v, o
    return write_model_folder(dest, cfg, weights, FIXTURES / "tokenizer.json")


def _regate(source: Path, candidate: Path) -> tuple[float, float]:
    """min cosine and agreement of `candidate` against `source`, measured afresh."""
    sample = load_sample()
    vectors = []
    for folder in (source, candidate):
        embedder = Embedder.from_folder(folder, provider="cpu")
        vectors.append(embed_sample(embedder, sample))
        embedder.close()
    result = check(vectors[0], vectors[1])
    return result.min_cosine, result.agreement


def _matmul_ops(folder: Path) -> dict[str, list[str]]:
    """For each op type that multiplies by a weight: the weights' names (or quantized names)."""
    graph = onnx.load(str(find_model_folder(folder).onnx_path), load_external_data=False).graph
    found: dict[str, list[str]] = {}
    for node in graph.node:
        if node.op_type in ("MatMul", "MatMulInteger", "MatMulNBits") and len(node.input) > 1:
            found.setdefault(node.op_type, []).append(node.input[1])
    return found


def test_every_candidate_is_built_loaded_and_gated(tiny_qwen3, tmp_path):
    source = tmp_path / "Qwen3-tiny"
    shutil.copytree(tiny_qwen3("st"), source)  # onnx/model.onnx + external weights
    report = optimize_model(source)
    built = {c.name: c for c in report.candidates}
    assert set(built) == {"fp32-fused", "int8-matmulnbits", "int8-dynamic", "int8-smooth", "bf16"}
    assert built["fp32-fused"].note.startswith("9 RMSNorms and 4 rotary embeddings fused; ")
    for name in ("fp32-fused", "int8-matmulnbits", "int8-dynamic", "int8-smooth"):
        c = built[name]
        assert c.status in ("chosen", "passed"), c.note  # random weights have no outliers: both are safe
        assert c.min_cosine >= 0.995 and c.agreement >= 0.9 and c.mean_cosine >= c.min_cosine
        assert c.tokens_per_s > 0 and c.speed_ratio > 0  # each against fp32 timed beside it
        assert c.size_mb > 0 and c.kept_fp32 == ()
    assert report.fp32_tokens_per_s > 0
    assert built["bf16"].status == "skipped" and built["bf16"].note
    assert report.queries == 12 and report.passages > 10
    left = sorted(p.name for p in tmp_path.iterdir())
    if report.chosen == "fp32":
        assert left == ["Qwen3-tiny"] and report.output is None and "keeps using the fp32 model" in report.verdict
        return
    dest = tmp_path / "Qwen3-tiny-optimized"
    assert left == ["Qwen3-tiny", "Qwen3-tiny-optimized"] and preferred_folder(report) == dest
    winner = built[report.chosen]
    assert winner.speed_ratio > 1 and all(c.speed_ratio <= winner.speed_ratio for c in built.values() if c.passed)
    expected = {"int8-dynamic": "int8-dynamic", "int8-smooth": "int8-dynamic",
                "int8-matmulnbits": "int8-matmulnbits", "fp32-fused": "fp32"}[report.chosen]
    assert Embedder.from_folder(dest).info.quantization == expected
    saved = json.loads((dest / "qfinder_optimize.json").read_text(encoding="utf-8"))
    assert saved["chosen"] == report.chosen and saved["verdict"] == report.verdict


@pytest.mark.parametrize("name", ["int8-matmulnbits", "int8-dynamic"])
def test_each_candidate_graph_loads_and_embeds_like_fp32(tiny_qwen3, tmp_path, name):
    source = tiny_qwen3("st")
    dest = tmp_path / name
    build.copy_side_files(source, dest)
    src_onnx = find_model_folder(source).onnx_path
    if name == "int8-matmulnbits":
        build.build_matmulnbits(src_onnx, dest / "model.onnx")
    else:
        matmuls = build.weighted_matmuls(onnx.load(str(src_onnx), load_external_data=False))
        assert {m.group for m in matmuls} == {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj",
                                              "down_proj"}
        build.build_dynamic_int8(src_onnx, dest / "model.onnx", matmuls, frozenset({"q_proj", "up_proj"}))
        ops = _matmul_ops(dest)
        assert len(ops["MatMulInteger"]) == 4  # q_proj and up_proj of both layers
        assert sum("_proj" in w for w in ops["MatMul"]) == 10  # the other five projections stay fp32
    assert Embedder.from_folder(dest).info.quantization == name
    min_cosine, agreement = _regate(source, dest)
    assert min_cosine >= 0.995 and agreement >= 0.9


def test_a_candidate_below_the_gate_is_never_used(tmp_path):
    source = _with_outliers(tmp_path / "Qwen3-outliers")
    report = optimize_model(source)
    built = {c.name: c for c in report.candidates}
    nbits, dynamic = built["int8-matmulnbits"], built["int8-dynamic"]
    assert nbits.status == "failed" and (nbits.min_cosine < 0.995 or nbits.agreement < 0.9)
    # Measured, not assumed: o_proj moves the output most, so it alone stays fp32.
    assert dynamic.sensitivity[0][0] == "o_proj" and dynamic.sensitivity[0][1] > 0.005
    assert all(drop < 0.005 for _, drop in dynamic.sensitivity[1:])
    assert dynamic.kept_fp32 == ("o_proj",) and dynamic.passed and dynamic.min_cosine >= 0.995
    # behind attention, o_proj's input is out of SmoothQuant's reach: the smoothed candidate
    # needs o_proj in fp32 too (it tries every group in int8 first)
    smoothed = built["int8-smooth"]
    assert smoothed.kept_fp32 == ("o_proj",) and smoothed.passed
    assert report.chosen in ("int8-dynamic", "int8-smooth", "fp32-fused", "fp32")  # never int8-matmulnbits
    dest = tmp_path / "Qwen3-outliers-optimized"
    if report.chosen == "fp32":
        assert not dest.exists()
        return
    ops = _matmul_ops(dest)
    fp32_projections = sorted(w for w in ops["MatMul"] if "_proj" in w)
    assert "MatMulNBits" not in ops and (report.chosen == "fp32-fused" or fp32_projections == [
        "layers.0.self_attn.o_proj.weight", "layers.1.self_attn.o_proj.weight"])
    min_cosine, agreement = _regate(source, dest)
    assert min_cosine >= 0.995 and agreement >= 0.9


def test_nothing_safe_keeps_fp32_and_says_why(tiny_qwen3, tmp_path):
    source = tmp_path / "src"
    shutil.copytree(tiny_qwen3("plain"), source)
    report = optimize_model(source, min_cosine=1.01)  # no quantized model can reach this
    assert report.chosen == "fp32" and report.output is None and preferred_folder(report) == source
    assert all(c.status in ("failed", "skipped") for c in report.candidates)
    assert report.verdict.startswith("not safe on this model") and "keeps using the fp32 model" in report.verdict
    assert sorted(p.name for p in tmp_path.iterdir()) == ["src"]  # every candidate deleted


def test_optimize_refuses_an_already_quantized_model(tiny_qwen3, tmp_path):
    quantized = tmp_path / "q8"
    build.copy_side_files(tiny_qwen3("plain"), quantized)
    build.build_matmulnbits(tiny_qwen3("plain") / "model.onnx", quantized / "model.onnx")
    with pytest.raises(ModelError, match="already int8-matmulnbits"):
        optimize_model(quantized)


def test_optimize_refuses_an_existing_output(tiny_qwen3, tmp_path):
    (tmp_path / "taken").mkdir()
    with pytest.raises(ModelError, match="already exists"):
        optimize_model(tiny_qwen3("plain"), output=tmp_path / "taken")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken"]


def test_outlier_model_is_the_same_function_in_fp32(tiny_qwen3, tmp_path):
    """The injected outliers change no fp32 vector: only precision can tell the models apart."""
    sample = load_sample()
    plain = Embedder.from_folder(tiny_qwen3("plain"), provider="cpu").embed_documents(list(sample.passages))
    shifted = Embedder.from_folder(_with_outliers(tmp_path / "o"), provider="cpu").embed_documents(
        list(sample.passages))
    assert np.min(np.sum(plain * shifted, axis=1)) > 0.9999


def test_a_graph_without_node_names_or_projection_names_is_quantized_as_one_group(toy_folder, tmp_path):
    source = toy_folder("toy", kind="plain", slow_layers=2)  # nameless nodes, weights named up/eye/down
    graph = onnx.load(str(source / "model.onnx"))
    assert any(not node.name for node in graph.graph.node)
    assert {m.group for m in build.weighted_matmuls(graph)} == {"matmul"}
    report = optimize_model(source, output=tmp_path / "out")
    dynamic = report.candidate("int8-dynamic")
    assert dynamic.min_cosine is not None, dynamic.note  # built, loaded and gated
    assert dynamic.kept_fp32 == () and dynamic.sensitivity == ()  # one group: all or nothing
    assert not (tmp_path / "out.partial").exists()


def test_a_fused_copy_that_cannot_be_built_leaves_the_others_built_from_the_source(tiny_qwen3, tmp_path,
                                                                                   monkeypatch):
    from qfinder.core.model import optimize_fuse

    def broken(src, dst, max_positions):
        raise OSError("disk full")

    monkeypatch.setattr(optimize_fuse, "fused_copy", broken)
    source = tmp_path / "Qwen3-tiny"
    shutil.copytree(tiny_qwen3("plain"), source)
    report = optimize_model(source)
    fused = report.candidate("fp32-fused")
    assert fused.status == "failed" and "disk full" in fused.note
    assert all(report.candidate(name).passed for name in ("int8-matmulnbits", "int8-dynamic", "int8-smooth"))
    if report.chosen != "fp32":  # the int8 copy kept was built from the source's unfused graph
        ops = {node.op_type for node in onnx.load(str(tmp_path / "Qwen3-tiny-optimized" / "model.onnx"),
                                                  load_external_data=False).graph.node}
        assert "ReduceMean" in ops and not {"SimplifiedLayerNormalization", "RotaryEmbedding"} & ops
