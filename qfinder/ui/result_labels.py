"""Short texts a result row and the preview show: the date, where in the file, why it matched."""

from __future__ import annotations

import time

from qfinder.core.results import ChunkHit, FileResult


def format_date(mtime: float, now: float | None = None) -> str:
    """'today 14:05', 'yesterday', or the ISO date: short enough for the results column."""
    if mtime <= 0:
        return ""
    local, today = time.localtime(mtime), time.localtime(now or time.time())
    days = (today.tm_year - local.tm_year) * 366 + today.tm_yday - local.tm_yday
    if days == 0:
        return time.strftime("today %H:%M", local)
    if days == 1:
        return "yesterday"
    return time.strftime("%Y-%m-%d", local)


def matched_label(result: FileResult, words_shown: int = 4) -> str:
    """'name · words: rent, deposit · meaning': why the file is in the list."""
    parts = []
    for source in result.matched_by:
        if source == "words" and result.matched_words:
            more = len(result.matched_words) - words_shown
            words = ", ".join(result.matched_words[:words_shown]) + (f" +{more}" if more > 0 else "")
            parts.append(f"words: {words}")
        else:
            parts.append(source)
    return " · ".join(parts)


def location_label(chunk: ChunkHit | None) -> str:
    if chunk is None:
        return ""
    if chunk.page:
        return f"p. {chunk.page}"
    return f"line {chunk.line}" if chunk.line else ""
