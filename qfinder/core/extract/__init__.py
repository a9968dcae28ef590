"""Text extraction for indexing: ``extract_text(path, limits) -> Extracted``.

    from qfinder.core.extract import extract_text, ExtractLimits, kind_of, stat_signature
    result = extract_text(path)          # raises ExtractionError(reason) / FileChangedError
    result.text, result.pages, result.kind, result.encoding, result.truncated, result.signature

Text-like kinds (text, markdown, code, csv, json, html, eml) are read here, bounded by
``max_text_bytes``. Risky kinds (pdf, docx, pptx, xlsx, odt, epub) run in a reused child process
(``qfinder.core.extract.child``) with a time limit and an address-space cap; zip-based ones are
checked for bombs before inflating and never expand XML entities.

Changing files: ``extract_text`` takes ``stat_signature`` before and after reading and raises
``FileChangedError`` (an ``ExtractionError``) if size, mtime or inode moved; the indexer should
re-queue such a file rather than record a failure. ``Extracted.signature`` is the signature the
text belongs to. Known gap: on Windows there is no memory cap (no RLIMIT_AS).
"""

from __future__ import annotations

import os
import stat

from qfinder.core.errors import ExtractionError
from qfinder.core.extract.kinds import CHILD_KINDS, TEXT_KINDS, is_supported, kind_of
from qfinder.core.extract.model import (
    DEFAULT_LIMITS,
    BinaryFileError,
    Extracted,
    ExtractLimits,
    FileChangedError,
    Pages,
    StatSignature,
    human_size,
    stat_signature,
)
from qfinder.core.extract.plain import extract_plain
from qfinder.core.extract.worker import ChildExtractor, default_extractor

__all__ = [
    "BinaryFileError",
    "ChildExtractor",
    "ExtractLimits",
    "Extracted",
    "ExtractionError",
    "FileChangedError",
    "Pages",
    "StatSignature",
    "extract_text",
    "is_supported",
    "kind_of",
    "stat_signature",
]

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # encrypted OOXML is wrapped in an OLE container


def extract_text(
    path: str | os.PathLike[str],
    limits: ExtractLimits = DEFAULT_LIMITS,
    extractor: ChildExtractor | None = None,
) -> Extracted:
    """Extract the text of one file; raise ExtractionError with a human reason when impossible."""
    path_s = os.fspath(path)
    kind = kind_of(path_s)
    if kind not in TEXT_KINDS and kind not in CHILD_KINDS:
        raise ExtractionError("unsupported file type")
    before = _signature(path_s)
    if kind in TEXT_KINDS:
        text, encoding = extract_plain(path_s, kind, limits)
        pages: Pages | None = None
        truncated = len(text) > limits.max_text_chars
        text = text[: limits.max_text_chars]
    else:
        _precheck_child_file(path_s, kind, before, limits)
        encoding = None
        text, pages, truncated = (extractor or default_extractor()).extract(path_s, kind, limits)
    if _signature(path_s) != before:
        raise FileChangedError("file changed while it was read", "it will be read again")
    return Extracted(text, pages, kind, encoding, truncated, before)


def _signature(path: str) -> StatSignature:
    try:
        st = os.stat(path)
    except FileNotFoundError as exc:
        raise FileChangedError("file vanished while it was read") from exc
    except OSError as exc:
        raise ExtractionError(
            "permission denied" if isinstance(exc, PermissionError) else str(exc)
        ) from exc
    if not stat.S_ISREG(st.st_mode):
        raise ExtractionError("not a regular file (FIFO, socket or device)")
    return StatSignature(st.st_size, st.st_mtime_ns, st.st_ino)


def _precheck_child_file(
    path: str, kind: str, signature: StatSignature, limits: ExtractLimits
) -> None:
    """Cheap refusals before a child is involved: size, readability, encrypted Office files."""
    if signature.size > limits.max_file_bytes:
        limit = human_size(limits.max_file_bytes)
        raise ExtractionError(f"file too large ({human_size(signature.size)} > {limit})")
    if signature.size == 0:
        raise ExtractionError(f"empty {kind} file")
    from qfinder.core.extract.plain import read_bounded

    head, _ = read_bounded(path, 8)
    if kind != "pdf" and head.startswith(_OLE_MAGIC):
        raise ExtractionError("encrypted (password-protected) or legacy binary Office document")
