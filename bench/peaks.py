"""This CPU's compute peaks, from its flags and a clock, and onnxruntime's own MatMul speed
measured now — the baselines the engine benches compare against.

Peaks per core and cycle: fp32 = 2 FMA pipes x lanes x 2 (AVX-512: 16 lanes, AVX2: 8); int8 =
AMX (amx_int8: one TMUL doing 1,024 byte products a cycle = 2,048 OP), else 2 VNNI pipes x 4 byte
products per 32-bit lane x lanes x 2 (AVX-512 VNNI: 256 OP/cycle, AVX-VNNI on 256 bits: 128; AVX2
without VNNI, vpmaddubsw + vpmaddwd: about 64). Zen 5 runs both 512-bit pipes at full width; on
CPUs that split AVX-512 into two 256-bit halves (Zen 4) the true peak is half, and Xeons with one
512-bit FMA unit have half the fp32 peak. The clock cannot be read inside a VM (/proc/cpuinfo
shows the TSC rate), so it is assumed: on AMD family 26 (Zen 5) the all-core boost that makes the
2-core VM's int8 peak the 2,081 GOP/s the design notes measure against; elsewhere the kernel's
cpuinfo_max_freq, or in a VM (which has none) the rate /proc/cpuinfo shows, a nominal clock: the
true peak may be higher. Pass --ghz to say otherwise.
These peaks are ceilings on paper; onnxruntime's own kernels are the attainable ones.

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

ZEN5_GHZ = 4.065


def _cpuinfo_lines() -> list[str]:
    try:
        return Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return []


def _first(lines: list[str], key: str) -> str | None:
    return next((line.split(":", 1)[1].strip() for line in lines if line.split(":", 1)[0].strip() == key), None)


def cpu_model_and_flags() -> tuple[str, set[str]]:
    lines = _cpuinfo_lines()
    return _first(lines, "model name") or "unknown", set((_first(lines, "flags") or "").split())


def assumed_ghz() -> float:
    """The clock the peaks assume here (see the module's notes)."""
    lines = _cpuinfo_lines()
    if _first(lines, "vendor_id") == "AuthenticAMD" and _first(lines, "cpu family") == "26":
        return ZEN5_GHZ
    try:  # bare metal: the highest clock the kernel knows; "cpu MHz" there is each core's current one
        return int(Path("/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq").read_text()) / 1e6
    except (OSError, ValueError):
        pass
    shown = [float(line.split(":", 1)[1]) for line in lines if line.split(":", 1)[0].strip() == "cpu MHz"]
    return max(shown) / 1000 if shown else ZEN5_GHZ


def peaks(flags: set[str], ghz: float | None = None, cores: int | None = None) -> tuple[float, float]:
    """(fp32 FLOP/s, int8 OP/s) this CPU can reach at most, under the assumptions above."""
    cores = cores or os.cpu_count() or 1
    ghz = ghz or assumed_ghz()
    wide = "avx512f" in flags
    fp32_per_cycle = 2 * (16 if wide else 8) * 2
    if "amx_int8" in flags:
        int8_per_cycle = 2048
    elif "avx512_vnni" in flags and wide:
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
