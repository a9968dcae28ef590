"""Which MatMul groups must stay fp32 for dynamic int8 to pass the gate — measured on this model.

Activation outliers (a few hidden channels hundreds of times larger than the rest, common in
trained decoders) make per-tensor int8 activations lose everything but those channels, and they
sit in different projections in different models. So nothing is assumed: when quantizing every
group fails the gate, each group is quantized alone and ranked by how far the output moves from
fp32 (1 - mean cosine over the sample), then the worst groups are kept fp32 one more at a time
until the gate passes. At most MAX_FP32_GROUPS stay fp32: beyond that too little of the work is
int8 for the copy to be worth having.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass

from qfinder.core.model.optimize_gate import GateResult

MAX_FP32_GROUPS = 2


@dataclass(frozen=True)
class MixedPrecision:
    """The outcome of the search; the last graph `build` wrote is the one it describes."""

    kept_fp32: tuple[str, ...]  # groups left in fp32, most sensitive first
    sensitivity: tuple[tuple[str, float], ...]  # (group, 1 - mean cosine with only it in int8), worst first
    gate: GateResult
    builds: int


def search(groups: Collection[str], evaluate: Callable[[frozenset[str]], GateResult],
           max_fp32: int = MAX_FP32_GROUPS) -> MixedPrecision:
    """`evaluate(groups)` builds a graph with exactly those groups in int8 and gates it."""
    everything = frozenset(groups)
    first = evaluate(everything)
    if first.passed or len(everything) < 2:
        return MixedPrecision((), (), first, 1)
    drops = {group: 1.0 - evaluate(frozenset({group})).mean_cosine for group in sorted(everything)}
    ranking = tuple(sorted(drops.items(), key=lambda item: item[1], reverse=True))
    result, builds = first, 1 + len(drops)
    kept: tuple[str, ...] = ()
    for group, _ in ranking[:min(max_fp32, len(everything) - 1)]:
        kept += (group,)
        result = evaluate(everything - set(kept))
        builds += 1
        if result.passed:
            break
    return MixedPrecision(kept, tuple((g, round(d, 6)) for g, d in ranking), result, builds)
