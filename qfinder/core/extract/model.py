"""Plain data of extraction: limits, results, the stat signature used to detect changing files."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from typing import Any

from qfinder.core.errors import ExtractionError

Pages = tuple[tuple[int, int], ...]  # (char offset where the page starts, 1-based page number)


@dataclass(frozen=True)
class ExtractLimits:
    """Per-file limits. Defaults suit a desktop indexer; the settings UI may change them."""

    max_file_bytes: int = 200 * 1024 * 1024  # larger PDF/Office files are refused outright
    max_text_bytes: int = 16 * 1024 * 1024  # text-like files: only this much is read
    max_text_chars: int = 4_000_000  # extracted text is cut here (Extracted.truncated)
    time_limit_s: float = 30.0  # child-process formats: the extractor is killed after this
    memory_limit_bytes: int = 1536 * 1024 * 1024  # child address-space cap (POSIX RLIMIT_AS)
    max_zip_members: int = 10_000
    max_zip_uncompressed: int = 512 * 1024 * 1024  # sum of declared member sizes
    max_zip_ratio: float = 200.0  # uncompressed / compressed, whole archive and per big member

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


DEFAULT_LIMITS = ExtractLimits()


@dataclass(frozen=True)
class StatSignature:
    """What identifies a file version: compare before and after reading it."""

    size: int
    mtime_ns: int
    inode: int


@dataclass(frozen=True)
class Extracted:
    """Text of one file. ``pages`` marks where each PDF page / PPTX slide / XLSX sheet starts."""

    text: str
    pages: Pages | None
    kind: str
    encoding: str | None
    truncated: bool = False
    signature: StatSignature | None = field(default=None, compare=False)


class BinaryFileError(ExtractionError):
    """The file claims to be text but is binary: index its name only (message "binary file")."""


def human_size(size: int) -> str:
    """Sizes in reasons people read: "12 MiB", "59 KiB"."""
    mib = 1024 * 1024
    return f"{size / mib:.0f} MiB" if size >= mib else f"{size / 1024:.0f} KiB"


class FileChangedError(ExtractionError):
    """The file changed (size, mtime or inode) while it was read: re-queue it, do not index it."""


def stat_signature(path: str | os.PathLike[str]) -> StatSignature:
    """(size, mtime_ns, inode) of ``path``, following symlinks; raises OSError if it is gone.

    The indexer takes it before extracting and again afterwards (``extract_text`` also does this
    itself and raises ``FileChangedError``); any difference means the file is re-queued.
    """
    st = os.stat(path)
    return StatSignature(st.st_size, st.st_mtime_ns, st.st_ino)
