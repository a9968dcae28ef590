"""The search text, read once into a typed query: filters, a keyword expression, the text the
embedder reads, literal phrases and what went wrong.

Syntax (as in Everything, Recoll and DocFetcher; `query_filters` has the filter values):

    budget lisbon trip      words: ranked by meaning and by keyword, none required
    "fiscal year 2024"      an exact phrase: files that contain it come first; none do: a note
    -deposit  NOT deposit   no file that contains the word (or -"a phrase") anywhere
    rent AND deposit  +rent files that contain each of them (anywhere in the file or its name)
    rent OR lease           files that contain either; OR binds tighter than AND (as in Recoll):
                            a AND b OR c = a AND (b OR c)
    postgres*               words that start with "postgres"
    ext:pdf *.pdf type:code path:Finance size:>1mb modified:2024-03   filters

AND, OR and NOT are operators only in capitals. Quote marks are syntax only where they stand
apart from the words around them (`say "hi" now`): quotes inside a word or a sentence without
spaces (`是“对”或“错”`, CJK prose) are punctuation. An unknown `key:` is plain text (`C++:`,
URLs). A syntax error never stops a search: the part that cannot be read is left out and
`syntax_error` says why.

    query = parse_query('rent -deposit ext:pdf')
    query.text == "rent"; query.excluded == (Term("deposit"),); query.filters.kinds == ("pdf",)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from qfinder.core.results import SearchFilters
from qfinder.core.search.query_filters import FILTER_KEYS, FilterError, apply_filter

TermKind = Literal["word", "prefix", "phrase"]
# (what to type, what it does): the window's syntax help lists these.
SYNTAX_HELP: tuple[tuple[str, str], ...] = (
    ("budget lisbon trip", "by meaning and by words; no word is required"),
    ('"fiscal year 2024"', "exact phrase: files that contain it come first"),
    ("-deposit   NOT deposit", "leave out every file that contains the word (or -\"a phrase\")"),
    ("rent AND deposit   +rent", "only files that contain each word"),
    ("rent OR lease", "only files that contain either word (a AND b OR c = a AND (b OR c))"),
    ("postgres*", "words that start with postgres"),
    ("ext:pdf   *.pdf   ext:md,txt", "file extension"),
    ("type:code   type:pdf,doc", "kind of file: " + "code, pdf, doc, text, markdown, sheet, slides, html, …"),
    ('path:Finance   path:"My Files"', "text anywhere in the file's path"),
    ("size:>1mb   size:<10kb   size:1mb..5mb", "file size (kb, mb, gb: powers of 1000; kib, mib: of 1024)"),
    ("modified:2024   modified:2024-03", "modified in that year, month or day"),
    ("modified:2024-01..2024-06   modified:>2024-05-01", "modified in a range, after or before a date"),
)
_QUOTES = {'"': '"', "“": "”", "「": "」", "『": "』"}
_PHRASE = re.compile("|".join(f"{re.escape(o)}([^{re.escape(c)}]*){re.escape(c)}" for o, c in _QUOTES.items()))
_FILTER = re.compile(rf"({'|'.join(FILTER_KEYS)}):(\"[^\"]*\"|\S*)", re.IGNORECASE)
_GLOB_EXT = re.compile(r"\*\.(\w+)")
_CHUNK = re.compile(r"\S+")
_PREFIX_STAR = re.compile(r"(?<=\w)\*(?!\S)")
_WORD = re.compile(r"\w+")
_OPERATORS = ("AND", "OR", "NOT")
_MAX_WORDS = 32  # a pasted paragraph must not become a 500-term highlight


@dataclass(frozen=True)
class Term:
    text: str  # a word (a prefix without its star) or a phrase, whitespace-normalised
    kind: TermKind = "word"


@dataclass(frozen=True)
class ParsedQuery:
    text: str  # what the embedder reads: the query without filters, operators and excluded words
    soft: tuple[Term, ...] = ()  # rank results, none required
    required: tuple[tuple[Term, ...], ...] = ()  # each group: a file contains one of its terms
    excluded: tuple[Term, ...] = ()  # a file that contains any of these is left out
    phrases: tuple[str, ...] = ()  # the soft phrases: files containing them come first
    filters: SearchFilters = field(default_factory=SearchFilters)
    errors: tuple[str, ...] = ()

    @property
    def words(self) -> tuple[str, ...]:
        """Lower-case words of the positive terms outside phrases (for snippets and highlights)."""
        terms = [t for t in self.positive if t.kind != "phrase"]
        found = dict.fromkeys(w for t in terms for w in _WORD.findall(t.text.lower()))
        return tuple(found)[:_MAX_WORDS]

    @property
    def positive(self) -> tuple[Term, ...]:
        return self.soft + tuple(t for group in self.required for t in group)

    @property
    def has_constraints(self) -> bool:
        return bool(self.required or self.excluded)

    @property
    def syntax_error(self) -> str | None:
        return "; ".join(self.errors) or None


Span = tuple[int, int]


@dataclass
class _Unit:
    terms: list[Term]
    required: bool = False
    excluded: bool = False


@dataclass
class _Reader:
    filters: SearchFilters = field(default_factory=SearchFilters)
    units: list[_Unit] = field(default_factory=list)
    hidden: list[Span] = field(default_factory=list)  # what the embedder does not read
    errors: list[str] = field(default_factory=list)
    pending: str | None = None  # the operator waiting for its right-hand term


def parse_query(text: str) -> ParsedQuery:
    reader = _Reader()
    for span in _tokens(text):
        _read(reader, text[span[0]:span[1]], span)
    if reader.pending:
        reader.errors.append(f"{reader.pending} at the end needs a word after it")
    return _query(text, reader)


def _tokens(text: str) -> list[Span]:
    """Whitespace-separated pieces, a phrase that stands apart kept whole with its spaces."""
    tokens: list[Span] = []
    pos = 0
    while (chunk := _CHUNK.search(text, pos)) is not None:
        start = chunk.start()
        sign = text[start] if text[start] in "+-" and start + 1 < len(text) else ""
        phrase = _PHRASE.match(text, start + len(sign))
        filt = _FILTER.match(text, start)
        end = chunk.end()
        if phrase and _stands_apart(text, start, phrase.end()):
            end = phrase.end()
        elif filt and filt.group(2).startswith('"') and _stands_apart(text, start, filt.end()):
            end = filt.end()
        tokens.append((start, end))
        pos = end
    return tokens


def _stands_apart(text: str, start: int, end: int) -> bool:
    before = text[start - 1] if start else " "
    after = text[end] if end < len(text) else " "
    return not _WORD.match(before) and not _WORD.match(after)


def _read(reader: _Reader, token: str, span: Span) -> None:
    if token in _OPERATORS:
        reader.hidden.append(span)
        _operator(reader, token)
        return
    filt = _FILTER.fullmatch(token)
    glob = _GLOB_EXT.fullmatch(token)
    if filt or glob:
        reader.hidden.append(span)
        key, value = (filt.group(1).lower(), filt.group(2).strip('"')) if filt else ("ext", glob.group(1))  # type: ignore[union-attr]
        try:
            reader.filters = apply_filter(reader.filters, key, value)
        except FilterError as exc:
            reader.errors.append(str(exc))
        return
    _term(reader, token, span)


def _operator(reader: _Reader, operator: str) -> None:
    if reader.pending:
        reader.errors.append(f"{reader.pending} {operator}: two operators in a row")
    last = reader.units[-1] if reader.units else None
    if operator != "NOT" and (last is None or last.excluded):
        reader.errors.append(f"{operator} needs a word before it")
        return
    reader.pending = operator


def _term(reader: _Reader, token: str, span: Span) -> None:
    sign = token[0] if token[0] in "+-" and len(token) > 1 else ""
    body = token[len(sign):]
    terms = _terms_of(body, whole=bool(sign) or reader.pending is not None)
    if not terms:  # punctuation only ("-", "…")
        reader.units.append(_Unit([]))
        return
    operator, reader.pending = reader.pending, None
    last = reader.units[-1] if reader.units else None
    if operator == "OR" and last is not None:
        last.terms += terms
        last.required = True
        return
    unit = _Unit(terms, required=sign == "+" or operator == "AND", excluded=sign == "-" or operator == "NOT")
    reader.hidden.append(span if unit.excluded else (span[0], span[0] + len(sign)))
    if operator == "AND" and last is not None:
        last.required = True
    reader.units.append(unit)


def _terms_of(body: str, whole: bool) -> list[Term]:
    """The terms of one typed piece: a phrase, a prefix, or its words (`whole`: as one term)."""
    phrase = _PHRASE.fullmatch(body)
    if phrase:
        inner = " ".join(next(g for g in phrase.groups() if g is not None).split())
        return [Term(inner, "phrase")] if _WORD.search(inner) else []
    words = _WORD.findall(body)
    if not words:
        return []
    if body.endswith("*") and len(words) == 1:
        return [Term(words[0], "prefix")]
    if whole and len(words) > 1:
        return [Term(" ".join(words), "phrase")]
    return [Term(w) for w in words]


def _embedder_text(source: str, reader: _Reader) -> str:
    """The query as typed, less filters, operators, excluded terms, signs and prefix stars."""
    kept = list(source)
    for start, end in reader.hidden:
        kept[start:end] = " " * (end - start)
    return " ".join(_PREFIX_STAR.sub("", "".join(kept)).split())


def _query(source: str, reader: _Reader) -> ParsedQuery:
    units = [u for u in reader.units if u.terms]
    soft = tuple(t for u in units if not (u.required or u.excluded) for t in u.terms)
    meaningful = any(not u.excluded for u in units)
    return ParsedQuery(
        text=_embedder_text(source, reader) if meaningful else "",
        soft=soft,
        required=tuple(tuple(u.terms) for u in units if u.required and not u.excluded),
        excluded=tuple(t for u in units if u.excluded for t in u.terms),
        phrases=tuple(dict.fromkeys(t.text for t in soft if t.kind == "phrase")),
        filters=reader.filters,
        errors=tuple(reader.errors),
    )
