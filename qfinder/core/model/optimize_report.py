"""What `models optimize` found, as plain data any front end can show, and the choice it implies.

The rule: among the candidates that pass the gate, the fastest is used if it beats fp32 on this
machine; otherwise qfinder keeps fp32 and the verdict says why (nothing safe, or nothing faster).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

FP32 = "fp32"
# CandidateResult.status values
CHOSEN, PASSED, FAILED, SKIPPED = "chosen", "passed", "failed", "skipped"


@dataclass(frozen=True)
class CandidateResult:
    name: str  # "int8-dynamic", "int8-matmulnbits", "bf16"
    description: str
    status: str = SKIPPED  # chosen | passed (safe, not used) | failed (the gate) | skipped (not built)
    note: str = ""  # why skipped, why failed, or why a safe candidate is not used
    min_cosine: float | None = None
    mean_cosine: float | None = None
    agreement: float | None = None  # top-10 retrieval agreement with fp32
    tokens_per_s: float | None = None  # timed only when it passed the gate
    speed_ratio: float | None = None  # tokens/s divided by fp32's, timed side by side with it
    size_mb: float | None = None
    build_seconds: float | None = None
    kept_fp32: tuple[str, ...] = ()  # MatMul groups left in fp32 (int8-dynamic)
    sensitivity: tuple[tuple[str, float], ...] = ()  # (group, 1 - mean cosine with only it in int8)

    @property
    def passed(self) -> bool:
        return self.status in (CHOSEN, PASSED)


@dataclass(frozen=True)
class OptimizeReport:
    source: str
    output: str | None  # the folder of the chosen candidate; None when qfinder keeps fp32
    chosen: str  # a candidate's name, or "fp32"
    verdict: str  # one plain sentence: which model qfinder uses and why
    fp32_tokens_per_s: float
    cpu_int8: str  # int8 instructions this CPU has, "none", or "unknown"
    min_cosine: float  # the gate's thresholds
    min_agreement: float
    queries: int
    passages: int
    candidates: tuple[CandidateResult, ...] = field(default_factory=tuple)

    def candidate(self, name: str) -> CandidateResult:
        return next(c for c in self.candidates if c.name == name)


def choose(candidates: list[CandidateResult]) -> str:
    """The fastest candidate that passed the gate and beats fp32, else "fp32"."""
    safe = [c for c in candidates if c.passed and c.speed_ratio is not None]
    best = max(safe, key=lambda c: c.speed_ratio or 0.0, default=None)
    return best.name if best is not None and (best.speed_ratio or 0.0) > 1.0 else FP32


def verdict(candidates: list[CandidateResult], chosen: str, cpu_int8: str) -> str:
    if chosen != FP32:
        winner = next(c for c in candidates if c.name == chosen)
        return (f"faster on this CPU ({winner.speed_ratio:.2f}× fp32 as {winner.name}, min cosine "
                f"{winner.min_cosine:.4f}, top-10 agreement {winner.agreement:.2f}); qfinder uses the {winner.name} model")
    safe = [c for c in candidates if c.passed]
    if not safe:
        return ("not safe on this model (no candidate matched fp32 closely enough); "
                "qfinder keeps using the fp32 model")
    best = max(safe, key=lambda c: c.speed_ratio or 0.0)
    why = {"none": " (this CPU has no VNNI/AMX int8 instructions, which int8 models need to be fast)",
           "unknown": ""}.get(cpu_int8, f" (even with {cpu_int8})") if best.name.startswith("int8") else ""
    return (f"not faster on this CPU (best safe candidate {best.name}: {best.speed_ratio or 0.0:.2f}× fp32)"
            f"{why}; qfinder keeps using the fp32 model")


def mark_choice(candidates: list[CandidateResult], chosen: str) -> list[CandidateResult]:
    """Statuses and notes after the choice: which one is used, why each other safe one is not."""
    marked = []
    for c in candidates:
        if c.name == chosen:
            marked.append(replace(c, status=CHOSEN, note=then_note(c.note, "the fastest safe candidate; used")))
        elif c.passed:
            reason = f"slower than {chosen}" if chosen != FP32 else "not faster than fp32"
            marked.append(replace(c, status=PASSED, note=then_note(c.note, f"safe but {reason}; deleted")))
        else:
            marked.append(c)
    return marked


def then_note(built: str, outcome: str) -> str:
    """What building found (groups kept in fp32, norms fused), then what became of the candidate."""
    return f"{built}; {outcome}" if built else outcome
