"""`qfinder embed` and `qfinder models` from outside (subprocess for embed), and the registry."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

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
    assert {c["name"] for c in report["candidates"]} == {"fp32-fused", "int8-matmulnbits", "int8-dynamic", "int8-smooth", "bf16"}
    chosen = report["chosen"] != "fp32"
    assert report["use"] == str(tmp_path / ("m-optimized" if chosen else "m"))
    assert (tmp_path / "m-optimized" / "model.onnx").is_file() == chosen
    assert run(["models", "optimize", str(source), "--output", str(tmp_path / "again")]) == 0
    printed = capsys.readouterr().out
    lines = printed.splitlines()
    assert lines[0].split() == ["candidate", "×", "fp32", "tokens/s", "min", "cos", "mean", "cos", "top-10", "size",
                                "result"]
    assert lines[1].startswith("fp32") and lines[1].endswith("reference")
    rows = {line.split()[0]: line for line in lines[2:7]}
    assert set(rows) == {"fp32-fused", "int8-matmulnbits", "int8-dynamic", "int8-smooth", "bf16"} and "skipped: " in rows["bf16"]
    verdict = next(line for line in lines if line.startswith("verdict:")).removeprefix("verdict:").strip()
    use = Path(next(line for line in lines if line.startswith("use:")).removeprefix("use:").strip())
    if verdict.startswith("faster"):
        saved = json.loads((use / "qfinder_optimize.json").read_text(encoding="utf-8"))
        assert use == tmp_path / "again" and saved["verdict"] == verdict
        assert f"{saved['fp32_tokens_per_s']:,.0f}" in lines[1] and "chosen: " in rows[saved["chosen"]]
    else:
        assert use == source and not (tmp_path / "again").exists()


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
