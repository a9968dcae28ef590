"""Token-aware chunking of extracted text with the model's own tokenizer.

    from qfinder.core.indexing.chunking import chunk_text, Chunk, CHUNKER_VERSION
    chunks = chunk_text(text, embedder, size=384, overlap=48, pages=extracted.pages,
                        code=False, max_chunks=None)   # any TokenSpans: an embedder, TokenizerSpans

Each `Chunk(text, start, end, page, line, hash, tokens)`:
  text      the chunk's text == original_text[start:end] (no leading/trailing whitespace)
  start/end character span in `text` (Python str indices)
  page      page number of the chunk start from `pages` ((char_offset, page_no) sorted), or None
  line      1-based line of the chunk start
  hash      sha256 hex of CHUNKER_VERSION + text: the key of the chunk-level vector cache
  tokens    tokens in the chunk (without special tokens), <= size
Cuts prefer, latest first within the second half of the window: paragraph breaks, then line
ends, then sentence ends, then any word boundary (between CJK characters counts as one);
only a single word longer than `size` tokens is cut mid-word. With `code=True`, cuts prefer
blank lines, then lines starting a definition, then unindented lines, then any line end.
Consecutive chunks overlap by about `overlap` tokens, starting on a word (or line) boundary.
The text is tokenized once, so a 1 MB text takes well under a second or two.
"""

from __future__ import annotations

import bisect
import hashlib
import re
from dataclasses import dataclass

from qfinder.core.tokens import TokenSpans

CHUNKER_VERSION = 1

_PROSE_CUTS = (  # (pattern, use match end rather than start)
    (re.compile(r"\n[ \t]*\n"), False),
    (re.compile(r"\n"), False),
    (re.compile(r"[.!?;:。！？；](?=\s)|[。！？；]"), True),
    (re.compile(r"\s|(?<=[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff\uac00-\ud7af])"), False),
)
_DEF_WORDS = (
    r"def|class|async|function|fn|func|pub|public|private|protected|static|impl|struct|interface|"
    r"enum|trait|type|const|let|var|export|module|package|sub|proc|procedure|template|namespace|@"
)
_CODE_CUTS = (
    (re.compile(r"\n[ \t]*\n(?=\S)"), False),
    (re.compile(r"\n[ \t]*\n"), False),
    (re.compile(rf"\n(?=[ \t]*(?:{_DEF_WORDS}))"), False),
    (re.compile(r"\n(?=\S)"), False),
    (re.compile(r"\n"), False),
)
_NEWLINE = re.compile(r"\n")
_WORD_START = re.compile(r"(?<=\s)\S|(?<=[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff\uac00-\ud7af])\S")
_LINE_START = re.compile(r"(?<=\n)")


@dataclass(frozen=True)
class Chunk:
    text: str
    start: int
    end: int
    page: int | None
    line: int
    hash: str
    tokens: int = 0


def chunk_hash(text: str) -> str:
    return hashlib.sha256(f"qfinder-chunk-v{CHUNKER_VERSION}\n{text}".encode()).hexdigest()


def chunk_text(
    text: str,
    tokens: TokenSpans,
    size: int = 384,
    overlap: int = 48,
    pages: tuple[tuple[int, int], ...] | None = None,
    code: bool = False,
    max_chunks: int | None = None,
) -> list[Chunk]:
    if size < 8:
        raise ValueError("chunk size must be at least 8 tokens")
    overlap = max(0, min(overlap, size // 2))
    if not text.strip():
        return []
    offsets = _token_offsets(text, tokens)
    starts = [s for s, _ in offsets]
    spans = _spans(text, starts, size, overlap, code, max_chunks)
    return _build(text, spans, starts, pages)


def _token_offsets(text: str, tokens: TokenSpans) -> list[tuple[int, int]]:
    pieces = _pieces(text)
    spans = tokens.token_spans([text[a:b] for a, b in pieces])
    offsets = [(a + s, a + e) for (a, _), piece in zip(pieces, spans, strict=True) for s, e in piece]
    return offsets or [(0, len(text))]


def _pieces(text: str, target: int = 32_768) -> list[tuple[int, int]]:
    """Split at line ends into ~32 KB pieces so the tokenizer runs them on all cores."""
    pieces, start = [], 0
    while len(text) - start > target:
        cut = text.find("\n", start + target)
        if cut < 0:
            break
        pieces.append((start, cut + 1))
        start = cut + 1
    pieces.append((start, len(text)))
    return pieces


def _spans(
    text: str, starts: list[int], size: int, overlap: int, code: bool, max_chunks: int | None
) -> list[tuple[int, int]]:
    """Character spans [cs, ce) of the chunks, each holding at most `size` tokens."""
    cuts = _CODE_CUTS if code else _PROSE_CUTS
    n, cs = len(starts), 0
    spans: list[tuple[int, int]] = []
    while cs < len(text) and (max_chunks is None or len(spans) < max_chunks):
        first = max(0, bisect.bisect_right(starts, cs) - 1)
        if first + size >= n:
            spans.append((cs, len(text)))
            break
        hard = starts[first + size]  # cutting here keeps `size` tokens
        soft = max(starts[first + size // 2], cs + 1)
        ce = _best_cut(text, soft, hard, cuts, latest=True)
        ce = hard if ce is None or ce <= cs else ce
        spans.append((cs, ce))
        cs = _next_start(text, starts, ce, overlap, code, cs)
    return spans


def _best_cut(text: str, lo: int, hi: int, cuts: tuple, latest: bool) -> int | None:
    """A cut position in [lo, hi] of the most preferred kind (latest or earliest of it)."""
    window = text[lo : hi + 2]
    for pattern, use_end in cuts:
        found = [(m.end() if use_end else m.start()) + lo for m in pattern.finditer(window)]
        found = [p for p in found if lo <= p <= hi]
        if found:
            return found[-1] if latest else found[0]
    return None


def _next_start(text: str, starts: list[int], ce: int, overlap: int, code: bool, cs: int) -> int:
    """Where the next chunk begins: about `overlap` tokens before `ce`, at the earliest sentence
    (code: line) start there. Code cut at a blank line or definition gets no overlap."""
    if not overlap or ce >= len(text):
        return ce
    if code and _best_cut(text, ce, ce, _CODE_CUTS[:3], latest=False) is not None:
        return ce
    back = bisect.bisect_left(starts, ce) - overlap
    lo = max(starts[max(back, 0)], cs + 1)
    cut = _best_cut(text, lo, ce - 1, _CODE_CUTS if code else _PROSE_CUTS[:-1], latest=False)
    if cut is not None:
        return cut  # a boundary position; _build strips the whitespace after it
    match = (_LINE_START if code else _WORD_START).search(text, lo, ce)
    return match.start() if match is not None else ce


def _build(
    text: str,
    spans: list[tuple[int, int]],
    starts: list[int],
    pages: tuple[tuple[int, int], ...] | None,
) -> list[Chunk]:
    newlines = [m.start() for m in _NEWLINE.finditer(text)]
    page_starts = [offset for offset, _ in pages] if pages else []
    chunks: list[Chunk] = []
    for cs, ce in spans:
        raw = text[cs:ce]
        body = raw.strip()
        if not body:
            continue
        start = cs + (len(raw) - len(raw.lstrip()))
        end = start + len(body)
        page = None
        if pages:
            at = bisect.bisect_right(page_starts, start) - 1
            page = pages[at][1] if at >= 0 else None
        tokens = bisect.bisect_left(starts, end) - max(0, bisect.bisect_right(starts, start) - 1)
        line = bisect.bisect_left(newlines, start) + 1
        chunks.append(Chunk(body, start, end, page, line, chunk_hash(body), tokens))
    return chunks
