"""8-bit MatMulNBits optimisation: kept only when it matches fp32 (min cosine >= 0.995)."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import onnx
import pytest

from qfinder.core.errors import ModelError
from qfinder.core.model.embedder import Embedder
from qfinder.core.model.optimize import (
    OptimizeReport,
    cpu_int8_support,
    optimize_model,
    preferred_folder,
    speed_verdict,
)


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
    assert report.fp32_tokens_per_s > 0 and report.int8_tokens_per_s > 0
    assert report.speed_ratio == pytest.approx(report.int8_tokens_per_s / report.fp32_tokens_per_s, rel=0.01)
    assert report.verdict.startswith("faster" if report.speed_ratio >= 1 else "not faster")
    assert f"{report.speed_ratio:.2f}× fp32" in report.verdict
    saved = json.loads((dest / "qfinder_optimize.json").read_text(encoding="utf-8"))
    assert saved["min_cosine"] == report.min_cosine
    assert {k: saved[k] for k in ("fp32_tokens_per_s", "int8_tokens_per_s", "speed_ratio", "verdict")} == {
        "fp32_tokens_per_s": report.fp32_tokens_per_s, "int8_tokens_per_s": report.int8_tokens_per_s,
        "speed_ratio": report.speed_ratio, "verdict": report.verdict}
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


def _report(speed_ratio: float) -> OptimizeReport:
    return OptimizeReport(
        source="/models/Qwen3", output="/models/Qwen3-int8", kept=True, min_cosine=0.998, mean_cosine=0.999,
        texts=16, size_before_mb=2400.0, size_after_mb=640.0, fp32_seconds=1.0, int8_seconds=1.0 / speed_ratio,
        quantize_seconds=30.0, fp32_tokens_per_s=1000.0, int8_tokens_per_s=1000.0 * speed_ratio,
        speed_ratio=speed_ratio, cpu_int8="none", verdict=speed_verdict(speed_ratio, "none"))


def test_the_8bit_folder_is_used_only_when_it_is_faster():
    assert preferred_folder(_report(0.58)) == Path("/models/Qwen3")
    assert preferred_folder(_report(0.999)) == Path("/models/Qwen3")
    assert preferred_folder(_report(1.0)) == Path("/models/Qwen3-int8")
    assert preferred_folder(_report(1.7)) == Path("/models/Qwen3-int8")


def test_the_speed_verdict_says_which_model_is_used():
    slow = speed_verdict(0.58, "none")
    assert slow.startswith("not faster on this CPU (0.58× fp32)") and "no VNNI" in slow
    assert slow.endswith("qfinder keeps using the fp32 model")
    assert "even with AVX-512 VNNI" in speed_verdict(0.9, "AVX-512 VNNI")
    assert speed_verdict(1.42, "AVX-VNNI") == "faster on this CPU (1.42× fp32); qfinder uses the 8-bit model"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/cpuinfo-style flags")
def test_cpu_int8_support_reads_the_cpu_flags(tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nflags\t\t: fpu sse2 avx2 fma avx512f avx512_vnni\n\n"
                       "processor\t: 1\nflags\t\t: fpu sse2 avx2 fma avx512f avx512_vnni amx_int8\n")
    assert cpu_int8_support(cpuinfo) == "AVX-512 VNNI, AMX-INT8"
    cpuinfo.write_text("processor\t: 0\nflags\t\t: fpu sse2 avx2 fma\n")
    assert cpu_int8_support(cpuinfo) == "none"
    assert cpu_int8_support(tmp_path / "missing") == "unknown"
