"""A relevance from 0 to 1 per result that means the same for every query, and why it matched.

Ranking stays the searcher's (fused ranks); relevance is what a person reads (the bar, the
cut-off between close and weaker matches, `--json`'s "relevance"). Three kinds of evidence,
each mapped to 0..1, then combined as independent evidence (1 - Π(1 - r)):

  meaning  the best chunk's cosine as standard deviations above the query's background
           (core/search/background.py), through a logistic: 0.5 at Z_MID. Measured with
           multilingual-e5-small on xquad en/zh: the relevant paragraph's z is 3.9-7 (10th to
           90th percentile of the best hit), the best chunk for a query from another
           collection 2.3-3.5 (bench/bench_relevance.py).
  words    the share of the query's informative words (stop words left out, CJK as bigrams,
           phrases as one) in the file's matching chunks; all of them: WORDS_ALL
  name     the same share in the file's name; all of them: NAME_ALL

A result is a close match from CLOSE. `close_split(results)` gives the close ones and the rest.

    evidence = Evidence(meaning=z_to_relevance(bg.z(cos)), words=("rent",), word_total=2)
    relevance, matched_by = judge(evidence)       # 0.61, ("words", "meaning")
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from qfinder.core.results import FileResult

CLOSE = 0.5  # from here on a result is a close match
Z_MID = 3.7  # meaning relevance 0.5: between the two populations measured above
Z_SCALE = 0.5  # z units per e-fold of the odds: 4.8 sd gives 0.9, 2.6 sd 0.1
WORDS_ALL = 0.9  # every informative word of the query in the file's text
NAME_ALL = 0.95  # every one of them in the file's name
MEANING_SHOWN = 0.2  # below this "meaning" is named only when nothing else matched
NEAREST = 3  # results shown under "no close matches"


@dataclass(frozen=True)
class Evidence:
    meaning: float | None = None  # 0..1 from z_to_relevance; None: no vectors
    words: tuple[str, ...] = ()  # the query's informative words found in the file's text
    name_words: tuple[str, ...] = ()  # … found in the file's name
    word_total: int = 0  # the query's informative words (phrases count as one)
    filtered: bool = False  # listed for its filters alone (a query without words)


def z_to_relevance(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-(z - Z_MID) / Z_SCALE))


def _share(found: int, total: int, full: float) -> float:
    # squared: half the words is weak evidence (a quarter of full), all of them strong
    return full * (min(found, total) / total) ** 2 if total else 0.0


def judge(evidence: Evidence) -> tuple[float, tuple[str, ...]]:
    """(relevance 0..1, what matched: "name", "words", "meaning", in that order)."""
    if evidence.filtered:
        return 1.0, ("filters",)
    words = _share(len(evidence.words), evidence.word_total, WORDS_ALL)
    name = _share(len(evidence.name_words), evidence.word_total, NAME_ALL)
    meaning = evidence.meaning or 0.0
    miss = (1.0 - words) * (1.0 - name) * (1.0 - meaning)
    matched = [label for label, found in (("name", evidence.name_words), ("words", evidence.words)) if found]
    if evidence.meaning is not None and (meaning >= MEANING_SHOWN or not matched):
        matched.append("meaning")
    return round(1.0 - miss, 4), tuple(matched)


def close_split(results: Sequence[FileResult]) -> tuple[tuple[FileResult, ...], tuple[FileResult, ...]]:
    """(close matches, weaker ones), each in the order given."""
    close = tuple(r for r in results if r.relevance >= CLOSE)
    return close, tuple(r for r in results if r.relevance < CLOSE)
