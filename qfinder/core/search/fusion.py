"""Hybrid ranking: reciprocal rank fusion of the semantic, keyword, phrase and name hit lists
(Cormack et al., 2009: score = Σ w / (k + rank)), which needs no score calibration between the
engines. The query itself is read by `query_syntax`.

Public API::

    reciprocal_rank_fusion({name: [key, ...]}, weights=None, k=60) -> list[(key, score)]
    MODES = ("hybrid", "semantic", "keyword"); uses_semantic(mode), uses_keyword(mode)
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import TypeVar

K = TypeVar("K", bound=Hashable)

MODES = ("hybrid", "semantic", "keyword")
RRF_K = 60  # the constant of the original paper; robust across collections

def reciprocal_rank_fusion(
    ranked: Mapping[str, Sequence[K]],
    weights: Mapping[str, float] | None = None,
    k: int = RRF_K,
) -> list[tuple[K, float]]:
    """Fuse ranked lists (best first) into one list of (key, score), best first.

    A key missing from a list simply gets nothing from it; a key repeated within one list
    counts at its first (best) rank only. Ties keep the order of first appearance.
    """
    scores: dict[K, float] = {}
    for name, keys in ranked.items():
        weight = 1.0 if weights is None else weights.get(name, 1.0)
        seen: set[K] = set()
        for rank, key in enumerate(keys, start=1):
            if key in seen:
                continue
            seen.add(key)
            scores[key] = scores.get(key, 0.0) + weight / (k + rank)
    return sorted(scores.items(), key=lambda item: item[1], reverse=True)


def uses_semantic(mode: str) -> bool:
    return mode in ("hybrid", "semantic")


def uses_keyword(mode: str) -> bool:
    return mode in ("hybrid", "keyword")
