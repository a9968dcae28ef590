"""The text around a match, read off the GUI thread, for the preview pane.

Only text-like files are read here (in-process, bounded); PDFs and Office files would need the
extraction child process the indexer owns, so their preview is the engine's snippet and page.
"""

from __future__ import annotations

from dataclasses import dataclass

from qfinder.core.results import ChunkHit

CONTEXT_CHARS = 900
PREVIEW_MAX_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True)
class Context:
    before: str  # text before the chunk
    chunk_before: str  # the chunk up to the match
    match: str
    chunk_after: str
    after: str  # text after the chunk


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
    return Context(
        before=text[max(0, start - CONTEXT_CHARS):start],
        chunk_before=body[:match_at],
        match=match,
        chunk_after=body[match_at + len(match):],
        after=text[end:end + CONTEXT_CHARS],
    )


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
