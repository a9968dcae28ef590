"""Full-size vectors for the exact re-score: one contiguous float16 matrix and an id -> row map.

Internal to `qfinder.core.vectors.indexes` (which holds the lock). Reading the ANN candidates from
SQLite cost 6-16 ms per query; from this matrix it is one gather and one matmul.

    store = RescoreStore(folder, persist=True)
    store.sync(catalog, model_id, full_dim, autosave_s)   # load/verify/build, then add/remove
    ids, scores = store.rescore(labels, query)            # query: full-size, unit norm
    store.save(); store.delete()

Files (a cache, rebuilt from the catalog when anything is wrong): `rescore-f16.bin` float16
rows, memory-mapped read-only so the OS pages it (1M x 1024-d: 2 GB of disk, not of RAM);
`.ids.npy` the chunk id per row (-1: deleted); `.json` the manifest (model, catalog uid, dim,
generation, rows, crc32 of the ids and per BLOCK_ROWS rows). New rows stay in memory (`tail`)
until `save()` appends them; saved rows are never rewritten, so a reader's mapping or a crash
mid-save never sees them change. Past COMPACT_AT deleted rows the file is rewritten (tmp+rename).
"""

from __future__ import annotations

import json
import logging
import os
import time
import zlib
from dataclasses import asdict
from pathlib import Path

import numpy as np

from qfinder.core.paths import atomic_path, ensure_private_dir, write_atomic
from qfinder.core.storage.catalog import Catalog
from qfinder.core.vectors.files import (
    STORE_FORMAT,
    StaleIndexFile,
    StoreManifest,
    block_crcs,
    npy_bytes,
    read_store_manifest,
)
from qfinder.core.vectors.follow import catalog_change

log = logging.getLogger(__name__)

STORE_NAME = "rescore-f16"
BLOCK_ROWS = 4096  # rows per crc32 block (8 MB at 1024-d)
SAVE_ROWS = 8192  # unsaved appended rows that trigger a save
COMPACT_AT = 0.2  # deleted share of the rows that triggers a rewrite
_F16_SCALE = np.float32(2.0**112)  # float16 exponent bias 15 -> float32 bias 127


class RescoreStore:
    dirty: bool  # rows added/removed since the last save
    saved_at: float
    on_disk: bool  # `base` is the saved file (not rows kept in memory after a failed write)

    def __init__(self, folder: str | Path, persist: bool = True, compact_min: int = 4096) -> None:
        self.folder, self.persist, self.compact_min = Path(folder), persist, compact_min
        self.key: tuple[str, str, int] | None = None  # (model_id, catalog uid, full_dim) held
        self.generation = -1
        self._reset(0)

    @property
    def rows(self) -> int:
        return int(self.row_ids.size)

    @property
    def dead(self) -> int:
        return self.rows - int(self._ids.size)

    def sync(self, catalog: Catalog, model_id: str, full_dim: int, autosave_s: float) -> None:
        """Follow the catalog: (re)open on another model/catalog, then apply added/removed ids."""
        key = (model_id, catalog.uid(), full_dim)
        if key != self.key:
            self._open(catalog, key, catalog.generation())
        change = catalog_change(catalog, self.generation, self._ids)
        if change is None:
            return
        dead = self.dead + change.removed.size
        if dead > max(COMPACT_AT * (self.rows + change.added.size), self.compact_min):
            self._rebuild(catalog, change.generation)
            return
        self._remove(change.removed)
        for found, vectors in change.added_vectors(catalog):
            self._append(found, vectors)
        moved = bool(change.added.size or change.removed.size)
        self.generation, self.dirty = change.generation, self.dirty or moved
        stale = self.tail.shape[0] >= SAVE_ROWS or time.time() - self.saved_at > autosave_s
        if self.dirty and stale:
            self.save()

    def rescore(self, labels: np.ndarray, query: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(ids, cosine scores) of the labels held, best first; unknown labels are left out."""
        if not self._ids.size or not labels.size:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        pos = np.minimum(np.searchsorted(self._ids, labels), self._ids.size - 1)
        known = self._ids[pos] == labels
        found, rows = labels[known], self._rows[pos[known]]
        vectors = self._gather(rows)
        norms = np.sqrt(np.einsum("ij,ij->i", vectors, vectors))
        scores = (vectors @ query) / np.maximum(norms, 1e-12)
        order = np.argsort(-scores, kind="stable")
        return found[order].astype(np.int64), scores[order].astype(np.float32)

    def save(self) -> None:
        """Append the in-memory rows to the file, then write the ids and the manifest."""
        if not self.persist or not self.dirty or not self.on_disk:
            self.dirty = False
            return
        try:
            self._write_tail()
            self._write_meta()
        except OSError as exc:  # a cache: searching goes on from memory
            log.warning("could not save the re-score vectors to %s: %s", self.folder, exc)

    def delete(self) -> None:
        """Forget everything and delete the files (rebuilt from the catalog when needed)."""
        self.key, self.generation = None, -1
        self._reset(0)
        for path in self._paths():
            path.unlink(missing_ok=True)

    def disk_bytes(self) -> int:
        """What the saved store takes on disk (its matrix, row ids and manifest)."""
        return sum(path.stat().st_size for path in self._paths() if path.is_file())

    def _paths(self) -> tuple[Path, Path, Path]:
        stem = self.folder / STORE_NAME
        return stem.with_suffix(".bin"), stem.with_suffix(".ids.npy"), stem.with_suffix(".json")

    def _reset(self, full_dim: int) -> None:
        self.base: np.ndarray = np.zeros((0, full_dim), dtype=np.float16)  # saved rows (mapped)
        self.tail = np.zeros((0, full_dim), dtype=np.float16)  # rows appended since the save
        self.row_ids = np.zeros(0, dtype=np.int64)  # chunk id of every row, -1 when deleted
        self._ids = np.zeros(0, dtype=np.int64)  # sorted live chunk ids ...
        self._rows = np.zeros(0, dtype=np.int64)  # ... and their rows
        self.block_crcs: list[int] = []
        self._buf16 = np.zeros((0, full_dim), dtype=np.float16)  # re-score buffers, reused
        self._buf32 = np.zeros((0, full_dim), dtype=np.float32)
        self._signs = np.zeros((0, full_dim), dtype=np.uint32)
        self.dirty, self.saved_at, self.on_disk = False, time.time(), False

    def _index_rows(self) -> None:
        live = np.flatnonzero(self.row_ids >= 0)
        order = np.argsort(self.row_ids[live], kind="stable")
        self._rows = live[order]
        self._ids = self.row_ids[self._rows]

    def _gather(self, rows: np.ndarray) -> np.ndarray:
        """float32 copies of `rows`, in buffers kept between queries: fresh arrays of a few MB
        cost more in page faults than the arithmetic; numpy's float16 cast is not vectorised
        (1.6 ms for 640 x 1024 where the bit arithmetic below takes 0.5 ms)."""
        n, full_dim = rows.size, self.tail.shape[1]
        if self._buf16.shape[0] < n or self._buf16.shape[1] != full_dim:
            self._buf16 = np.empty((max(n, 1024), full_dim), dtype=np.float16)
            self._buf32 = np.empty((max(n, 1024), full_dim), dtype=np.float32)
            self._signs = np.empty((max(n, 1024), full_dim), dtype=np.uint32)
        halves, saved = self._buf16[:n], self.base.shape[0]
        if not self.tail.shape[0]:
            np.take(self.base, rows, axis=0, out=halves)
        else:
            in_base = rows < saved
            halves[in_base] = self.base[rows[in_base]]
            halves[~in_base] = self.tail[rows[~in_base] - saved]
        return _to_float32(halves, self._buf32[:n], self._signs[:n])

    def _append(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        if not ids.size:
            return
        self.tail = np.concatenate([self.tail, vectors.astype(np.float16)])
        self.row_ids = np.concatenate([self.row_ids, ids.astype(np.int64)])
        self._index_rows()

    def _remove(self, ids: np.ndarray) -> None:
        if ids.size:
            self.row_ids[np.isin(self.row_ids, ids)] = -1
            self._index_rows()

    def _open(self, catalog: Catalog, key: tuple[str, str, int], generation: int) -> None:
        self.key = key
        try:
            self._load(key, generation)
        except (StaleIndexFile, OSError, ValueError) as exc:
            log.info("rebuilding the re-score vectors from the catalog: %s (%s)", exc, self.folder)
            self._rebuild(catalog, generation)

    def _load(self, key: tuple[str, str, int], generation: int) -> None:
        data, ids_path, meta = self._paths()
        if not meta.exists():
            raise StaleIndexFile("no manifest")
        m = read_store_manifest(meta)
        if (m.model_id, m.catalog_uid, m.full_dim, m.format) != (*key, STORE_FORMAT):
            raise StaleIndexFile("manifest of another model, catalog or format")
        if m.generation > generation:
            raise StaleIndexFile(f"manifest generation {m.generation} is ahead of the catalog's")
        row_ids = np.load(ids_path, allow_pickle=False)
        if row_ids.dtype != np.int64 or row_ids.shape != (m.rows,):
            raise StaleIndexFile("ids file does not match the manifest")
        if zlib.crc32(row_ids.data) != m.ids_crc:
            raise StaleIndexFile("ids crc32 differs from the manifest")
        if data.stat().st_size < m.rows * m.full_dim * 2:
            raise StaleIndexFile("data file truncated")
        base = self._map(data, m.rows, m.full_dim)
        if block_crcs(base, BLOCK_ROWS) != list(m.block_crcs):
            raise StaleIndexFile("data crc32 differs from the manifest (file changed or damaged)")
        self._reset(m.full_dim)
        self.base, self.row_ids, self.block_crcs = base, row_ids.copy(), list(m.block_crcs)
        self.generation, self.on_disk = m.generation, True
        self._index_rows()

    @staticmethod
    def _map(path: Path, rows: int, full_dim: int) -> np.ndarray:
        if not rows:
            return np.zeros((0, full_dim), dtype=np.float16)
        return np.memmap(path, dtype=np.float16, mode="r", shape=(rows, full_dim))

    def _rebuild(self, catalog: Catalog, generation: int) -> None:
        assert self.key is not None
        full_dim = self.key[2]
        self._reset(full_dim)  # drops our mapping first (Windows cannot replace a mapped file)
        self.generation = generation
        if self.persist:
            try:
                return self._rebuild_file(catalog, full_dim)
            except OSError as exc:  # a cache: kept in memory instead
                log.warning("could not write the re-score vectors to %s: %s", self.folder, exc)
                self._reset(full_dim)
                self.generation = generation
        blocks, ids = [], []
        for found, vectors in catalog.iter_vectors():
            blocks.append(vectors.astype(np.float16))
            ids.append(found)
        self.base = np.concatenate(blocks) if blocks else self.base
        self.row_ids = np.concatenate(ids) if ids else self.row_ids
        self._index_rows()

    def _rebuild_file(self, catalog: Catalog, full_dim: int) -> None:
        data = self._paths()[0]
        ensure_private_dir(self.folder)
        ids = []
        with atomic_path(data) as tmp, open(tmp, "wb") as fh:
            for found, vectors in catalog.iter_vectors():
                fh.write(vectors.astype(np.float16).tobytes())
                ids.append(found)
        self.row_ids = np.concatenate(ids) if ids else self.row_ids
        self.base = self._map(data, self.rows, full_dim)
        self.block_crcs = block_crcs(self.base, BLOCK_ROWS)
        self._index_rows()
        self._write_meta()
        self.on_disk = True

    def _write_tail(self) -> None:
        """Write the tail after the saved rows (never over them), then map the grown file."""
        assert self.key is not None
        data, saved, full_dim = self._paths()[0], self.base.shape[0], self.key[2]
        if not self.tail.shape[0]:
            return
        with open(data, "r+b") as fh:
            fh.seek(saved * full_dim * 2)
            fh.write(self.tail.tobytes())
            fh.truncate()
            fh.flush()
            os.fsync(fh.fileno())
        self.base = self._map(data, saved + self.tail.shape[0], full_dim)
        self.tail = np.zeros((0, full_dim), dtype=np.float16)
        del self.block_crcs[saved // BLOCK_ROWS :]
        self.block_crcs += block_crcs(self.base, BLOCK_ROWS, saved // BLOCK_ROWS)

    def _write_meta(self) -> None:
        """The ids, then the manifest (each atomically); a crash between is a crc mismatch."""
        assert self.key is not None
        _, ids_path, meta = self._paths()
        crc = zlib.crc32(self.row_ids.data)
        manifest = StoreManifest(*self.key, self.generation, self.rows, crc, tuple(self.block_crcs))
        write_atomic(ids_path, npy_bytes(self.row_ids))
        write_atomic(meta, json.dumps(asdict(manifest)))
        self.dirty, self.saved_at = False, time.time()


def _to_float32(halves: np.ndarray, out: np.ndarray, signs: np.ndarray) -> np.ndarray:
    """Exact float16 -> float32 of finite values in place: magnitude bits moved to float32's
    places, then scaled by 2**112 (which also makes float16 subnormals right), sign kept."""
    bits = out.view(np.uint32)
    np.copyto(bits, halves.view(np.uint16), casting="unsafe")
    np.left_shift(bits, 16, out=signs)
    np.bitwise_and(signs, 0x80000000, out=signs)
    np.bitwise_and(bits, 0x7FFF, out=bits)
    np.left_shift(bits, 13, out=bits)
    np.bitwise_or(bits, signs, out=bits)
    return np.multiply(out, _F16_SCALE, out=out)
