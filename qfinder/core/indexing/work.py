"""One file's content work for the indexer: read it, check it held still, cut it into chunks.

    work = prepare_file(file_id, path, expected, chunker, limits)
    work.outcome: "ready" (chunks to embed/store) | "failed" | "name-only" | "changed" | "gone"

Nothing here writes to the catalog or runs the model: `qfinder.core.indexing.indexer` decides what to do
with each outcome. A file whose (size, mtime_ns, inode) differs after reading from before is
"changed" (re-queued, never half-indexed); extraction errors become "failed" with the reason, a
file without text becomes "name-only" (its name and path stay searchable).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from qfinder.core.errors import ExtractionError
from qfinder.core.extract import (
    BinaryFileError,
    ChildExtractor,
    ExtractLimits,
    FileChangedError,
    extract_text,
    kind_of,
    stat_signature,
)
from qfinder.core.indexing.chunking import Chunk
from qfinder.core.indexing.plan import Signature

Chunker = Callable[[str, "tuple[tuple[int, int], ...] | None", bool], Sequence[Chunk]]  # text, pages, is_code


@dataclass
class FileWork:
    file_id: int
    path: str
    outcome: str  # ready | failed | name-only | changed | gone
    signature: Signature | None = None  # the signature the content was read at
    reason: str = ""
    chunks: Sequence[Chunk] = ()
    content_hash: str | None = None
    vectors: dict[str, np.ndarray] = field(default_factory=dict)  # chunk hash -> full vector
    size: int = 0

    def missing(self) -> list[Chunk]:
        """Chunks still without a vector (one per distinct hash)."""
        seen: set[str] = set()
        out = []
        for chunk in self.chunks:
            if chunk.hash not in self.vectors and chunk.hash not in seen:
                seen.add(chunk.hash)
                out.append(chunk)
        return out

    @property
    def complete(self) -> bool:
        return all(chunk.hash in self.vectors for chunk in self.chunks)


def _signature(path: str) -> Signature | None:
    try:
        sig = stat_signature(path)
    except OSError:
        return None
    return Signature(sig.size, sig.mtime_ns, sig.inode)


def prepare_file(file_id: int, path: str, chunker: Chunker, limits: ExtractLimits,
                 extractor: ChildExtractor | None = None) -> FileWork:
    before = _signature(path)
    if before is None:
        return FileWork(file_id, path, "gone")
    kind = kind_of(path)
    if kind == "other":
        return FileWork(file_id, path, "name-only", before, "not a format qfinder reads text from", size=before.size)
    try:
        extracted = extract_text(path, limits, extractor)
    except FileChangedError:
        return FileWork(file_id, path, "changed", before, size=before.size)
    except BinaryFileError as exc:
        return FileWork(file_id, path, "name-only", before, str(exc), size=before.size)
    except ExtractionError as exc:
        return FileWork(file_id, path, "failed", before, str(exc), size=before.size)
    except OSError as exc:
        reason = f"could not be read ({exc.strerror or exc})"
        return FileWork(file_id, path, "failed", before, reason, size=before.size)
    chunks = list(chunker(extracted.text, extracted.pages, kind == "code")) if extracted.text.strip() else []
    after = _signature(path)  # after chunking too: the whole read must see one version
    if after != before:
        return FileWork(file_id, path, "changed" if after else "gone", after, size=before.size)
    if not chunks:
        return FileWork(file_id, path, "name-only", before, "no text found in the file", size=before.size)
    digest = hashlib.blake2b(extracted.text.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()
    return FileWork(file_id, path, "ready", before, chunks=chunks, content_hash=digest, size=before.size)
