"""Snippets: the part of a chunk to show for a query, with the span to highlight.

Only informative query terms count: stop words (English, German, Spanish, French) are dropped
unless the query has nothing else, and a word matches whole words that start with it (so
"budget" finds "Budgets" but not "rebudgeting"). Chinese/Japanese words, written without
spaces, match by character bigrams. The window of `width` characters that covers the most
distinct terms wins (phrases count double); it starts at a sentence start when one is close,
otherwise at a word start, and ends at a sentence or word end. The highlight is the best run of
adjacent matches inside it (most distinct terms, then longest). A chunk found by meaning alone,
with no informative word in common with the query, shows its opening with no highlight.

Public API::

    Snippet(text, highlight, offset, chunk_highlight)  # offset: where `text` starts inside the chunk
    best_snippet(chunk_text, parsed_query, width=240) -> Snippet
    term_spans(text, parsed_query) -> [(start, end), …]  # every match, for a preview to mark
    QueryTerms(parsed_query).found_in(text) -> ("budget", …)  # which of its terms a text holds
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from qfinder.core.search.query_syntax import ParsedQuery

ELLIPSIS = "…"
_MIN_WORD = 2  # single letters match everywhere and make noisy highlights
_PLURAL_MIN = 5  # "receipts" also finds "receipt"; shorter words ("bus", "gas") keep their s

# Function words of the supported languages. Words that are content words in another of these
# languages stay out (car, war, man, hat, son, sin, den, par).
_STOP_WORD_TEXT = """
a about above after again against all also am an and any are as at be because been before
being below between both but by can could did do does doing down during each few for from further
had has have having he her here hers him his how i if in into is it its itself just me more
most my no nor not of off on once only or other our ours out over own same she should so some
per such than that the their them then there these they this those through to too under until up
very via was we were what when where which while who whom why will with would you your yours
aber alle als am an auch auf aus bei bin bis da damit dann das dass dem der des dich dir du
durch ein eine einem einen einer eines er es für gegen hier ich ihr im in ist ja jede kein
mich mir mit nach nicht noch nur ob oder ohne sehr sein seine sich sie sind so über um und
uns unter vom von vor was weil wenn wer wie wir wird zu zum zur zwischen die
al algo como con contra cual cuando de del desde donde el ella ellas ellos en entre era es
esa ese esta este esto estos fue ha hay la las le les lo los más me mi mis muy nada ni no
nos o otra otro para pero poco por porque que quien se ser si sobre su sus también te tiene
todo todos tu un una uno unos y ya yo
au aux avec ce ces cette dans de des du elle elles en est et eux il ils je la le les leur
leurs lui ma mais me même mes moi mon ne nos notre nous ou où pas pour qu que qui sa se ses
si sont sur ta te tes toi ton tu un une vos votre vous été être
"""
_STOP_WORDS = frozenset(_STOP_WORD_TEXT.split())

_CJK_CHARS = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK = re.compile(f"[{_CJK_CHARS}]")
_SCRIPT_RUNS = re.compile(f"[{_CJK_CHARS}]+|[^{_CJK_CHARS}]+")
_CJK_PARTICLES = re.compile("[のはがをにでともへや的了]")  # split points of a CJK query word
_HIRAGANA_ONLY = re.compile("[\u3040-\u309f]+")  # kana-only bigrams are grammar, not content
_WORD_TAIL = f"(?:(?![{_CJK_CHARS}])\\w)*"  # the rest of a (non-CJK) word
_SENTENCE_END = re.compile(r"[.!?…][\"')\]»”]*(?=\s)|[。！？]|\n")


@dataclass(frozen=True)
class Snippet:
    text: str
    highlight: tuple[int, int] | None  # span inside `text`
    offset: int  # start of `text` inside the chunk
    chunk_highlight: tuple[int, int] | None  # the highlight as a span of the chunk text


@dataclass(frozen=True)
class _Match:
    start: int
    end: int
    term: str
    weight: float


def _is_cjk(char: str) -> bool:
    return bool(_CJK.match(char))


def _term_pattern(body: str) -> re.Pattern[str]:
    """`body` as a whole-word match: starts at a word start, runs to the word's end."""
    head = "" if _is_cjk(body[0]) else r"(?<!\w)"
    tail = "" if _is_cjk(body[-1]) else _WORD_TAIL
    return re.compile(head + body + tail, re.IGNORECASE)


def _cjk_terms(run: str) -> list[str]:
    if len(run) == 1:
        return [run]
    bigrams = []
    for part in _CJK_PARTICLES.split(run):
        bigrams += [part[i:i + 2] for i in range(len(part) - 1)]
    return [gram for gram in bigrams if not _HIRAGANA_ONLY.fullmatch(gram)]


def _word_terms(words: tuple[str, ...], keep_stop_words: bool) -> list[tuple[str, str]]:
    """(term, regex body) for each informative piece of the query's free words."""
    terms = []
    for word in words:
        for run in _SCRIPT_RUNS.findall(word):
            if _is_cjk(run[0]):
                terms += [(gram, re.escape(gram)) for gram in _cjk_terms(run)]
            elif keep_stop_words or (len(run) >= _MIN_WORD and run not in _STOP_WORDS):
                plural = len(run) >= _PLURAL_MIN and run.endswith("s") and not run.endswith("ss")
                terms.append((run, re.escape(run[:-1] if plural else run)))
    return terms


def _patterns(parsed: ParsedQuery) -> list[tuple[str, re.Pattern[str], float]]:
    patterns = []
    for phrase in parsed.phrases:
        body = r"\s+".join(re.escape(part) for part in phrase.split())
        patterns.append((phrase.casefold(), _term_pattern(body), 2.0))
    terms = _word_terms(parsed.words, keep_stop_words=False)
    if not terms and not parsed.phrases:  # a query of stop words only: those are what it wants
        terms = _word_terms(parsed.words, keep_stop_words=True)
    seen: set[str] = set()
    for term, body in terms:
        if term not in seen:
            seen.add(term)
            patterns.append((term, _term_pattern(body), 1.0))
    return patterns


def _find_matches(text: str, parsed: ParsedQuery) -> list[_Match]:
    found = [
        _Match(m.start(), m.end(), term, weight)
        for term, pattern, weight in _patterns(parsed)
        for m in pattern.finditer(text)
        if m.end() > m.start()
    ]
    return sorted(found, key=lambda match: (match.start, -match.end))


def term_spans(text: str, parsed: ParsedQuery) -> list[tuple[int, int]]:
    """Every occurrence of the query's informative words and phrases, in order, none overlapping
    (the same matching rules as the snippet's highlight, so both mark the same words)."""
    spans: list[tuple[int, int]] = []
    for match in _find_matches(text, parsed):
        if not spans or match.start >= spans[-1][1]:
            spans.append((match.start, match.end))
    return spans


class QueryTerms:
    """The query's informative terms (phrases whole, the rest as the snippet matches them),
    compiled once for testing many texts: which of them a result holds is why it matched."""

    def __init__(self, parsed: ParsedQuery) -> None:
        self._patterns = [(term, pattern) for term, pattern, _ in _patterns(parsed)]

    def __len__(self) -> int:
        return len(self._patterns)

    def found_in(self, text: str) -> tuple[str, ...]:
        return tuple(term for term, pattern in self._patterns if pattern.search(text))


def _best_cluster(matches: list[_Match], width: int) -> tuple[int, int]:
    """(start, end) of the matches, within `width`, that cover the most weight of distinct terms."""
    best, best_value = (matches[0].start, matches[0].end), -1.0
    for i, anchor in enumerate(matches):
        terms: dict[str, float] = {}
        end = anchor.end
        for match in matches[i:]:
            if match.end - anchor.start > width:
                break
            terms[match.term] = match.weight
            end = max(end, match.end)
        value = sum(terms.values())
        if value > best_value:
            best, best_value = (anchor.start, end), value
    return best


def _starts_word(text: str, i: int) -> bool:
    if i <= 0 or i >= len(text):
        return True
    before, here = text[i - 1], text[i]
    return before.isspace() or here.isspace() or _is_cjk(before) or _is_cjk(here)


def _window_start(text: str, anchor: int, width: int) -> int:
    """A little lead-in before `anchor`: from a close sentence start, else from a word start."""
    desired = max(0, anchor - width // 4)
    if desired == 0:
        return 0
    sentence = _SENTENCE_END.search(text, max(0, desired - width // 8), anchor)
    if sentence is not None:
        return sentence.end()
    return next((i for i in range(desired, anchor) if _starts_word(text, i)), anchor)


def _window_end(text: str, start: int, width: int, keep: int) -> int:
    """Cut at most `width` after `start`: at a sentence end in the last quarter, else a word end."""
    end = min(len(text), start + width)
    if end == len(text) or _starts_word(text, end):
        return end
    floor = max(keep, start + width // 2)
    sentences = list(_SENTENCE_END.finditer(text, max(floor, start + 3 * width // 4), end))
    if sentences:
        return sentences[-1].end()
    for floor_at in (floor, start + 1):  # keep the matches whole if a word end allows it
        cut = next((i for i in range(end, floor_at - 1, -1) if _starts_word(text, i)), None)
        if cut is not None and cut > start:
            return cut
    return end


def _best_highlight(matches: list[_Match], text: str, start: int, end: int) -> tuple[int, int] | None:
    """The run of adjacent matches (touching or whitespace apart) with the most distinct terms."""
    inside = [m for m in matches if m.start >= start and m.end <= end]
    runs: list[tuple[int, int, dict[str, float]]] = []
    for m in inside:
        if runs and (m.start <= runs[-1][1] or text[runs[-1][1]:m.start].isspace()):
            run_start, run_end, terms = runs[-1]
            terms[m.term] = m.weight
            runs[-1] = (run_start, max(run_end, m.end), terms)
        else:
            runs.append((m.start, m.end, {m.term: m.weight}))
    if not runs:
        return None
    best = max(runs, key=lambda run: (sum(run[2].values()), run[1] - run[0], -run[0]))
    return best[0], best[1]


def best_snippet(chunk_text: str, parsed: ParsedQuery, width: int = 240) -> Snippet:
    matches = _find_matches(chunk_text, parsed)
    anchor, keep = _best_cluster(matches, width) if matches else (0, 0)
    start = _window_start(chunk_text, anchor, width)
    end = _window_end(chunk_text, start, width, keep)
    body = chunk_text[start:end]
    start += len(body) - len(body.lstrip())
    body = body.strip()
    prefix = ELLIPSIS if chunk_text[:start].strip() else ""
    suffix = ELLIPSIS if start + len(body) < len(chunk_text.rstrip()) else ""
    span = _best_highlight(matches, chunk_text, start, start + len(body))
    highlight = None
    if span is not None:
        shift = len(prefix) - start
        highlight = (span[0] + shift, span[1] + shift)
    return Snippet(prefix + body + suffix, highlight, start, span)
