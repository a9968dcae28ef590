"""`qfinder embed` and `qfinder models` from outside (subprocess for embed), and the registry."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

from qfinder.cli import run
from qfinder.core.errors import ModelError
from qfinder.core.model.embedder import Embedder
from qfinder.core.model.registry import REGISTRY, find_spec, spec_for_folder_name


def test_embed_cli_prints_one_json_list_per_text(tiny_qwen3):
    folder = tiny_qwen3("kv")
    env = {**os.environ, "ORT_DISABLE_TELEMETRY": "1"}
    done = subprocess.run([sys.executable, "-m", "qfinder", "embed", "--model", str(folder), "--query",
                           "--dim", "64", "where is the river", "blue sky"],
                          capture_output=True, text=True, env=env, timeout=120, check=True)
    vectors = np.array(json.loads(done.stdout), dtype=np.float32)
    expected = Embedder.from_folder(folder).embed_queries(["where is the river", "blue sky"], dim=64)
    assert vectors.shape == (2, 64) and np.allclose(vectors, expected, atol=1e-5)


def test_embed_cli_errors_are_one_line(tmp_path, capsys):
    assert run(["embed", "--model", str(tmp_path / "missing"), "hello"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("qfinder: Model folder") and "Traceback" not in err


def test_models_list_and_optimize_cli(tiny_qwen3, tmp_path, capsys):
    assert run(["models", "list"]) == 0
    listing = capsys.readouterr().out
    assert "Qwen3-Embedding-0.6B" in listing and "sigalr/Qwen3-Embedding-4B-ONNX-ST" in listing
    source = tmp_path / "m"
    shutil.copytree(tiny_qwen3("plain"), source)
    assert run(["models", "optimize", str(source), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["kept"] and report["min_cosine"] >= 0.995 and (tmp_path / "m-int8" / "model.onnx").is_file()
    assert report["use"] == str(tmp_path / ("m-int8" if report["speed_ratio"] >= 1 else "m"))
    assert run(["models", "optimize", str(source), "--output", str(tmp_path / "again")]) == 0
    printed = capsys.readouterr().out
    saved = json.loads((tmp_path / "again" / "qfinder_optimize.json").read_text(encoding="utf-8"))
    assert f"verdict:      {saved['verdict']}\n" in printed and f"({saved['speed_ratio']:.2f}× fp32)" in printed
    assert f"{saved['fp32_tokens_per_s']:,.0f} tokens/s" in printed
    faster = saved["speed_ratio"] >= 1
    assert f"use:          {tmp_path / ('again' if faster else 'm')}\n" in printed


def test_registry_entries():
    sizes = {spec.name: (spec.full_dim, spec.min_dim) for spec in REGISTRY}
    assert sizes["Qwen3-Embedding-0.6B"] == (1024, 32)
    assert sizes["Qwen3-Embedding-4B"] == (2560, 32)
    assert sizes["Qwen3-Embedding-8B"] == (4096, 32)
    seed = find_spec("sigalr/Qwen3-Embedding-4B-ONNX-ST")
    assert seed.variant("fp32").patterns == ("onnx/model.onnx", "onnx/model.onnx_data")
    assert {v.name for v in find_spec("Qwen3-Embedding-0.6B").variants} == {"fp32", "fp16", "q4", "int8"}
    assert spec_for_folder_name("Qwen3-Embedding-4B-ONNX-ST-int8") is seed
    with pytest.raises(ModelError):
        find_spec("Qwen3-Embedding-0.6B").variant("q2")
    with pytest.raises(Exception):  # noqa: B017  (frozen dataclass)
        seed.full_dim = 1  # type: ignore[misc]
