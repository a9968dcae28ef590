"""Hybrid ranking: query parsing, FTS5 match expressions and reciprocal rank fusion.

A query's quoted parts (``"exact words"``, also ``“…”``) are phrases that must appear literally
in a result (case-insensitive); the rest are free words. Keyword search uses SQLite FTS5, where
free words are OR-ed (BM25 ranks documents with more and rarer words first) and phrases are
AND-ed. Semantic and keyword hit lists are merged with reciprocal rank fusion (Cormack et al.,
2009: score = Σ w / (k + rank)), which needs no score calibration between the two engines.

Public API::

    parse_query(text) -> ParsedQuery(text, words, phrases)
    fts_match_expression(parsed) -> str | None        # None: nothing to match
    contains_phrases(text, phrases) -> bool
    reciprocal_rank_fusion({name: [key, ...]}, weights=None, k=60) -> list[(key, score)]
    MODES = ("hybrid", "semantic", "keyword"); uses_semantic(mode), uses_keyword(mode)
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

K = TypeVar("K", bound=Hashable)

MODES = ("hybrid", "semantic", "keyword")
RRF_K = 60  # the constant of the original paper; robust across collections

_PHRASE = re.compile(r'"([^"]+)"|“([^”]+)”|「([^」]+)」')
_WORD = re.compile(r"\w+", re.UNICODE)
_MAX_WORDS = 32  # a pasted paragraph must not become a 500-term FTS query


@dataclass(frozen=True)
class ParsedQuery:
    text: str  # the query with quote marks removed (what the embedder sees)
    words: tuple[str, ...]  # free words outside quotes, lower case, de-duplicated
    phrases: tuple[str, ...]  # quoted phrases, whitespace-normalised


def parse_query(text: str) -> ParsedQuery:
    phrases: list[str] = []
    for match in _PHRASE.finditer(text):
        inner = next(group for group in match.groups() if group is not None)
        normalised = " ".join(inner.split())
        if normalised:
            phrases.append(normalised)
    outside = _PHRASE.sub(" ", text)
    words: list[str] = []
    for word in _WORD.findall(outside.lower()):
        if word not in words:
            words.append(word)
    plain = " ".join(_PHRASE.sub(lambda m: next(g for g in m.groups() if g), text).split())
    return ParsedQuery(plain, tuple(words[:_MAX_WORDS]), tuple(phrases))


def _quote(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def fts_match_expression(parsed: ParsedQuery) -> str | None:
    """An FTS5 MATCH expression: phrases required, free words optional (OR)."""
    parts = [_quote(p) for p in parsed.phrases]
    if parsed.words:
        any_word = " OR ".join(_quote(w) for w in parsed.words)
        parts.append(f"({any_word})" if parsed.phrases else any_word)
    if not parts:
        return None
    return " AND ".join(parts)


def contains_phrases(text: str, phrases: Sequence[str]) -> bool:
    """True when every phrase occurs literally in `text` (case and spacing insensitive)."""
    if not phrases:
        return True
    flat = " ".join(text.split()).casefold()
    return all(phrase.casefold() in flat for phrase in phrases)


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
