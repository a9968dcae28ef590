"""The catalog: qfinder's source of truth in one SQLite file (WAL, one writer, many readers).

Longer than ~300 lines because every write of the catalog is here, one transaction discipline
(`write()`, the generation bump, the FTS and vector rows kept in step); reads live in reads.py,
opening and recovery in recovery.py.

    from qfinder.core.storage.catalog import Catalog, PipelineStamp
    cat = Catalog(data_dir / "catalog.db")               # the one writer (creates 0700/0600 files)
    ro = Catalog(data_dir / "catalog.db", readonly=True)  # readers, any process; never block the writer

Opening: a damaged file, or one made by a qfinder with another schema version, raises IndexError_
for readers; the writer moves it aside (`catalog.db.corrupt-<time>` or `catalog.db.old-<time>`,
see `cat.recovery`) and starts fresh, unless recover=False.

Pipeline stamp (model_id, full_dim, chunker_version): before indexing,
    if not cat.stamp_matches(stamp): cat.reset_for_stamp(stamp)   # drops all chunks/vectors
so vectors of two models can never mix. `cat.generation()` is bumped on every vector change.

Writing (each call is its own BEGIN IMMEDIATE transaction; group several in `with cat.write():`):
    root_id = cat.add_root(path);  cat.mark_root(path, "unavailable");  cat.remove_root(path)
    cat.set_scan_failures(root, [FileFailure(path, reason), …])   # what its last walk missed
    file_id, changed = cat.upsert_file(path, root_id=…, size=…, mtime_ns=…, inode=…, kind="txt")
        new or changed stat -> status "pending" (old chunks stay searchable until replaced)
    cached = cat.cached_vectors([c.hash for c in chunks])  # {hash: float16 vector} already stored
    cat.replace_file_chunks(file_id, [(chunk, vector), …], content_hash=…)  # status -> indexed
        vectors: full-size, finite, not all zero (else IndexError_); stored as float16;
        returns False (stores nothing) when the file row was deleted meanwhile
    cat.mark_file(file_id, "failed" | "name-only" | "pending", error="reason")
    cat.move_path(old, new); cat.delete_file(path); cat.delete_prefix(folder)
    cat.changes.take() -> IndexChange: the paths these writes touched since the last take
Reading (also on read-only connections): see `qfinder.core.storage.reads.CatalogReads`:
    stamp(), generation(), roots(), file(path), files_by_id(ids), files_with_status(status),
    file_states_under(root), counts(root=None), failures(), scan_failures(), chunks(ids),
    file_chunk_ids(path),
    cached_vectors(hashes), vectors(ids) -> (found_ids, float32 [m, full_dim]),
    all_vector_ids(), iter_vectors(block), fts_search(query, limit, filters) -> [(chunk_id, score)],
    name_search(query, limit, filters) -> [(file_id, score)]
Errors: every SQLite failure in use is an IndexError_ (busy: another writer held the lock past
10 s; otherwise damaged/unreadable, with a hint). Status values: pending | indexed | failed |
name-only ("failed"/"name-only" drop the file's chunks; its name stays searchable).
Paths are stored exactly, also names that are not valid UTF-8 (qfinder.core.pathnames): as their
bytes in TEXT columns, read back as the same str os.scandir gives.
Threads: one Catalog may be shared by threads (a lock serialises its connection); processes each
open their own. Write from one process only. `cat.compact()` (run by remove_root and
reset_for_stamp) merges FTS segments and checkpoints the WAL; `cat.settle()` (when indexing has
caught up) and every failed write truncate the WAL too, so a full disk gets its space back.
Damage: a failed request is called damage (CatalogDamaged) only when `PRAGMA quick_check`
confirms it; the writer also checks every page on opening. Either way the writer then keeps the
file aside and starts a new one holding what could be read back (`cat.recovery`: its folders, and
its vectors by chunk hash so that unchanged text is not embedded again).
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np

from qfinder.core.errors import IndexError_
from qfinder.core.indexing.chunking import Chunk
from qfinder.core.pathnames import db_text_factory, sql_path
from qfinder.core.state import FileFailure
from qfinder.core.storage.calibration import SAMPLE_KEY, load_sample
from qfinder.core.storage.changes import ChangeJournal
from qfinder.core.storage.query import prefix_condition
from qfinder.core.storage.reads import SCAN_FAILURES_KEY, CatalogReads
from qfinder.core.storage.recovery import db_error, open_checked
from qfinder.core.storage.salvage import salvage
from qfinder.core.storage.schema import make_private
from qfinder.core.storage.types import (
    FILE_STATUSES,
    CatalogCounts,
    ChunkRow,
    FileRow,
    PipelineStamp,
    RootRow,
)

__all__ = ["Catalog", "CatalogCounts", "ChunkRow", "FileRow", "PipelineStamp", "RootRow"]

log = logging.getLogger(__name__)


class Catalog(CatalogReads):
    def __init__(
        self, db_path: str | os.PathLike[str], readonly: bool = False, recover: bool = True
    ) -> None:
        self.path = Path(db_path)
        self.readonly = readonly
        self._lock = threading.RLock()
        self._depth = 0
        self._conn, recovery = open_checked(self.path, readonly, recover)
        self._conn.text_factory = db_text_factory  # paths stored as their bytes read back exactly
        if recovery is not None and not recovery.problem.other_version:
            kept = salvage(self._conn, recovery.kept_at)
            recovery = replace(recovery, roots_kept=kept.roots, vectors_kept=kept.vectors)
        self.recovery = recovery
        self.changes = ChangeJournal()  # what writes changed, for open result lists

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> Catalog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """A write transaction (BEGIN IMMEDIATE: waits for other writers up to busy_timeout,
        never fails half-way on a lock upgrade). Nested uses join the outer transaction."""
        if self.readonly:
            raise IndexError_("This catalog was opened read-only.", "Only the indexer writes.")
        with self._lock:
            if self._depth:
                self._depth += 1
                try:
                    yield self._conn
                finally:
                    self._depth -= 1
                return
            try:
                self._conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise db_error(self.path, exc, self._conn) from exc
            self._depth = 1
            try:
                yield self._conn
                self._conn.execute("COMMIT")
            except BaseException as exc:
                with suppress(sqlite3.Error):
                    self._conn.execute("ROLLBACK")
                if isinstance(exc, sqlite3.Error):
                    self.checkpoint()  # a failed write on a full disk must not leave a WAL on it
                    raise db_error(self.path, exc, self._conn) from exc
                raise
            finally:
                self._depth = 0

    def _bump(self, conn: sqlite3.Connection) -> None:
        conn.execute("UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'generation'")

    # --- pipeline ---------------------------------------------------------------------------
    def reset_for_stamp(self, stamp: PipelineStamp) -> None:
        """Adopt a new pipeline: drop every chunk and vector, mark all files pending."""
        with self.write() as conn:
            conn.execute("DELETE FROM chunks")
            conn.execute("DELETE FROM kept_vectors")  # made by the old pipeline
            conn.execute("UPDATE files SET status = 'pending', content_hash = NULL, error = NULL")
            conn.execute(
                "INSERT OR REPLACE INTO meta(key, value) VALUES ('stamp', ?)",
                (json.dumps(asdict(stamp)),),
            )
            self._bump(conn)
        log.info("catalog reset for pipeline %s", stamp)
        self.compact()

    # --- roots --------------------------------------------------------------------------------
    def add_root(self, path: str) -> int:
        with self.write() as conn:
            conn.execute(
                "INSERT INTO roots(path, state, added) VALUES (CAST(? AS TEXT), 'watching', ?) "
                "ON CONFLICT(path) DO UPDATE SET state = 'watching'",
                (sql_path(path), time.time()),
            )
            row = conn.execute("SELECT id FROM roots WHERE path = CAST(? AS TEXT)", (sql_path(path),))
            return int(row.fetchone()[0])

    def mark_root(self, path: str, state: str) -> None:
        with self.write() as conn:
            conn.execute("UPDATE roots SET state = ? WHERE path = CAST(? AS TEXT)", (state, sql_path(path)))

    def remove_root(self, path: str) -> int:
        """Forget a root: its files, chunks, vectors and FTS rows are deleted (and compacted)."""
        with self.write() as conn:
            conn.execute("DELETE FROM roots WHERE path = CAST(? AS TEXT)", (sql_path(path),))
            removed = self.delete_prefix(path)
            self.set_scan_failures(path, [])
        self.changes.root_removed(path)
        self.compact()
        return removed

    def set_scan_failures(self, root: str, failures: Sequence[FileFailure]) -> None:
        """Replace what the walk of `root` could not list or record (see `failures()`)."""
        with self.write() as conn:
            by_root = self._scan_failures_by_root()
            by_root.pop(root, None)
            if failures:
                by_root[root] = [[f.path, f.reason] for f in failures]
            conn.execute(  # JSON escapes the lone surrogates of undecodable names: kept exactly
                "INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)",
                (SCAN_FAILURES_KEY, json.dumps(by_root)),
            )

    # --- files --------------------------------------------------------------------------------
    def upsert_file(
        self,
        path: str,
        *,
        root_id: int | None,
        size: int,
        mtime_ns: int,
        inode: int,
        kind: str = "",
    ) -> tuple[int, bool]:
        """(file id, changed): a new file or a changed (size, mtime_ns, inode) becomes pending."""
        with self.write() as conn:
            row = conn.execute(
                "SELECT id, size, mtime_ns, inode FROM files WHERE path = CAST(? AS TEXT)",
                (sql_path(path),),
            ).fetchone()
            if row is None:
                cur = conn.execute(
                    "INSERT INTO files(path, root_id, name, size, mtime_ns, inode, kind) "
                    "VALUES (CAST(? AS TEXT), ?, CAST(? AS TEXT), ?, ?, ?, ?)",
                    (sql_path(path), root_id, sql_path(_name(path)), size, mtime_ns, inode, kind),
                )
                self.changes.updated(path)  # its name is searchable from now on
                return int(cur.lastrowid or 0), True
            if tuple(row[1:]) == (size, mtime_ns, inode):
                return int(row[0]), False
            conn.execute(
                "UPDATE files SET root_id = ?, size = ?, mtime_ns = ?, inode = ?, kind = ?, status = 'pending', "
                "error = NULL WHERE id = ?",
                (root_id, size, mtime_ns, inode, kind, row[0]),
            )
            return int(row[0]), True

    def mark_file(self, file_id: int, status: str, error: str | None = None) -> None:
        """Record a status; "failed"/"name-only" drop the file's old chunks (not retried until it changes)."""
        if status not in FILE_STATUSES:
            raise ValueError(f"unknown file status {status!r}")
        with self.write() as conn:
            dropping = status in ("failed", "name-only")
            if (
                dropping
                and conn.execute("DELETE FROM chunks WHERE file_id = ?", (file_id,)).rowcount
            ):
                self._bump(conn)
            conn.execute(
                "UPDATE files SET status = ?, error = ?, indexed_at = ? WHERE id = ?",
                (status, error, time.time(), file_id),
            )
            if status != "pending":
                self._note_updated(conn, file_id)

    def replace_file_chunks(
        self,
        file_id: int,
        items: Sequence[tuple[Chunk, np.ndarray | None]],
        content_hash: str | None = None,
    ) -> bool:
        """Make `items` (chunk, full-size vector or None: words only) the file's chunks, in one
        transaction; the file becomes "indexed". Chunks whose hash the file already had keep their id (and the vector
        caches need no update for them). False (nothing stored) if the file row is gone."""
        stamp = self.stamp()
        if stamp is None:
            raise IndexError_("No pipeline stamp is set.", "Call reset_for_stamp(stamp) first.")
        blobs = [None if vec is None else _vector_blob(vec, stamp.full_dim) for _, vec in items]
        with self.write() as conn:
            if conn.execute("SELECT 1 FROM files WHERE id = ?", (file_id,)).fetchone() is None:
                return False  # deleted meanwhile: never leave orphan chunks
            old = _chunk_ids_by_hash(conn, file_id)
            changed = False
            for ord_, ((chunk, _), blob) in enumerate(zip(items, blobs, strict=True)):
                reuse = old.get(chunk.hash)
                if reuse:
                    conn.execute(
                        'UPDATE chunks SET ord = ?, start = ?, "end" = ?, page = ?, line = ? WHERE id = ?',
                        (ord_, chunk.start, chunk.end, chunk.page, chunk.line, reuse.pop(0)),
                    )
                else:
                    _insert_chunk(conn, file_id, ord_, chunk, blob)
                    changed = True
            leftovers = [(cid,) for ids in old.values() for cid in ids]
            conn.executemany("DELETE FROM chunks WHERE id = ?", leftovers)
            conn.execute(
                "UPDATE files SET status = 'indexed', error = NULL, indexed_at = ?, content_hash = ? WHERE id = ?",
                (time.time(), content_hash, file_id),
            )
            if changed or leftovers:
                self._bump(conn)
            self._note_updated(conn, file_id)
        return True

    def _note_updated(self, conn: sqlite3.Connection, file_id: int) -> None:
        row = conn.execute("SELECT path FROM files WHERE id = ?", (file_id,)).fetchone()
        if row is not None:
            self.changes.updated(row[0])

    def move_path(self, old: str, new: str) -> int:
        """A file or folder was renamed/moved: keep its rows (no re-embedding). Returns files moved."""
        old_base, new_base = old.rstrip("/\\"), new.rstrip("/\\")
        cond, params = prefix_condition(old_base)
        with self.write() as conn:
            rows = conn.execute(f"SELECT id, path FROM files WHERE {cond}", params).fetchall()
            for fid, path in rows:
                moved = new_base + path[len(old_base) :]
                conn.execute(
                    "DELETE FROM files WHERE path = CAST(? AS TEXT) AND id != ?", (sql_path(moved), fid)
                )
                conn.execute(
                    "UPDATE files SET path = CAST(? AS TEXT), name = CAST(? AS TEXT) WHERE id = ?",
                    (sql_path(moved), sql_path(_name(moved)), fid),
                )
                self.changes.removed(path)
                self.changes.updated(moved)
            self._bump(conn)
        return len(rows)

    def delete_file(self, path: str) -> bool:
        with self.write() as conn:
            deleted = conn.execute("DELETE FROM files WHERE path = CAST(? AS TEXT)", (sql_path(path),))
            gone = deleted.rowcount > 0
            if gone:
                self._bump(conn)
                self.changes.removed(path)
        return gone

    def delete_prefix(self, prefix: str) -> int:
        """Delete every file at or under `prefix` (a folder moved out or deleted)."""
        cond, params = prefix_condition(prefix)
        with self.write() as conn:
            removed = conn.execute(f"DELETE FROM files WHERE {cond}", params).rowcount
            if removed:
                self._bump(conn)
                self.changes.removed_folder(prefix)
        return removed

    def compact(self) -> None:
        """Merge FTS segments (dropping deleted entries for real) and checkpoint the WAL."""
        with self.write() as conn:
            conn.execute("INSERT INTO chunks_fts(chunks_fts) VALUES ('optimize')")
            conn.execute("INSERT INTO files_fts(files_fts) VALUES ('optimize')")
        self.checkpoint()
        make_private(self.path)

    def settle(self) -> None:
        """Indexing has caught up: drop the vectors kept from a damaged catalog this one replaced
        (every file still there was indexed again), keep the relevance sample current
        (core/storage/calibration.py) and give the WAL's disk space back."""
        if self._all("SELECT 1 FROM kept_vectors LIMIT 1"):
            with self.write() as conn:
                conn.execute("DELETE FROM kept_vectors")
        self._keep_sample()
        self.checkpoint()

    def _keep_sample(self) -> None:
        """Store the relevance calibration's sample of chunks when the index has drifted from it."""
        sample, _ = load_sample(self)
        if self.meta(SAMPLE_KEY) != (raw := sample.to_json()):
            with self.write() as conn:
                conn.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (SAMPLE_KEY, raw))

    def checkpoint(self) -> None:
        """Copy the WAL into the database and truncate it to 0 bytes. After a disk-full stop the
        WAL alone could fill the space freed meanwhile; this is what lets the next run resume.
        Best effort: a reader still on an old snapshot, or no space yet, leaves it for later."""
        with self._lock, suppress(sqlite3.Error):
            self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def _name(path: str) -> str:
    return path.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]


def _chunk_ids_by_hash(conn: sqlite3.Connection, file_id: int) -> dict[str, list[int]]:
    """The file's current chunk ids per content hash, in order (equal chunks can repeat)."""
    found: dict[str, list[int]] = {}
    for cid, digest in conn.execute("SELECT id, hash FROM chunks WHERE file_id = ? ORDER BY ord", (file_id,)):
        found.setdefault(digest, []).append(cid)
    return found


def _insert_chunk(conn: sqlite3.Connection, file_id: int, ord_: int, chunk: Chunk, blob: bytes | None) -> None:
    cur = conn.execute(
        'INSERT INTO chunks(file_id, ord, text, start, "end", page, line, hash) VALUES (?,?,?,?,?,?,?,?)',
        (file_id, ord_, chunk.text, chunk.start, chunk.end, chunk.page, chunk.line, chunk.hash),
    )
    if blob is not None:
        conn.execute("INSERT INTO vectors(chunk_id, vec) VALUES (?, ?)", (cur.lastrowid, blob))


def _vector_blob(vector: np.ndarray, full_dim: int) -> bytes:
    vec = np.asarray(vector, dtype=np.float32).reshape(-1)
    if vec.shape[0] != full_dim:
        raise IndexError_(f"A vector has {vec.shape[0]} dimensions; the catalog stores {full_dim}.")
    half = vec.astype(np.float16)  # also catches values beyond float16's range
    if not np.all(np.isfinite(half)) or not np.any(half):
        raise IndexError_(
            "A vector is not finite or is all zeros; it was not stored.", "Re-embed the file."
        )
    return half.tobytes()
