"""8-bit MatMulNBits optimisation: kept only when it matches fp32 (min cosine >= 0.995)."""

from __future__ import annotations

import json
import shutil

import onnx
import pytest

from qfinder.core.errors import ModelError
from qfinder.core.model import Embedder
from qfinder.core.model.optimize import optimize_model


def test_optimize_makes_a_matching_8bit_model(tiny_qwen3, tmp_path):
    source = tmp_path / "Qwen3-tiny"
    shutil.copytree(tiny_qwen3("st"), source)
    report = optimize_model(source)
    dest = tmp_path / "Qwen3-tiny-int8"
    assert report.kept and report.output == str(dest) and report.min_cosine >= 0.995
    graph = onnx.load(str(dest / "model.onnx"), load_external_data=False).graph
    nbits = [n for n in graph.node if n.op_type == "MatMulNBits"]
    assert nbits and all({a.name: a.i for a in n.attribute}["bits"] == 8 for n in nbits)
    assert all({a.name: a.i for a in n.attribute}["block_size"] == 128 for n in nbits)
    assert not any(n.op_type in ("MatMulInteger", "DynamicQuantizeLinear") for n in graph.node)
    saved = json.loads((dest / "qfinder_optimize.json").read_text(encoding="utf-8"))
    assert saved["min_cosine"] == report.min_cosine
    emb = Embedder.from_folder(dest)
    assert emb.info.quantization == "int8-matmulnbits" and emb.info.family == "qwen3"


def test_optimize_refuses_to_keep_a_model_below_the_threshold(tiny_qwen3, tmp_path):
    source = tmp_path / "src"
    shutil.copytree(tiny_qwen3("plain"), source)
    with pytest.raises(ModelError, match="not kept"):
        optimize_model(source, min_cosine=1.01)  # no quantized model can reach this
    assert sorted(p.name for p in tmp_path.iterdir()) == ["src"]


def test_optimize_refuses_an_already_quantized_model(tiny_qwen3, tmp_path):
    source = tmp_path / "src"
    shutil.copytree(tiny_qwen3("plain"), source)
    optimize_model(source, output=tmp_path / "q8")
    with pytest.raises(ModelError, match="already int8-matmulnbits"):
        optimize_model(tmp_path / "q8")
