"""Safe FTS5 queries from user text, and SQL for search filters. Used by `Catalog`.

`fts_match(text)` turns anything a person types into a valid FTS5 MATCH expression:
  - "quoted phrases" must match literally (all of them: AND);
  - other words are optional terms (OR) that raise the BM25 score, except when the query has
    no phrase, where any word may match;
  - every term is double-quoted, so FTS5 operators (AND, NEAR, *, :, ^, -, parentheses) in
    user text are plain words and can never raise a syntax error;
  - a pasted page keeps only its MAX_TERMS most informative distinct words (`informative`).
Returns None when the text holds no searchable word.
"""

from __future__ import annotations

import os
import re

from qfinder.core.pathnames import sql_path
from qfinder.core.results import SearchFilters

_PHRASE = re.compile(r'"([^"]*)"')
_CJK = re.compile(r"([\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af])")


def fts_text(text: str) -> str:
    """What chunks_fts indexes and queries match against: CJK characters as separate tokens."""
    return _CJK.sub(r" \1 ", text) if _CJK.search(text) else text


_WORD = re.compile(r"\w+", re.UNICODE)
# Words per keyword or name query. A query of ~1,000 words made SQLite's expression tree too
# deep to run; past a few dozen words more terms only slow BM25 down without changing the ranking.
MAX_TERMS = 64
_CJK_RUN = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af]+")


def loose_terms(word: str) -> list[str]:
    """Search terms for one unquoted word: a CJK run gives its character bigrams (BM25 then
    ranks text sharing more of them higher); other text stays whole."""
    if not _CJK_RUN.search(word):
        return [word]
    terms: list[str] = []
    for part in _CJK_RUN.split(word):
        terms += [part] if part else []
    for run in _CJK_RUN.findall(word):
        terms += [run] if len(run) == 1 else [run[i : i + 2] for i in range(len(run) - 1)]
    return terms


def informative(terms: list[str], limit: int = MAX_TERMS) -> list[str]:
    """The `limit` most informative distinct terms, in query order. Longer words are rarer
    (Zipf's law of abbreviation), so without corpus statistics the longest are kept."""
    distinct = list(dict.fromkeys(terms))
    if len(distinct) <= limit:
        return distinct
    kept = set(sorted(distinct, key=len, reverse=True)[:limit])  # stable: earlier wins a tie
    return [term for term in distinct if term in kept]


def _quote(term: str) -> str:
    """A literal FTS5 string; a CJK word becomes the phrase of its characters."""
    return '"' + " ".join(fts_text(term).split()).replace('"', '""') + '"'


def split_query(text: str) -> tuple[list[str], list[str]]:
    """(phrases, loose words) of a user query; an unbalanced quote counts as a plain quote."""
    phrases: list[str] = []
    for match in _PHRASE.finditer(text):
        words = _WORD.findall(match.group(1))
        if words:
            phrases.append(" ".join(words))
    rest = _PHRASE.sub(" ", text)
    return phrases, _WORD.findall(rest)


def fts_match(text: str) -> str | None:
    phrases, words = split_query(text)
    if not phrases and not words:
        return None
    phrases = informative(phrases)
    terms = informative([t for w in words for t in loose_terms(w)])
    if not phrases:
        return " OR ".join(_quote(t) for t in terms)
    required = " AND ".join(_quote(p) for p in phrases)
    if not terms:
        return required
    # The phrases are required; the OR group repeats the first one so it is always satisfied
    # and the loose words only add to the score.
    optional = " OR ".join([_quote(phrases[0])] + [_quote(t) for t in terms])
    return f"{required} AND ({optional})"


def literal_phrases(text: str) -> list[str]:
    """The quoted phrases exactly as typed (for a substring check on the chunk text)."""
    return [m.group(1).strip() for m in _PHRASE.finditer(text) if m.group(1).strip()]


def prefix_condition(prefix: str, column: str = "path") -> tuple[str, list[object]]:
    """`column` equals `prefix` or lies under it: `qfinder.core.paths.is_within` in SQL (no LIKE
    wildcards from the path). Compared as bytes: a path that is not valid UTF-8 (see
    qfinder.core.pathnames) is stored as its bytes."""
    base = sql_path(prefix.rstrip(os.sep + (os.altsep or "")))
    cond = f"({column} = CAST(? AS TEXT) OR substr(CAST({column} AS BLOB), 1, ?) = ?)"
    return cond, [base, len(base) + 1, base + os.sep.encode()]


def filter_sql(filters: SearchFilters | None, alias: str = "f") -> tuple[str, list[object]]:
    """A SQL condition (starting with ' AND', or empty) over the files table `alias`."""
    if filters is None:
        return "", []
    parts: list[str] = []
    params: list[object] = []
    if filters.folders:
        ors = []
        for folder in filters.folders:
            cond, cond_params = prefix_condition(folder, f"{alias}.path")
            ors.append(cond)
            params += cond_params
        parts.append("(" + " OR ".join(ors) + ")")
    if filters.kinds:
        parts.append(f"{alias}.kind IN ({','.join('?' * len(filters.kinds))})")
        params += [k.lower().lstrip(".") for k in filters.kinds]
    if filters.modified_after is not None:
        parts.append(f"{alias}.mtime_ns >= ?")
        params.append(int(filters.modified_after * 1e9))
    if filters.modified_before is not None:
        parts.append(f"{alias}.mtime_ns <= ?")
        params.append(int(filters.modified_before * 1e9))
    return "".join(" AND " + p for p in parts), params


def like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
