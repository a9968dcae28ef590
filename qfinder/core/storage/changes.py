"""The catalog's change journal: the paths its committed writes touched, taken as one
`IndexChange` by whoever shows search results (the engine, after each step or removal).

    journal.updated(path); journal.removed(path); journal.removed_folder(folder)
    change = journal.take()    # everything since the last take; the journal starts empty again

A write that is rolled back may still be noted: a front end then asks its query once more for
nothing, which costs a search, never a wrong result. A removal replaces an earlier update of the
same path and an update an earlier removal (a file deleted and created again is there).
"""

from __future__ import annotations

from qfinder.core.state import IndexChange


class ChangeJournal:
    def __init__(self) -> None:
        self._updated: set[str] = set()
        self._removed: set[str] = set()
        self._folders: set[str] = set()
        self._roots: set[str] = set()

    def updated(self, path: str) -> None:
        self._removed.discard(path)
        self._updated.add(path)

    def removed(self, path: str) -> None:
        self._updated.discard(path)
        self._removed.add(path)

    def removed_folder(self, folder: str) -> None:
        self._folders.add(folder)

    def root_removed(self, root: str) -> None:
        self._roots.add(root)

    def take(self) -> IndexChange:
        change = IndexChange(frozenset(self._updated), frozenset(self._removed),
                             frozenset(self._folders), frozenset(self._roots))
        for noted in (self._updated, self._removed, self._folders, self._roots):
            noted.clear()
        return change
