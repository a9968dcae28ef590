"""This CPU's compute peaks, from its flags and an assumed clock, and onnxruntime's own MatMul speed
measured now — the baselines the engine benches compare against.

Peaks per core and cycle: fp32 = 2 FMA pipes x lanes x 2 (AVX-512: 16 lanes, AVX2: 8); int8 =
2 VNNI pipes x 4 byte products per 32-bit lane x lanes x 2 (AVX-512 VNNI: 256 OP/cycle, AVX-VNNI
on 256 bits: 128; AVX2 without VNNI, vpmaddubsw + vpmaddwd: about 64). Zen 5 runs both 512-bit
pipes at full width; on CPUs that split AVX-512 into two 256-bit halves (Zen 4) the true peak is
half. The clock cannot be read inside a VM (/proc/cpuinfo shows the TSC rate), so it is assumed:
DEFAULT_GHZ is the all-core boost that makes this 2-core Zen 5 VM's int8 peak the 2,081 GOP/s the
design notes measure against; pass --ghz for another machine.

The measured baseline is an onnxruntime MatMul (fp32) and MatMulInteger (int8) with the engine's
session options, in the same process as the model runs: numpy's sgemm is no baseline here, since
with OPENBLAS_CORETYPE set (as the test environment does) OpenBLAS runs a slower kernel.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
from onnx import TensorProto, helper, numpy_helper

from qfinder.core.model.runtime import ort, session_options

DEFAULT_GHZ = 4.065


def cpu_model_and_flags() -> tuple[str, set[str]]:
    try:
        info = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "unknown", set()
    lines = info.splitlines()
    model = next((line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")), "unknown")
    flags = next((set(line.split(":", 1)[1].split()) for line in lines if line.startswith("flags")), set())
    return model, flags


def peaks(flags: set[str], ghz: float = DEFAULT_GHZ, cores: int | None = None) -> tuple[float, float]:
    """(fp32 FLOP/s, int8 OP/s) this CPU can reach at most, under the assumptions above."""
    cores = cores or os.cpu_count() or 1
    wide = "avx512f" in flags
    fp32_per_cycle = 2 * (16 if wide else 8) * 2
    if "avx512_vnni" in flags and wide:
        int8_per_cycle = 256
    elif "avx512_vnni" in flags or "avx_vnni" in flags:
        int8_per_cycle = 128
    else:
        int8_per_cycle = 64
    return cores * fp32_per_cycle * ghz * 1e9, cores * int8_per_cycle * ghz * 1e9


def ort_matmul_rates(m: int = 2048, k: int = 1024, n: int = 3072, repeats: int = 5) -> tuple[float, float]:
    """(fp32 FLOP/s, int8 OP/s) of one onnxruntime MatMul / MatMulInteger of the 0.6B MLP's shape."""
    rng = np.random.default_rng(0)
    fp32 = _rate(helper.make_node("MatMul", ["x", "w"], ["y"]),
                 [numpy_helper.from_array(rng.standard_normal((k, n), dtype=np.float32), "w")],
                 rng.standard_normal((m, k), dtype=np.float32), TensorProto.FLOAT, TensorProto.FLOAT, repeats)
    int8 = _rate(helper.make_node("MatMulInteger", ["x", "w", "zero"], ["y"]),
                 [numpy_helper.from_array(rng.integers(-127, 128, (k, n), dtype=np.int8), "w"),
                  numpy_helper.from_array(np.array(128, np.uint8), "zero")],
                 rng.integers(0, 256, (m, k), dtype=np.uint8), TensorProto.UINT8, TensorProto.INT32, repeats)
    return fp32, int8


def _rate(node: object, weights: list, x: np.ndarray, x_type: int, y_type: int, repeats: int) -> float:
    m, k = x.shape
    n = weights[0].dims[1]
    graph = helper.make_graph([node], "baseline", [helper.make_tensor_value_info("x", x_type, [m, k])],
                              [helper.make_tensor_value_info("y", y_type, [m, n])], weights)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    session = ort.InferenceSession(model.SerializeToString(), sess_options=session_options(),
                                   providers=["CPUExecutionProvider"])
    session.run(None, {"x": x})
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        session.run(None, {"x": x})
        best = min(best, time.perf_counter() - started)
    return 2 * m * k * n / best
