"""Snippets: the part of a chunk to show for a query, with the span to highlight.

The window of `width` characters that covers the most distinct query words and phrases wins
(phrases count double); the highlighted span is the best single match inside it (a phrase
before a word, a longer word before a shorter one). A chunk found by meaning alone, with no
word in common with the query, shows its opening instead, with no highlight.

Public API::

    Snippet(text, highlight, offset)      # offset: where `text` starts inside the chunk
    best_snippet(chunk_text, parsed_query, width=240) -> Snippet
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from qfinder.core.fusion import ParsedQuery

ELLIPSIS = "…"
_MIN_WORD = 2  # single letters match everywhere and make noisy highlights


@dataclass(frozen=True)
class Snippet:
    text: str
    highlight: tuple[int, int] | None  # span inside `text`
    offset: int  # start of `text` inside the chunk


@dataclass(frozen=True)
class _Match:
    start: int
    end: int
    term: str
    weight: float


def _patterns(parsed: ParsedQuery) -> list[tuple[str, re.Pattern[str], float]]:
    patterns = []
    for phrase in parsed.phrases:
        body = r"\s+".join(re.escape(part) for part in phrase.split())
        patterns.append((phrase.casefold(), re.compile(body, re.IGNORECASE), 2.0))
    for word in parsed.words:
        if len(word) >= _MIN_WORD or not word.isascii():
            patterns.append((word, re.compile(re.escape(word), re.IGNORECASE), 1.0))
    return patterns


def _find_matches(text: str, parsed: ParsedQuery) -> list[_Match]:
    found = [
        _Match(m.start(), m.end(), term, weight)
        for term, pattern, weight in _patterns(parsed)
        for m in pattern.finditer(text)
    ]
    return sorted(found, key=lambda match: match.start)


def _best_window_start(matches: list[_Match], width: int) -> int:
    """Start of the window (anchored on a match) covering the most weight of distinct terms."""
    best_start, best_value = matches[0].start, -1.0
    for i, anchor in enumerate(matches):
        terms: dict[str, float] = {}
        for match in matches[i:]:
            if match.end - anchor.start > width:
                break
            terms[match.term] = match.weight
        value = sum(terms.values())
        if value > best_value:
            best_start, best_value = anchor.start, value
    return best_start


def _snap_window(text: str, anchor: int, width: int) -> tuple[int, int]:
    """A window around `anchor` with a little lead-in, cut at spaces rather than mid-word."""
    start = max(0, anchor - width // 4)
    if start > 0:
        space = text.rfind(" ", max(0, start - 20), anchor)
        start = space + 1 if space >= 0 else start
    end = min(len(text), start + width)
    if end < len(text):
        space = text.rfind(" ", start + width // 2, end)
        end = space if space > 0 else end
    return start, end


def _pick_highlight(matches: list[_Match], start: int, end: int) -> _Match | None:
    inside = [m for m in matches if m.start >= start and m.end <= end]
    if not inside:
        return None
    return max(inside, key=lambda m: (m.weight, m.end - m.start, -m.start))


def best_snippet(chunk_text: str, parsed: ParsedQuery, width: int = 240) -> Snippet:
    matches = _find_matches(chunk_text, parsed)
    anchor = _best_window_start(matches, width) if matches else 0
    start, end = _snap_window(chunk_text, anchor, width)
    body = chunk_text[start:end]
    lead = len(body) - len(body.lstrip())
    body = body.strip()
    start += lead
    prefix = ELLIPSIS if start > 0 else ""
    suffix = ELLIPSIS if start + len(body) < len(chunk_text.rstrip()) else ""
    best = _pick_highlight(matches, start, start + len(body))
    highlight = None
    if best is not None:
        shift = len(prefix) - start
        highlight = (best.start + shift, best.end + shift)
    return Snippet(prefix + body + suffix, highlight, start)
