"""Make the fastest copy of an fp32 model that still embeds like it, on this machine, for this model.

Candidates: fp32 with each RMSNorm and rotary embedding one fused op (optimize_fuse.py; when it
passes, the others are built from it), then (optimize_candidates.py) 8-bit MatMulNBits, dynamic
int8 with the groups that measurably hurt kept in fp32 (optimize_sensitivity.py), dynamic int8 of the graph with
SmoothQuant-style scales folded in (optimize_smooth.py), and bf16 where onnxruntime can run it.
Each is built in `<dest>.partial/<name>`, gated against fp32 on real text (optimize_gate.py: every
text's cosine >= 0.995 and top-10 retrieval agreement >= 0.9), and the ones that pass are timed
beside fp32 on the same batches (optimize_timing.py). The fastest that passes and beats fp32 is
moved to `dest` (default `<name>-optimized` beside the source), with the report in
`qfinder_optimize.json`; every other candidate is deleted. When none is safe, or none is faster
here (int8 needs VNNI/AMX-class instructions to pay off), no folder is written and the report's
verdict says qfinder keeps fp32 and why. `preferred_folder(report)` is the folder to load.
"""

from __future__ import annotations

import json
import logging
import shutil
import statistics
import time
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import onnx

from qfinder.core.errors import ModelError
from qfinder.core.model import optimize_candidates as build
from qfinder.core.model import optimize_fuse as fuse
from qfinder.core.model import optimize_smooth as smooth
from qfinder.core.model import runtime  # noqa: F401  (sets ORT_DISABLE_TELEMETRY before onnxruntime loads)
from qfinder.core.model.embedder import Embedder
from qfinder.core.model.folder import ModelFolder, find_model_folder
from qfinder.core.model.optimize_gate import (
    MIN_AGREEMENT,
    MIN_COSINE,
    GateResult,
    GateSample,
    SampleVectors,
    check,
    embed_sample,
    load_sample,
)
from qfinder.core.model.optimize_report import (
    FAILED,
    FP32,
    PASSED,
    CandidateResult,
    OptimizeReport,
    choose,
    mark_choice,
    then_note,
    verdict,
)
from qfinder.core.model.optimize_sensitivity import search
from qfinder.core.model.optimize_timing import (
    cpu_flags,
    cpu_int8_support,
    tokens_per_second,
)

log = logging.getLogger(__name__)

__all__ = ["MIN_AGREEMENT", "MIN_COSINE", "OptimizeReport", "optimize_model", "preferred_folder"]


# SmoothQuant's scales are measured on half of the gate sample, so the gate flatters them: on the
# 0.6B architecture the smoothed int8 passed the sample at min cosine 0.9955 and measured 0.9940
# on cisi chunks it never saw. It must clear the bar by this much more than the other candidates.
FITTED_MARGIN = 0.002


class _Gate:
    """The fp32 reference vectors and thresholds every candidate folder is checked against."""

    def __init__(self, sample: GateSample, reference: SampleVectors, min_cosine: float, min_agreement: float) -> None:
        self.sample, self.reference = sample, reference
        self.min_cosine, self.min_agreement = min_cosine, min_agreement

    def folder(self, path: Path, what: str, margin: float = 0.0) -> GateResult:
        """`margin` raises the cosine bar for a candidate fitted to part of the sample itself."""
        embedder = Embedder.from_folder(path, provider="cpu")
        try:
            result = check(self.reference, embed_sample(embedder, self.sample), self.min_cosine + margin,
                           self.min_agreement)
        finally:
            embedder.close()
        # Optimizing a real model takes minutes: say what each step found as it goes.
        log.info("%s: min cosine %.5f, mean %.5f, top-10 agreement %.2f -> %s", what, result.min_cosine,
                 result.mean_cosine, result.agreement, "passes" if result.passed else "fails")
        return result


def preferred_folder(report: OptimizeReport) -> Path:
    """The folder to use after optimizing: the chosen candidate's, or the fp32 source."""
    return Path(report.output or report.source)


def optimize_model(source: str | Path, output: str | Path | None = None, min_cosine: float = MIN_COSINE,
                   min_agreement: float = MIN_AGREEMENT, sample: GateSample | None = None) -> OptimizeReport:
    folder = find_model_folder(source)
    if folder.quantization != "fp32":
        raise ModelError(f"{folder.onnx_path} is already {folder.quantization}.",
                         "Optimize the fp32 model (model.onnx without a suffix) instead.")
    dest = Path(output) if output else folder.root.parent / f"{folder.root.name}-optimized"
    if dest.exists():
        raise ModelError(f"{dest} already exists.", "Remove it or choose another --output folder.")
    work = dest.with_name(dest.name + ".partial")
    shutil.rmtree(work, ignore_errors=True)
    try:
        report = _run(folder, work, dest, sample or load_sample(), min_cosine, min_agreement)
        if report.output is not None:
            chosen = work / report.chosen
            (chosen / "qfinder_optimize.json").write_text(json.dumps(asdict(report), indent=2), encoding="utf-8")
            chosen.rename(dest)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    log.info("optimized %s: %s", folder.root, report.verdict)
    return report


def _run(folder: ModelFolder, work: Path, dest: Path, sample: GateSample, min_cosine: float,
         min_agreement: float) -> OptimizeReport:
    reference = Embedder.from_folder(folder.root, provider="cpu")
    try:
        gate = _Gate(sample, embed_sample(reference, sample), min_cosine, min_agreement)
        flags = cpu_flags()
        fused, base = _fused_fp32(folder, work, gate, reference.info.max_tokens)
        dynamic = _dynamic_int8(base, work, gate)
        candidates = [fused, _matmulnbits(base, work, gate), dynamic, _smoothed_int8(base, work, gate, dynamic),
                      CandidateResult("bf16", "bfloat16 weights and activations",
                                      note=build.bf16_skip_reason(flags or set()))]
        candidates, fp32_speed = _timed(reference, candidates, work, sample)
    finally:
        reference.close()
    cpu_int8 = cpu_int8_support(flags)
    chosen = choose(candidates)
    return OptimizeReport(
        source=str(folder.root), output=None if chosen == FP32 else str(dest), chosen=chosen,
        verdict=verdict(candidates, chosen, cpu_int8), fp32_tokens_per_s=round(fp32_speed, 1), cpu_int8=cpu_int8,
        min_cosine=min_cosine, min_agreement=min_agreement, queries=len(sample.queries),
        passages=len(sample.passages), candidates=tuple(mark_choice(candidates, chosen)))


def _fused_fp32(folder: ModelFolder, work: Path, gate: _Gate,
                max_tokens: int) -> tuple[CandidateResult, ModelFolder]:
    """fp32 with each RMSNorm and rotary embedding one fused op (optimize_fuse.py), and the folder
    every other candidate is built from: this one when it passes the gate, so they all run the
    fused ops too. `max_tokens`: the longest input the engine feeds this model."""
    name, description = "fp32-fused", "fp32 weights, each RMSNorm and rotary embedding one fused op"
    where, started = work / name, time.perf_counter()
    try:
        build.copy_side_files(folder.root, where)
        fused = fuse.fused_copy(folder.onnx_path, where / "model.onnx", max_tokens)
        if not fused:
            shutil.rmtree(where)
            return CandidateResult(name, description, note="no RMSNorm or rotary embedding here that the "
                                   "rewrite recognises"), folder
        result = gate.folder(where, name)
    except Exception as exc:  # one candidate that cannot be built must not stop the others
        return _not_built(name, description, exc), folder
    candidate = _gated(name, description, where, result, started, note=str(fused))
    return candidate, find_model_folder(where) if candidate.passed else folder


def _matmulnbits(folder: ModelFolder, work: Path, gate: _Gate) -> CandidateResult:
    name, description = "int8-matmulnbits", "8-bit weights (MatMulNBits, block 128, int8 compute)"
    where, started = work / name, time.perf_counter()
    try:
        build.copy_side_files(folder.root, where)
        build.build_matmulnbits(folder.onnx_path, where / "model.onnx")
        result = gate.folder(where, name)
    except Exception as exc:  # one candidate that cannot be built must not stop the others
        return _not_built(name, description, exc)
    return _gated(name, description, where, result, started)


def _dynamic_int8(folder: ModelFolder, work: Path, gate: _Gate) -> CandidateResult:
    name, description = "int8-dynamic", "dynamic int8 (MatMulInteger, per-channel weights)"
    where, started = work / name, time.perf_counter()

    def evaluate(groups: frozenset[str]) -> GateResult:
        for old in where.glob("model.onnx*"):
            old.unlink()
        build.build_dynamic_int8(source, where / "model.onnx", matmuls, groups)
        return gate.folder(where, f"{name} with {', '.join(sorted(groups))} in int8")

    try:
        build.copy_side_files(folder.root, where)
        source = _named_source(folder.onnx_path, work)
        matmuls = build.weighted_matmuls(onnx.load(str(source), load_external_data=False))
        mixed = search({m.group for m in matmuls}, evaluate)
    except Exception as exc:  # one candidate that cannot be built must not stop the others
        return _not_built(name, description, exc)
    kept = ", ".join(mixed.kept_fp32)
    return _gated(name, description, where, mixed.gate, started, kept_fp32=mixed.kept_fp32,
                  sensitivity=mixed.sensitivity, note=f"kept in fp32 (measured most sensitive): {kept}" if kept else "")


def _smoothed_int8(folder: ModelFolder, work: Path, gate: _Gate, dynamic: CandidateResult) -> CandidateResult:
    """Dynamic int8 of the SmoothQuant-scaled graph: every group in int8 first, then (if that fails)
    with the groups plain dynamic int8 kept in fp32; no search of its own (each try is a build)."""
    name, description = "int8-smooth", "dynamic int8 after SmoothQuant scaling (outliers folded into weights)"
    where, started = work / name, time.perf_counter()
    try:
        build.copy_side_files(folder.root, where)
        with smooth.smoothed_graph(folder, work / "smoothed", gate.sample) as smoothed:
            for kept in dict.fromkeys([(), dynamic.kept_fp32]):
                smoothed.int8(where, kept)
                result = gate.folder(where, f"{name} with {', '.join(kept) or 'nothing'} in fp32", FITTED_MARGIN)
                if result.passed:
                    break
    except Exception as exc:  # one candidate that cannot be built must not stop the others
        return _not_built(name, description, exc)
    note = f"{smoothed.sites} activations rescaled" + (f"; kept in fp32: {', '.join(kept)}" if kept else "")
    return _gated(name, description, where, result, started, kept_fp32=kept, note=note)


def _gated(name: str, description: str, where: Path, result: GateResult, started: float,
           **extra: Any) -> CandidateResult:
    note = extra.pop("note", "")
    if not result.passed:
        note = then_note(note, "below the gate; deleted")
    return CandidateResult(name, description, status=PASSED if result.passed else FAILED, note=note,
                           min_cosine=result.min_cosine, mean_cosine=result.mean_cosine, agreement=result.agreement,
                           size_mb=round(_size_mb(where / "model.onnx"), 1),
                           build_seconds=round(time.perf_counter() - started, 1), **extra)


def _not_built(name: str, description: str, exc: Exception) -> CandidateResult:
    log.warning("could not build the %s candidate", name, exc_info=exc)
    text = str(exc).splitlines()[0] if str(exc) else repr(exc)
    return CandidateResult(name, description, status=FAILED, note=f"could not be built: {text}")


def _timed(reference: Embedder, candidates: list[CandidateResult], work: Path,
           sample: GateSample) -> tuple[list[CandidateResult], float]:
    """Candidates with their speed (the ones that passed), and fp32's tokens/s (the median of its
    runs). Each candidate runs beside fp32 alone, round after round, and its ratio comes from that
    pair: only fp32 and one candidate are in memory at a time (a fused fp32 copy is as big as the
    source), and load that changes between pairs cannot skew a ratio."""
    texts = [*sample.passages, *sample.long_texts]
    timed, fp32_speeds = [], []
    for c in candidates:
        if not c.passed:
            timed.append(c)
            continue
        embedder = Embedder.from_folder(work / c.name, provider="cpu")
        try:
            speeds = tokens_per_second({FP32: reference, c.name: embedder}, texts)
        finally:
            embedder.close()
        fp32_speeds.append(speeds[FP32])
        timed.append(replace(c, tokens_per_s=round(speeds[c.name], 1),
                             speed_ratio=round(speeds[c.name] / speeds[FP32], 3)))
    if not fp32_speeds:  # nothing passed: fp32's speed is still reported
        fp32_speeds.append(tokens_per_second({FP32: reference}, texts)[FP32])
    return timed, float(statistics.median(fp32_speeds))


def _named_source(onnx_path: Path, work: Path) -> Path:
    """quantize_dynamic picks nodes by name: a graph with nameless nodes is copied with names."""
    model = onnx.load(str(onnx_path), load_external_data=False)
    if not any(not node.name for node in model.graph.node):
        return onnx_path
    model = onnx.load(str(onnx_path))
    build.name_unnamed_nodes(model)
    named = work / "named" / "model.onnx"
    named.parent.mkdir(parents=True)
    build.save_model(model, named)
    return named


def _size_mb(onnx_path: Path) -> float:
    """The ONNX file plus its external weights (model.onnx_data or model.onnx.data beside it)."""
    return sum(f.stat().st_size for f in onnx_path.parent.glob(onnx_path.name + "*") if f.is_file()) / 1e6
