"""Safe FTS5 queries and SQL conditions from a parsed query (`qfinder.core.search.query_syntax`)
and search filters. Used by `Catalog`.

  - `fts_match(query)`: chunks holding any positive term (words, prefixes, phrases): OR, so BM25
    ranks text with more and rarer terms first; None when there is no searchable term;
  - `constraint_sql(query)`: what is required (AND, OR, +word) or excluded (-word, NOT), per file;
  - `filter_sql(filters)`: folders, extensions, kinds, path text, size and modified date;
  - every term is double-quoted, so FTS5 operators (AND, NEAR, *, :, ^, -, parentheses) in
    user text are plain words and can never raise a syntax error;
  - a pasted page keeps only its MAX_TERMS most informative distinct words (`informative`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence

from qfinder.core.extract.kinds import extensions_of, names_of
from qfinder.core.pathnames import sql_path
from qfinder.core.results import SearchFilters
from qfinder.core.search.query_syntax import ParsedQuery, Term

_CJK = re.compile(r"([\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af])")


def fts_text(text: str) -> str:
    """What chunks_fts indexes and queries match against: CJK characters as separate tokens."""
    return _CJK.sub(r" \1 ", text) if _CJK.search(text) else text


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


def fts_term(term: Term) -> str:
    """One term as a literal FTS5 string (a prefix gets FTS5's star outside the quotes)."""
    return _quote(term.text) + ("*" if term.kind == "prefix" else "")


def fts_match(query: ParsedQuery) -> str | None:
    """Chunks with any of the query's positive terms (BM25 ranks more and rarer ones higher);
    what is required or excluded is decided per file (`constraint_sql`)."""
    terms: list[str] = []
    for term in query.positive:
        words = [Term(t) for t in loose_terms(term.text)] if term.kind == "word" else [term]
        terms += [fts_term(t) for t in words]
    kept = informative(terms)
    return " OR ".join(kept) if kept else None


def _files_with(terms: Sequence[Term], alias: str) -> tuple[str, list[object]]:
    """`alias`.id IN the files whose text or name holds any of `terms`."""
    names = " OR ".join(f"{alias}.name LIKE ? ESCAPE '\\'" for _ in terms)
    sql = (f"({alias}.id IN (SELECT c.file_id FROM chunks_fts JOIN chunks c ON c.id = chunks_fts.rowid "
           f"WHERE chunks_fts MATCH ?) OR {names})")
    likes = [f"%{like_escape(t.text)}%" for t in terms]
    return sql, [" OR ".join(fts_term(t) for t in terms), *likes]


def constraint_sql(query: ParsedQuery | None, alias: str = "f") -> tuple[str, list[object]]:
    """A SQL condition (starting with ' AND', or empty): each required group matched somewhere in
    the file (text or name), no excluded term anywhere in it."""
    if query is None:
        return "", []
    parts: list[str] = []
    params: list[object] = []
    for group in query.required:
        cond, cond_params = _files_with(group, alias)
        parts.append(cond)
        params += cond_params
    if query.excluded:
        cond, cond_params = _files_with(query.excluded, alias)
        parts.append(f"NOT {cond}")
        params += cond_params
    return "".join(" AND " + p for p in parts), params


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
    if filters.types:
        cond, cond_params = _types_condition(filters.types, alias)
        parts.append(cond)
        params += cond_params
    for text in filters.path_contains:
        parts.append(f"{alias}.path LIKE ? ESCAPE '\\'")
        params.append(f"%{like_escape(text)}%")
    for bound, operator in ((filters.min_size, ">="), (filters.max_size, "<=")):
        if bound is not None:
            parts.append(f"{alias}.size {operator} ?")
            params.append(bound)
    return "".join(" AND " + p for p in parts), params


def _types_condition(types: Sequence[str], alias: str) -> tuple[str, list[object]]:
    """Files `kind_of` calls one of `types`, by the extension the catalog keeps or the name."""
    exts = [ext for kind in types for ext in extensions_of(kind)]
    names = [name for kind in types for name in names_of(kind)]
    marks = ",".join("?" * len(exts)) or "NULL"
    name_marks = ",".join("?" * len(names)) or "NULL"
    return f"({alias}.kind IN ({marks}) OR lower({alias}.name) IN ({name_marks}))", [*exts, *names]


def all_filters_sql(filters: Sequence[SearchFilters | None], query: ParsedQuery | None,
                    alias: str = "f") -> tuple[str, list[object]]:
    """Every filter of `filters` (the window's, the query's) and the query's constraints."""
    sql, params = constraint_sql(query, alias)
    for each in filters:
        more, more_params = filter_sql(each, alias)
        sql, params = sql + more, params + more_params
    return sql, params


def like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
