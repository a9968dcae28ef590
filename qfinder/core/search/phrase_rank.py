"""Exact phrases rank, never filter: files that hold a query's "quoted phrases" come first, and
a phrase found nowhere leaves the answer by meaning as it is, with a note.

Quotes in natural questions are emphasis as often as syntax (`What was named "The Tesla"?`);
requiring them literally emptied 7 of 300 cross-lingual searches, whose quoted words occur in
no file of the other language.

    phrases = PhraseHits.find(catalog, query, limit, filters)   # phrase -> chunk ids, per phrase
    ranked = phrases_first(ranked, phrases.files(chunk_rows))   # stable: more phrases first
    phrases.notes()                                             # ("no exact match for “…”",)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

from qfinder.core.results import SearchFilters
from qfinder.core.search.query_syntax import ParsedQuery
from qfinder.core.storage.types import ChunkRow

Ranked = TypeVar("Ranked", bound=tuple)


class PhraseCatalog(Protocol):
    def phrase_search(self, phrase: str, query: ParsedQuery, limit: int = ...,
                      filters: SearchFilters | None = ...) -> list[int]: ...


@dataclass(frozen=True)
class PhraseHits:
    by_phrase: dict[str, list[int]]  # chunk ids holding each phrase literally, best first

    @classmethod
    def find(cls, catalog: PhraseCatalog, query: ParsedQuery, limit: int,
             filters: SearchFilters | None = None) -> PhraseHits:
        return cls({p: catalog.phrase_search(p, query, limit, filters) for p in query.phrases})

    def chunk_ids(self) -> list[int]:
        return list(dict.fromkeys(cid for ids in self.by_phrase.values() for cid in ids))

    def files(self, rows: Mapping[int, ChunkRow]) -> dict[int, int]:
        """{file id: how many of the phrases it holds}."""
        count: dict[int, int] = {}
        for ids in self.by_phrase.values():
            for file_id in {rows[c].file_id for c in ids if c in rows}:
                count[file_id] = count.get(file_id, 0) + 1
        return count

    def notes(self) -> tuple[str, ...]:
        return tuple(f"no exact match for “{p}”" for p, ids in self.by_phrase.items() if not ids)


def phrases_first(ranked: Sequence[Ranked], phrase_count: Mapping[int, int]) -> list[Ranked]:
    """`ranked` (file id first in each item) with files holding more phrases first, else as it was."""
    return sorted(ranked, key=lambda item: -phrase_count.get(item[0], 0))
