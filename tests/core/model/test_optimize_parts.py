"""The optimizer's parts with fixed inputs: the gate's two checks, the sensitivity search, the choice
rule and its verdicts, the sample file, the CPU flags."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from qfinder.core.errors import ModelError
from qfinder.core.model.optimize_gate import (
    GateResult,
    SampleVectors,
    check,
    load_sample,
    parse_sample,
)
from qfinder.core.model.optimize_report import CandidateResult, choose, mark_choice, verdict
from qfinder.core.model.optimize_sensitivity import search
from qfinder.core.model.optimize_timing import cpu_flags, cpu_int8_support


def _ranked_passages(order: list[int]) -> SampleVectors:
    """One query; 20 unit passages whose similarity to it falls in the given order."""
    scores = np.zeros(20)
    scores[order] = np.linspace(0.99, 0.5, len(order))
    passages = np.stack([[s, np.sqrt(1 - s * s)] for s in scores])
    return SampleVectors(passages=passages, queries=np.array([[1.0, 0.0]]), long_texts=np.array([[0.6, 0.8]]))


def test_agreement_catches_a_reordering_that_cosine_cannot():
    reference = _ranked_passages(list(range(20)))
    same = check(reference, reference)
    assert same.passed and same.agreement == 1.0 and same.min_cosine == pytest.approx(1.0)
    # Two of the top 10 swapped with ranks 11 and 12: vectors move, but retrieval changes more.
    swapped = _ranked_passages([0, 1, 2, 3, 4, 5, 6, 7, 10, 11, 8, 9, *range(12, 20)])
    result = check(reference, swapped, min_cosine=0.0)
    assert result.agreement == pytest.approx(0.8) and not result.passed
    assert check(reference, swapped, min_cosine=0.0, min_agreement=0.8).passed


def test_one_bad_text_fails_the_cosine_gate():
    reference = _ranked_passages(list(range(20)))
    bent = SampleVectors(reference.passages.copy(), reference.queries, reference.long_texts)
    bent.passages[19] = [0.0, 1.0]  # far from its fp32 vector, but ranked last either way
    result = check(reference, bent)
    assert result.agreement == 1.0 and result.min_cosine < 0.995 and not result.passed


def test_drift_on_long_texts_alone_fails_the_gate():
    """int8 error grows with length: short passages can pass while index-sized chunks do not."""
    reference = _ranked_passages(list(range(20)))
    drifted = SampleVectors(reference.passages, reference.queries, np.array([[0.68, 0.73]]))  # cos 0.9943
    result = check(reference, drifted)
    assert result.agreement == 1.0 and result.min_cosine == pytest.approx(0.9943, abs=1e-4) and not result.passed


def _gate(mean: float, passed: bool | None = None) -> GateResult:
    return GateResult(min_cosine=mean, mean_cosine=mean, agreement=1.0, passed=mean >= 0.995 if passed is None
                      else passed)


def test_the_search_keeps_the_measured_worst_groups_in_fp32():
    harm = {"q_proj": 0.0001, "o_proj": 0.004, "down_proj": 0.02, "up_proj": 0.0005}
    asked: list[frozenset[str]] = []

    def evaluate(groups: frozenset[str]) -> GateResult:
        asked.append(groups)
        return _gate(1.0 - sum(harm[g] for g in groups))

    found = search(harm, evaluate)
    assert [g for g, _ in found.sensitivity] == ["down_proj", "o_proj", "up_proj", "q_proj"]
    assert found.kept_fp32 == ("down_proj",) and found.gate.passed
    assert asked[-1] == {"q_proj", "o_proj", "up_proj"}  # the last build is the one described
    assert found.builds == len(asked) == 1 + 4 + 1


def test_the_search_stops_at_two_fp32_groups_and_reports_the_failure():
    def evaluate(groups: frozenset[str]) -> GateResult:
        return _gate(1.0 - 0.01 * len(groups))  # every group hurts as much: never passes

    found = search(["a", "b", "c", "d"], evaluate)
    assert len(found.kept_fp32) == 2 and not found.gate.passed


def test_the_search_stops_at_once_when_everything_in_int8_passes():
    found = search(["a", "b"], lambda groups: _gate(0.999))
    assert found.kept_fp32 == () and found.sensitivity == () and found.builds == 1


def _candidate(name: str, ratio: float | None, passed: bool) -> CandidateResult:
    return CandidateResult(name, name, status="passed" if passed else "failed", min_cosine=0.999 if passed else 0.9,
                           mean_cosine=0.999, agreement=0.95, speed_ratio=ratio,
                           tokens_per_s=None if ratio is None else 100 * ratio)


def test_the_fastest_safe_candidate_wins_and_a_failed_one_never_does():
    fast_but_wrong = _candidate("int8-dynamic", 2.4, passed=False)
    safe = _candidate("int8-matmulnbits", 1.3, passed=True)
    assert choose([fast_but_wrong, safe]) == "int8-matmulnbits"
    assert choose([_candidate("a", 1.2, True), _candidate("b", 1.9, True)]) == "b"
    assert choose([fast_but_wrong]) == "fp32"
    marked = {c.name: c for c in mark_choice([fast_but_wrong, safe, _candidate("b", 1.1, True)], "int8-matmulnbits")}
    assert marked["int8-matmulnbits"].status == "chosen" and marked["int8-dynamic"].status == "failed"
    assert marked["b"].status == "passed" and "slower than int8-matmulnbits" in marked["b"].note


def test_nothing_faster_than_fp32_keeps_fp32_and_says_why():
    slow = [_candidate("int8-matmulnbits", 0.58, True), _candidate("int8-dynamic", 0.97, True)]
    assert choose(slow) == "fp32" and choose([_candidate("x", 1.0, True)]) == "fp32"
    text = verdict(slow, "fp32", "none")
    assert text.startswith("not faster on this CPU (best safe candidate int8-dynamic: 0.97× fp32)")
    assert "no VNNI/AMX" in text and text.endswith("qfinder keeps using the fp32 model")
    assert "even with AVX-512 VNNI" in verdict(slow, "fp32", "AVX-512 VNNI")
    fused_best = verdict([_candidate("fp32-fused", 0.99, True), _candidate("int8-dynamic", 0.8, True)], "fp32", "none")
    assert "fp32-fused: 0.99× fp32)" in fused_best and "VNNI" not in fused_best  # no int8 reason for an fp32 copy
    assert verdict([_candidate("a", None, False)], "fp32", "none").startswith("not safe on this model")
    won = [_candidate("int8-dynamic", 2.1, True)]
    assert verdict(won, "int8-dynamic", "AVX-512 VNNI") == (
        "faster on this CPU (2.10× fp32 as int8-dynamic, min cosine 0.9990, top-10 agreement 0.95); "
        "qfinder uses the int8-dynamic model")


def test_the_packaged_sample_is_multilingual_and_a_bad_one_is_refused(tmp_path):
    sample = load_sample()
    assert len(sample.queries) >= 10 and len(sample.passages) >= 30
    assert any("\u4e00" <= ch <= "\u9fff" for text in sample.passages for ch in text)  # CJK
    assert any("\n" in text for text in sample.passages)  # code keeps its line breaks
    assert len(sample.long_texts) == -(-len(sample.passages) // 11)  # every passage in one long text
    assert min(len(text) for text in sample.long_texts[:-1]) > 1000  # index-chunk sized, ~380 tokens
    own = tmp_path / "mine.txt"
    own.write_text("# notes\n? where is the key\n" + "\n".join(f"passage {i}" for i in range(11)), encoding="utf-8")
    assert load_sample(own).queries == ("where is the key",) and len(load_sample(own).passages) == 11
    with pytest.raises(ModelError, match="1 queries and 3 passages"):
        parse_sample("? q\na\nb\nc\n", "mine.txt")
    with pytest.raises(ModelError, match="Cannot read"):
        load_sample(tmp_path / "missing.txt")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/cpuinfo-style flags")
def test_cpu_int8_support_reads_the_cpu_flags(tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nflags\t\t: fpu sse2 avx2 fma avx512f avx512_vnni\n\n"
                       "processor\t: 1\nflags\t\t: fpu sse2 avx2 fma avx512f avx512_vnni amx_int8\n")
    assert cpu_int8_support(cpu_flags(cpuinfo)) == "AVX-512 VNNI, AMX-INT8"
    cpuinfo.write_text("processor\t: 0\nflags\t\t: fpu sse2 avx2 fma\n")
    assert cpu_int8_support(cpu_flags(cpuinfo)) == "none"
    assert cpu_flags(tmp_path / "missing") is None and cpu_int8_support(None) == "unknown"


def test_bf16_is_skipped_with_the_reason_that_applies_here():
    from qfinder.core.model.optimize_candidates import bf16_skip_reason, ort_runs_bf16_matmul

    assert bf16_skip_reason({"avx2", "avx512_vnni"}) == "this CPU has no AVX512-BF16 or AMX-BF16 instructions"
    with_bf16 = bf16_skip_reason({"avx512_bf16"})
    assert ("no bf16 MatMul kernel" in with_bf16) == (not ort_runs_bf16_matmul())
