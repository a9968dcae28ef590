"""Saving and loading hnswlib index files safely: atomic writes, a manifest, header checks.

hnswlib protects nothing (design.md §4): save_index ignores write errors, a flipped byte loads
silently, a corrupt header segfaults, a wrong dim loads. So an index file is only loaded when
its manifest (`<name>.json`) matches what the caller expects AND the file's sha256 and header
fields agree; anything else raises `StaleIndexFile(reason)` and the caller rebuilds.

    manifest = save_index(index, path, Manifest(model_id, dim, M, ef_construction, generation, count))
    index, manifest = load_index(path, expected, max_elements)   # or StaleIndexFile

The re-score store (qfinder.core.vectors.rescore_store) uses the same StaleIndexFile and
read_store_manifest(path) -> StoreManifest, npy_bytes(array), block_crcs(matrix, rows); both
write through qfinder.core.paths.write_atomic / atomic_path.
"""

from __future__ import annotations

import hashlib
import io
import json
import struct
import zlib
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import hnswlib
import numpy as np

from qfinder.core.paths import atomic_path, ensure_private_dir, write_atomic

FORMAT = 1
STORE_FORMAT = 1  # the re-score store's files (qfinder.core.vectors.rescore_store)
_HEADER = struct.Struct("<QQQQQQiIQQQdQ")  # hnswlib 0.8 HierarchicalNSW::saveIndex layout
_LABEL_BYTES = 8


class StaleIndexFile(Exception):
    """The index file cannot be used as is (missing, stale, corrupt, other model); rebuild it."""


@dataclass(frozen=True)
class Manifest:
    model_id: str
    dim: int
    M: int
    ef_construction: int
    generation: int
    count: int  # elements in the file, deleted ones included
    sha256: str = ""
    format: int = FORMAT
    deleted: tuple[int, ...] = ()  # labels marked deleted (hnswlib cannot list them itself)
    catalog_uid: str = ""  # the catalog whose chunk ids the labels are


@dataclass(frozen=True)
class StoreManifest:
    """Manifest of the re-score store: what its rows are, and a crc32 of the ids file and of
    each block of rows (checked on load)."""

    model_id: str
    catalog_uid: str
    full_dim: int
    generation: int
    rows: int
    ids_crc: int
    block_crcs: tuple[int, ...]
    format: int = STORE_FORMAT


def read_store_manifest(path: Path) -> StoreManifest:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        m = StoreManifest(**{**raw, "block_crcs": tuple(raw.get("block_crcs", ()))})
    except (ValueError, TypeError, AttributeError) as exc:
        raise StaleIndexFile(f"unreadable manifest ({exc})") from exc
    numbers = (m.full_dim, m.generation, m.rows, m.ids_crc, *m.block_crcs)
    if not all(type(x) is int and x >= 0 for x in numbers):
        raise StaleIndexFile("manifest numbers out of range")
    return m


def block_crcs(matrix: np.ndarray, rows: int, first_block: int = 0) -> list[int]:
    """crc32 of each block of `rows` rows, from block `first_block` on."""
    return [
        zlib.crc32(np.ascontiguousarray(matrix[i : i + rows]).data)
        for i in range(first_block * rows, matrix.shape[0], rows)
    ]


def npy_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def manifest_path(index_path: Path) -> Path:
    return index_path.with_suffix(".json")


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def check_header(path: Path, manifest: Manifest) -> None:
    """Raise StaleIndexFile unless the file's hnswlib header matches the manifest (no hnswlib call)."""
    size = path.stat().st_size
    with open(path, "rb") as fh:
        raw = fh.read(_HEADER.size)
    if len(raw) < _HEADER.size:
        raise StaleIndexFile(f"truncated header ({size} bytes)")
    (off0, max_el, count, per_el, label_off, data_off, max_level, entry,
     max_m, max_m0, m, _mult, ef_c) = _HEADER.unpack(raw)  # fmt: skip
    links0 = manifest.M * 2 * 4 + 4
    expected = {
        "offset": (off0, 0),
        "count": (count, manifest.count),
        "M": (m, manifest.M),
        "maxM": (max_m, manifest.M),
        "maxM0": (max_m0, 2 * manifest.M),
        "ef_construction": (ef_c, manifest.ef_construction),
        "data offset": (data_off, links0),
        "label offset": (label_off, links0 + 4 * manifest.dim),
        "element size": (per_el, links0 + 4 * manifest.dim + _LABEL_BYTES),
    }
    for name, (found, wanted) in expected.items():
        if found != wanted:
            raise StaleIndexFile(f"header {name} is {found}, expected {wanted}")
    if max_el < count or not 0 <= max_level < 64 or (count and entry >= count):
        raise StaleIndexFile("header fields out of range")
    if size < _HEADER.size + count * (per_el + 4):
        raise StaleIndexFile(f"file truncated ({size} bytes for {count} elements)")


def save_index(index: hnswlib.Index, path: Path, manifest: Manifest) -> Manifest:
    """Write `index` to `path` atomically with its manifest; returns the manifest written."""
    ensure_private_dir(path.parent)  # hnswlib silently writes nothing into a missing folder
    with atomic_path(path) as tmp:
        index.save_index(str(tmp))  # into the private (0600) temp file, which it truncates
        if not tmp.stat().st_size:
            raise OSError(f"hnswlib wrote nothing to {tmp}")
        try:
            check_header(tmp, manifest)  # hnswlib reports no write errors: read back what landed
        except StaleIndexFile as exc:
            raise OSError(f"index file {tmp} did not save correctly: {exc}") from exc
        done = replace(manifest, sha256=sha256_of(tmp))
    write_atomic(manifest_path(path), json.dumps(asdict(done), indent=1))
    return done


def read_manifest(path: Path) -> Manifest:
    try:
        data = json.loads(manifest_path(path).read_text(encoding="utf-8"))
        return Manifest(**data)
    except FileNotFoundError as exc:
        raise StaleIndexFile("no manifest") from exc
    except (OSError, ValueError, TypeError) as exc:
        raise StaleIndexFile(f"unreadable manifest ({exc})") from exc


def load_index(path: Path, expected: Manifest, max_elements: int) -> tuple[hnswlib.Index, Manifest]:
    """Load a saved index after checking manifest, sha256 and header; `expected.generation`,
    `count` and `sha256` are not compared (an older generation is synced by the caller; a
    newer one than `expected.generation` means another catalog history: StaleIndexFile)."""
    if not path.exists():
        raise StaleIndexFile("no index file")
    manifest = read_manifest(path)
    for field in ("model_id", "catalog_uid", "dim", "M", "ef_construction", "format"):
        if getattr(manifest, field) != getattr(expected, field):
            raise StaleIndexFile(
                f"manifest {field} is {getattr(manifest, field)!r}, expected {getattr(expected, field)!r}"
            )
    if manifest.generation > expected.generation:
        raise StaleIndexFile(f"manifest generation {manifest.generation} is ahead of the catalog's")
    check_header(path, manifest)
    if sha256_of(path) != manifest.sha256:
        raise StaleIndexFile("sha256 differs from the manifest (file changed or damaged)")
    index = hnswlib.Index(space="ip", dim=manifest.dim)
    try:
        index.load_index(str(path), max_elements=max(max_elements, manifest.count))
    except (RuntimeError, MemoryError) as exc:
        raise StaleIndexFile(f"hnswlib could not load it ({exc})") from exc
    if index.get_current_count() != manifest.count:
        raise StaleIndexFile("element count differs from the manifest")
    return index, manifest
