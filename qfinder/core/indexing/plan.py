"""What a scan has to do: compare a walked tree with the catalog by stat signature, then order.

Pure functions, no I/O: the indexer feeds them what `walk` found and what the catalog knows.
A file is unchanged when (size, mtime_ns, inode) match its catalog row, whatever its status:
a failed file is not retried and a name-only file is not re-read until it changes. A file that
vanished under one path and appeared under another with the same signature is a rename (the
content is the same, so nothing is re-extracted or re-embedded).

Order of content work: small and recent files first (a person most likely looks for what they
touched lately, and small files give results sooner), big and old ones last.

Public API::

    Signature(size, mtime_ns, inode)
    KnownFile(path, signature, status)
    ScanDiff(new, changed, renamed, gone, unchanged, needs_content)
    diff_tree(walked, known) -> ScanDiff        # walked: entries with path/size/mtime_ns/inode
    work_priority(size, mtime_ns, now_ns) -> tuple  (sort key, smaller first)
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

# Statuses whose content work is finished for the current signature.
SETTLED = frozenset({"indexed", "failed", "name-only"})


class StatEntry(Protocol):
    @property
    def path(self) -> str: ...
    @property
    def size(self) -> int: ...
    @property
    def mtime_ns(self) -> int: ...
    @property
    def inode(self) -> int: ...


@dataclass(frozen=True)
class Signature:
    size: int
    mtime_ns: int
    inode: int

    @classmethod
    def of(cls, entry: StatEntry) -> Signature:
        return cls(int(entry.size), int(entry.mtime_ns), int(entry.inode))


@dataclass(frozen=True)
class KnownFile:
    path: str
    signature: Signature
    status: str


@dataclass
class ScanDiff:
    new: list[StatEntry] = field(default_factory=list)
    changed: list[StatEntry] = field(default_factory=list)
    renamed: list[tuple[str, StatEntry]] = field(default_factory=list)  # (old path, new entry)
    gone: list[str] = field(default_factory=list)
    unchanged: int = 0
    needs_content: list[StatEntry] = field(default_factory=list)  # same signature, work unfinished

    @property
    def is_empty(self) -> bool:
        return not (self.new or self.changed or self.renamed or self.gone or self.needs_content)


def diff_tree(walked: Iterable[StatEntry], known: Mapping[str, KnownFile]) -> ScanDiff:
    """Classify every walked entry against the catalog rows `known` (keyed by path)."""
    diff = ScanDiff()
    seen: set[str] = set()
    for entry in walked:
        seen.add(entry.path)
        row = known.get(entry.path)
        if row is None:
            diff.new.append(entry)
        elif row.signature != Signature.of(entry):
            diff.changed.append(entry)
        elif row.status not in SETTLED:
            diff.needs_content.append(entry)
        else:
            diff.unchanged += 1
    diff.gone = [path for path in known if path not in seen]
    _pair_renames(diff, known)
    return diff


def _pair_renames(diff: ScanDiff, known: Mapping[str, KnownFile]) -> None:
    """Move (gone, new) pairs with one identical signature into `renamed`."""
    if not diff.gone or not diff.new:
        return
    gone_by_sig: dict[Signature, list[str]] = {}
    for path in diff.gone:
        row = known[path]
        if row.signature.inode and row.status in SETTLED:
            gone_by_sig.setdefault(row.signature, []).append(path)
    still_new: list[StatEntry] = []
    for entry in diff.new:
        candidates = gone_by_sig.get(Signature.of(entry))
        if candidates:
            diff.renamed.append((candidates.pop(), entry))
        else:
            still_new.append(entry)
    diff.new = still_new
    moved = {old for old, _ in diff.renamed}
    diff.gone = [path for path in diff.gone if path not in moved]


def work_priority(size: int, mtime_ns: int, now_ns: int | None = None) -> tuple[int, int]:
    """Sort key: size class (powers of 4 above 4 KiB), then most recently modified first."""
    now = time.time_ns() if now_ns is None else now_ns
    size_class = max(0, int(math.log(max(size, 1) / 4096, 4)) + 1) if size > 4096 else 0
    age_days = max(0, (now - mtime_ns) // 86_400_000_000_000)
    age_class = int(math.log2(age_days + 1))  # today, this week, month, year…
    return (size_class + age_class, -mtime_ns)
