"""Plain immutable data the watcher hands to its consumer: change batches and notices."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

NoticeKind = Literal["restarted", "watch-limit", "polling", "unavailable", "available", "error"]


@dataclass(frozen=True)
class ChangeBatch:
    """Coalesced filesystem changes, to be applied in field order.

    Removals come first so that a folder deleted and re-created in one window ends up scanned.
    """

    removed_prefixes: tuple[str, ...] = ()  # folders moved out or deleted: drop everything below
    removed: tuple[str, ...] = ()  # files deleted or moved away
    changed: tuple[str, ...] = ()  # files created, modified, or the target of a move/atomic save
    scan_folders: tuple[str, ...] = ()  # folders created or moved in: walk them

    @property
    def is_empty(self) -> bool:
        return not (self.removed_prefixes or self.removed or self.changed or self.scan_folders)

    @property
    def size(self) -> int:
        return (
            len(self.removed_prefixes) + len(self.removed) + len(self.changed) + len(self.scan_folders)
        )


@dataclass(frozen=True)
class WatchNotice:
    """Something about the watching itself that the consumer should act on or show.

    `reconcile` lists the roots whose events may have been lost: walk them and compare.
    """

    kind: NoticeKind
    message: str
    hint: str = ""
    roots: tuple[str, ...] = ()
    reconcile: tuple[str, ...] = ()


WATCH_LIMIT_HINT = (
    "Raise the limit with `sudo sysctl fs.inotify.max_user_watches=524288` (add "
    "`fs.inotify.max_user_watches=524288` to /etc/sysctl.d/90-qfinder.conf to keep it). "
    "Until then these folders are checked by periodic polling."
)
