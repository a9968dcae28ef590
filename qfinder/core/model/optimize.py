"""Make a CPU-friendly 8-bit copy of an fp32 model, and keep it only if it matches fp32.

Weight-only, block-wise MatMulNBits (8 bits, block 128, symmetric, accuracy_level 4 = int8
compute on CPU). Plain `quantize_dynamic` is never used: it breaks Qwen3 (cosine to fp32 down to
0.64, design.md §3). The copy is written beside the source as `<name>-int8`, embedded on a sample
of texts next to the fp32 model, and deleted again unless every vector's cosine to its fp32
counterpart is at least `min_cosine` (default 0.995). The figures are returned and saved in
`qfinder_optimize.json` inside the new folder.

8-bit is not faster everywhere: int8 matmuls pay off on CPUs with VNNI/AMX (or ARM dot-product)
instructions; on a plain AVX2 CPU the 8-bit model measured 0.6-0.9x the speed of fp32. So the
same sample texts are also timed with both models (one warm-up, best of two runs), and the report
carries tokens/s, their ratio and a plain verdict. A fidelity-checked copy that is not faster is
still kept (it needs a quarter of the RAM), but `preferred_folder(report)` then picks fp32.
"""

from __future__ import annotations

import json
import logging
import shutil
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import onnx

from qfinder.core.errors import ModelError
from qfinder.core.model import runtime  # noqa: F401  (sets ORT_DISABLE_TELEMETRY before onnxruntime loads)
from qfinder.core.model.embedder import Embedder
from qfinder.core.model.folder import find_model_folder

log = logging.getLogger(__name__)

SAMPLE_TEXTS = (
    "How do I reset my router to factory settings?",
    "The quarterly report shows revenue growth of 12 percent, driven by strong demand in Asia.",
    "def quicksort(xs):\n    return xs if len(xs) < 2 else quicksort([x for x in xs[1:] if x < xs[0]])",
    "Photosynthesis converts light energy into chemical energy stored in glucose.",
    "今天下午三点在会议室讨论新产品的发布计划。",
    "Die Bahn hat heute wegen eines Sturms viele Verbindungen gestrichen.",
    "Invoice 2024-0117: 3 x USB-C cable, 1 x monitor stand, total 84.50 EUR.",
    "She kept the letters in a tin box under the stairs for forty years.",
    "Error: permission denied while opening /var/log/syslog",
    "La réunion est reportée à jeudi prochain en raison des grèves.",
    "A recipe for bread: flour, water, salt and yeast; knead, rest, bake at 230 degrees.",
    "Quarterly tax filing deadline",
)
MIN_COSINE = 0.995
TIMED_RUNS = 2  # after one warm-up run; the best run counts
# /proc/cpuinfo flags for instructions that make int8 matmuls fast, and how to name them.
_INT8_FLAGS = {"avx512_vnni": "AVX-512 VNNI", "avx_vnni": "AVX-VNNI", "amx_int8": "AMX-INT8",
               "asimddp": "ARM dot-product", "i8mm": "ARM int8 matmul"}
_EXTERNAL_LIMIT = 1_500_000_000  # protobuf files cannot exceed 2 GB; keep weights outside above this


@dataclass(frozen=True)
class OptimizeReport:
    source: str
    output: str
    kept: bool
    min_cosine: float
    mean_cosine: float
    texts: int
    size_before_mb: float
    size_after_mb: float
    fp32_seconds: float  # best timed run over the sample texts (after a warm-up)
    int8_seconds: float
    quantize_seconds: float
    fp32_tokens_per_s: float
    int8_tokens_per_s: float
    speed_ratio: float  # int8 tokens/s divided by fp32 tokens/s; >= 1.0 means the 8-bit model is faster
    cpu_int8: str  # int8 instructions this CPU has, "none", or "unknown" (not Linux)
    verdict: str  # one plain sentence: faster or not, and which model qfinder uses

    @property
    def faster(self) -> bool:
        return self.speed_ratio >= 1.0


def preferred_folder(report: OptimizeReport) -> Path:
    """The folder to use after optimizing: the 8-bit one only when it is faster than fp32 here."""
    return Path(report.output if report.faster else report.source)


def optimize_model(source: str | Path, output: str | Path | None = None, min_cosine: float = MIN_COSINE,
                   sample_texts: tuple[str, ...] = SAMPLE_TEXTS) -> OptimizeReport:
    folder = find_model_folder(source)
    if folder.quantization != "fp32":
        raise ModelError(f"{folder.onnx_path} is already {folder.quantization}.",
                         "Optimize the fp32 model (model.onnx without a suffix) instead.")
    dest = Path(output) if output else folder.root.parent / f"{folder.root.name}-int8"
    if dest.exists():
        raise ModelError(f"{dest} already exists.", "Remove it or choose another --output folder.")
    work = dest.with_name(dest.name + ".partial")
    shutil.rmtree(work, ignore_errors=True)
    try:
        started = time.perf_counter()
        _quantize(folder.onnx_path, work / "model.onnx")
        quantize_seconds = time.perf_counter() - started
        _copy_side_files(folder.root, work)
        report = _compare(folder.root, work, dest, sample_texts, min_cosine, quantize_seconds)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    if not report.kept:
        shutil.rmtree(work, ignore_errors=True)
        raise ModelError(f"The 8-bit model does not match fp32 closely enough (min cosine {report.min_cosine:.4f} "
                         f"< {min_cosine}); it was not kept.", "Keep using the fp32 model on this machine.")
    (work / "qfinder_optimize.json").write_text(json.dumps(asdict(report), indent=2), encoding="utf-8")
    work.rename(dest)
    log.info("optimized %s -> %s: min cosine %.5f; %s", folder.root, dest, report.min_cosine, report.verdict)
    return report


def _quantize(src: Path, dst: Path) -> None:
    from onnxruntime.quantization.matmul_nbits_quantizer import MatMulNBitsQuantizer

    # The quantizer logs every node at INFO on its own handler; keep its warnings only.
    logging.getLogger("onnxruntime.quantization.matmul_nbits_quantizer").setLevel(logging.WARNING)
    dst.parent.mkdir(parents=True)
    model = onnx.load(str(src))  # with its external weights
    quantizer = MatMulNBitsQuantizer(model, bits=8, block_size=128, is_symmetric=True, accuracy_level=4)
    quantizer.process()
    quantized = quantizer.model.model
    if not any(node.op_type == "MatMulNBits" for node in quantized.graph.node):
        raise ModelError(f"No MatMul weights in {src} could be quantized.",
                         "This graph has no constant MatMul weights; keep using it as it is.")
    weights = sum(len(t.raw_data) for t in quantized.graph.initializer)
    onnx.save_model(quantized, str(dst), save_as_external_data=weights > _EXTERNAL_LIMIT,
                    all_tensors_to_one_file=True, location="model.onnx_data")


def _copy_side_files(root: Path, work: Path) -> None:
    """Tokenizer, configs and sentence-transformers folders; not the ONNX files."""
    for item in root.iterdir():
        if item.name in ("onnx", ".cache") or item.suffix in (".onnx", ".onnx_data", ".part"):
            continue
        if item.name.endswith(".onnx_data") or item.name == "qfinder_optimize.json":
            continue
        if item.is_dir():
            shutil.copytree(item, work / item.name)
        else:
            shutil.copy2(item, work / item.name)
    if not (work / "tokenizer.json").exists():
        shutil.copy2(find_model_folder(root).tokenizer_path, work / "tokenizer.json")


def _compare(source: Path, work: Path, dest: Path, texts: tuple[str, ...], min_cosine: float,
             quantize_seconds: float) -> OptimizeReport:
    reference, candidate = Embedder.from_folder(source, provider="cpu"), Embedder.from_folder(work, provider="cpu")
    try:
        fp32, fp32_seconds, fp32_speed = _embed_and_time(reference, texts)
        int8, int8_seconds, int8_speed = _embed_and_time(candidate, texts)
    finally:
        reference.close()
        candidate.close()
    cosines = (fp32 * int8).sum(axis=1)
    ratio = int8_speed / fp32_speed
    cpu_int8 = cpu_int8_support()
    return OptimizeReport(
        source=str(source), output=str(dest), kept=bool(cosines.min() >= min_cosine),
        min_cosine=round(float(cosines.min()), 6), mean_cosine=round(float(cosines.mean()), 6), texts=len(texts),
        size_before_mb=round(_size_mb(find_model_folder(source).onnx_path), 1),
        size_after_mb=round(_size_mb(work / "model.onnx"), 1),
        fp32_seconds=round(fp32_seconds, 4), int8_seconds=round(int8_seconds, 4),
        quantize_seconds=round(quantize_seconds, 2), fp32_tokens_per_s=round(fp32_speed, 1),
        int8_tokens_per_s=round(int8_speed, 1), speed_ratio=round(ratio, 3), cpu_int8=cpu_int8,
        verdict=speed_verdict(ratio, cpu_int8))


def _embed_and_time(embedder: Embedder, texts: tuple[str, ...]) -> tuple[np.ndarray, float, float]:
    """Vectors for the fidelity check (this run is also the warm-up), then the best of TIMED_RUNS
    document runs over the same texts: (vectors, seconds, tokens per second)."""
    documents = embedder.embed_documents(list(texts))
    queries = embedder.embed_queries(list(texts[:4]))
    best, tokens = float("inf"), 0
    for _ in range(TIMED_RUNS):
        started = time.perf_counter()
        tokens = embedder.embed_documents_with_stats(list(texts)).stats.tokens
        best = min(best, time.perf_counter() - started)
    return np.concatenate([documents, queries]), best, tokens / max(best, 1e-9)


def cpu_int8_support(cpuinfo: Path = Path("/proc/cpuinfo")) -> str:
    """The int8-friendly instructions this CPU reports ("AVX-512 VNNI, AVX-VNNI"), "none", or
    "unknown" where there is no /proc/cpuinfo to read (macOS, Windows)."""
    if not sys.platform.startswith("linux"):
        return "unknown"
    try:
        text = cpuinfo.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "unknown"
    flags: set[str] = set()
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("flags", "Features"):  # x86 / ARM
            flags.update(value.split())
    found = [name for flag, name in _INT8_FLAGS.items() if flag in flags]
    return ", ".join(found) or "none"


def speed_verdict(ratio: float, cpu_int8: str) -> str:
    """One sentence for people: is the 8-bit model faster here, and which model qfinder uses."""
    if ratio >= 1.0:
        return f"faster on this CPU ({ratio:.2f}× fp32); qfinder uses the 8-bit model"
    why = {"none": " (this CPU has no VNNI/AMX int8 instructions, which 8-bit models need to be fast)",
           "unknown": ""}.get(cpu_int8, f" (even with {cpu_int8})")
    return f"not faster on this CPU ({ratio:.2f}× fp32){why}; qfinder keeps using the fp32 model"


def _size_mb(onnx_path: Path) -> float:
    """The ONNX file plus its external weights (model.onnx_data beside it)."""
    files = [onnx_path, *onnx_path.parent.glob(onnx_path.name + "_data*"), *onnx_path.parent.glob(onnx_path.name + ".data")]
    return sum(f.stat().st_size for f in files if f.is_file()) / 1e6
