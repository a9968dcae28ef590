"""The values of `key:value` filters in a query, and how two sets of filters combine.

    ext:pdf  ext:pdf,docx  *.pdf        file extensions
    type:code  type:pdf,doc             kinds of `qfinder.core.extract.kinds`, with a few aliases
    path:Finance  path:"My Documents"   text anywhere in the full path (case-insensitive)
    size:>1mb  size:<=10kb  size:1mb..5mb        decimal units (1 kB = 1000 B), as qfinder shows
    modified:2024  modified:2024-03  modified:2024-03-05  modified:2024-01..2024-06
    modified:>2024-05-01  modified:<2024  modified:2024-05..      dates in local time

`apply_filter(filters, key, value)` returns the filters with this one added or raises
`FilterError` with a message for the person who typed it. Several ext: or type: filters allow
any of them; every path: must match; sizes and dates narrow.
"""

from __future__ import annotations

import dataclasses
import re
from datetime import date, datetime, timedelta

from qfinder.core.extract.kinds import KINDS
from qfinder.core.results import SearchFilters

FILTER_KEYS = ("ext", "type", "path", "size", "modified")
# Words people use for a kind (Everything's and Recoll's categories) mapped to kinds.py's kinds.
TYPE_ALIASES: dict[str, tuple[str, ...]] = {
    "doc": ("docx", "odt"), "document": ("docx", "odt"), "word": ("docx",),
    "sheet": ("xlsx", "csv"), "spreadsheet": ("xlsx", "csv"), "excel": ("xlsx",),
    "slides": ("pptx",), "presentation": ("pptx",), "powerpoint": ("pptx",),
    "md": ("markdown",), "txt": ("text",), "email": ("eml",), "mail": ("eml",),
    "ebook": ("epub",), "web": ("html",),
}
_SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*([kmgt]i?b?|b)?", re.IGNORECASE)
_SIZE_UNITS = {"": 1, "b": 1, "k": 10**3, "m": 10**6, "g": 10**9, "t": 10**12,
               "ki": 2**10, "mi": 2**20, "gi": 2**30, "ti": 2**40}
_COMPARISON = re.compile(r"(>=|<=|>|<|=)?(.*)", re.DOTALL)
_INSTANT = 1e-6  # "before" bounds are inclusive: the last instant of a period is just before the next
_DATE = re.compile(r"(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?")


class FilterError(ValueError):
    """A filter value that cannot be understood; the message says what would be."""


def apply_filter(filters: SearchFilters, key: str, value: str) -> SearchFilters:
    if not value:
        raise FilterError(f"{key}: needs a value, e.g. {_EXAMPLES[key]}")
    return _APPLY[key](filters, value)


def _ext(filters: SearchFilters, value: str) -> SearchFilters:
    exts = tuple(e.lower().lstrip(".") for e in re.split(r"[,;|]", value) if e.strip("."))
    return _add(filters, kinds=exts)


def _type(filters: SearchFilters, value: str) -> SearchFilters:
    kinds: list[str] = []
    for name in (n.lower() for n in re.split(r"[,;|]", value) if n):
        if name not in KINDS and name not in TYPE_ALIASES:
            known = ", ".join(sorted(set(KINDS) | set(TYPE_ALIASES)))
            raise FilterError(f"type:{name}: unknown type; known types: {known}")
        kinds += TYPE_ALIASES.get(name, (name,))
    return _add(filters, types=tuple(kinds))


def _path(filters: SearchFilters, value: str) -> SearchFilters:
    return _add(filters, path_contains=(value.casefold(),))


def _size(filters: SearchFilters, value: str) -> SearchFilters:
    if ".." in value:
        low, high = value.split("..", 1)
        return _add(filters, min_size=_bytes(low) if low else None,
                    max_size=_bytes(high) if high else None)
    operator, amount = _COMPARISON.fullmatch(value).groups()  # type: ignore[union-attr]
    size = _bytes(amount)
    if operator in (None, "="):
        raise FilterError(f"size:{value}: say size:>{amount}, size:<{amount} or a range, e.g. size:1mb..5mb")
    if operator.startswith(">"):
        return _add(filters, min_size=size + (operator == ">"))
    return _add(filters, max_size=size - (operator == "<"))


def _bytes(text: str) -> int:
    match = _SIZE.fullmatch(text.strip())
    unit = (match.group(2) or "").lower().rstrip("b") if match else ""
    if match is None or unit not in _SIZE_UNITS:
        raise FilterError(f"size: {text!r} is not a size; write e.g. 500kb, 1.5mb, 2gb")
    return int(float(match.group(1)) * _SIZE_UNITS[unit])


def _modified(filters: SearchFilters, value: str) -> SearchFilters:
    if ".." in value:
        low, high = value.split("..", 1)
        after = _period(low)[0] if low else None
        before = _period(high)[1] - _INSTANT if high else None
        return _add(filters, modified_after=after, modified_before=before)
    operator, when = _COMPARISON.fullmatch(value).groups()  # type: ignore[union-attr]
    start, stop = _period(when)
    last = stop - _INSTANT
    after, before = {None: (start, last), "=": (start, last), ">": (stop, None), ">=": (start, None),
                     "<": (None, start - _INSTANT), "<=": (None, last)}[operator]
    return _add(filters, modified_after=after, modified_before=before)


def _period(text: str) -> tuple[float, float]:
    """(start, start of the next) of a year, month or day, as POSIX seconds in local time."""
    match = _DATE.fullmatch(text.strip())
    if match is None:
        raise FilterError(f"modified: {text!r} is not a date; write 2024, 2024-03 or 2024-03-15")
    year, month, day = (int(g) if g else None for g in match.groups())
    try:
        first = date(year, month or 1, day or 1)  # type: ignore[arg-type]
    except ValueError as exc:
        raise FilterError(f"modified: {text!r} is not a date ({exc})") from exc
    if day is not None:
        after = first + timedelta(days=1)
    elif month is not None:
        after = date(year + (month == 12), month % 12 + 1, 1)  # type: ignore[operator]
    else:
        after = date(first.year + 1, 1, 1)
    start = datetime.combine(first, datetime.min.time()).timestamp()
    return start, datetime.combine(after, datetime.min.time()).timestamp()


def _add(filters: SearchFilters, **values: object) -> SearchFilters:
    """`filters` with `values` added: lists grow (ext:pdf ext:docx is either), bounds narrow."""
    changes: dict[str, object] = {}
    for name, value in values.items():
        old = getattr(filters, name)
        if isinstance(old, tuple):
            changes[name] = tuple(dict.fromkeys(old + value))  # type: ignore[operator]
        elif value is not None:
            pick = max if name in ("min_size", "modified_after") else min
            changes[name] = value if old is None else pick(old, value)
    return dataclasses.replace(filters, **changes)  # type: ignore[arg-type]


_APPLY = {"ext": _ext, "type": _type, "path": _path, "size": _size, "modified": _modified}
_EXAMPLES = {"ext": "ext:pdf", "type": "type:code", "path": "path:Finance", "size": "size:>1mb",
             "modified": "modified:2024-03"}
