"""The text around a match, read off the GUI thread, for the preview pane.

Only text-like files are read here (in-process, bounded); PDFs and Office files would need the
extraction child process the indexer owns, so their preview is the engine's snippet and page.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from qfinder.core.results import ChunkHit
from qfinder.core.search.query_syntax import ParsedQuery
from qfinder.core.search.snippets import term_spans

CONTEXT_CHARS = 900
PREVIEW_MAX_BYTES = 4 * 1024 * 1024
ELLIPSIS = "…"
Look = Literal["code", "text", "prose"]  # fixed-pitch with line numbers / fixed-pitch / normal
Span = tuple[int, int]
RoleSpan = tuple[int, int, str]  # start, end, syntax role (code_colors)
_LOOKS: dict[str, Look] = {"code": "code", "json": "code", "csv": "text", "text": "text"}


@dataclass(frozen=True)
class Passage:
    """What the preview shows: the text and, as spans of it, what to mark."""

    text: str
    look: Look
    context: tuple[Span, ...] = ()  # the surrounding text, drawn dimmed
    best: Span | None = None  # the snippet's match: the best passage
    hits: tuple[Span, ...] = ()  # every occurrence of the query's words
    tokens: tuple[RoleSpan, ...] = ()  # syntax colours (code)
    first_line: int | None = None  # the file's line number of the first line; None: unknown


@dataclass(frozen=True)
class Context:
    before: str  # text before the chunk
    chunk_before: str  # the chunk up to the match
    match: str
    chunk_after: str
    after: str  # text after the chunk
    first_line: int = 1  # the file's line number of the first line of `before`
    cut_before: bool = False  # `before` starts inside the file, not at its start
    cut_after: bool = False


def look_of(path: str) -> Look:
    from qfinder.core.extract.kinds import kind_of

    return _LOOKS.get(kind_of(path), "prose")


def snippet_passage(chunk: ChunkHit, look: Look, query: ParsedQuery) -> Passage:
    """The engine's snippet alone: shown at once, and for files read only by the indexer."""
    text = chunk.snippet
    best = chunk.highlight if chunk.highlight and chunk.highlight[1] <= len(text) else None
    return Passage(text, look, best=best, hits=tuple(term_spans(text, query)))


def context_passage(context: Context, look: Look, query: ParsedQuery,
                    tokens: tuple[RoleSpan, ...] = ()) -> Passage:
    """The chunk in its surrounding text. Code keeps its offsets (its tokens were made from
    `code_text`) and its colours; prose gets ellipses where the file goes on, and dim context."""
    lead = ELLIPSIS if context.cut_before and look != "code" else ""
    tail = ELLIPSIS if context.cut_after and look != "code" else ""
    head = lead + context.before
    match_at = len(head) + len(context.chunk_before)
    chunk_end = match_at + len(context.match) + len(context.chunk_after)
    text = head + context.chunk_before + context.match + context.chunk_after + context.after + tail
    dim = () if look == "code" else ((0, len(head)), (chunk_end, len(text)))
    best = (match_at, match_at + len(context.match)) if context.match else None
    return Passage(text, look, dim, best, tuple(term_spans(text, query)), tokens,
                   context.first_line)


def code_text(context: Context) -> str:
    return context.before + context.chunk_before + context.match + context.chunk_after + context.after


def load_context(path: str, chunk: ChunkHit) -> Context | None:
    """The chunk in its surrounding text, or None when the file cannot be read as text."""
    from qfinder.core.extract import extract_text
    from qfinder.core.extract.kinds import TEXT_KINDS, kind_of
    from qfinder.core.extract.model import ExtractLimits

    if kind_of(path) not in TEXT_KINDS:
        return None
    try:
        text = extract_text(path, ExtractLimits(max_text_bytes=PREVIEW_MAX_BYTES)).text
    except Exception:  # noqa: BLE001 - a preview falls back to the snippet, whatever happened
        return None
    return context_of(text, chunk)


def context_of(text: str, chunk: ChunkHit) -> Context | None:
    start, end = chunk.span
    if not (0 <= start < end <= len(text)):
        return None
    body = text[start:end]
    match_at, match = _find_match(body, chunk)
    lead = _line_start_after(text, max(0, start - CONTEXT_CHARS), start)
    return Context(
        before=text[lead:start],
        chunk_before=body[:match_at],
        match=match,
        chunk_after=body[match_at + len(match):],
        after=text[end:end + CONTEXT_CHARS],
        first_line=text.count("\n", 0, lead) + 1,
        cut_before=lead > 0,
        cut_after=end + CONTEXT_CHARS < len(text),
    )


def _line_start_after(text: str, at: int, limit: int) -> int:
    """The first line start at or after `at` (before `limit`), so a preview never opens with
    half a line of code; `at` itself when no line starts in between."""
    if at == 0 or text[at - 1] == "\n":
        return at
    newline = text.find("\n", at, limit)
    return newline + 1 if newline >= 0 else at


def _find_match(body: str, chunk: ChunkHit) -> tuple[int, str]:
    """Where the snippet's highlighted words are inside the chunk.

    The engine's position when it still holds those words (the file may have changed since it
    was indexed); otherwise their first occurrence, case-insensitive.
    """
    if not chunk.highlight:
        return 0, ""
    h0, h1 = chunk.highlight
    needle = chunk.snippet[h0:h1].strip()
    if not needle:
        return 0, ""
    if chunk.chunk_highlight is not None:
        c0, c1 = chunk.chunk_highlight
        if body[c0:c1].strip() == needle:
            return c0 + body[c0:c1].index(needle), needle
    at = body.lower().find(needle.lower())
    return (at, body[at:at + len(needle)]) if at >= 0 else (0, "")
