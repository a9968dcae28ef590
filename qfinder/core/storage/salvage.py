"""What a new catalog keeps from the damaged one it replaces: its folders and its vectors.

After `recovery.open_checked` has moved a damaged file aside, `salvage(conn, kept_at)`
copies from it, as far as its pages still read:
  - the roots, so the writer indexes the same folders again without being told;
  - the pipeline stamp and every (chunk hash, full-size vector) pair, into `kept_vectors`, which
    `Catalog.cached_vectors` consults: unchanged text is not embedded again. The table is
    emptied once indexing has caught up (`Catalog.settle`) and by `reset_for_stamp`.
A damaged part ends that copy; what was read before it is kept.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from qfinder.core.storage.schema import connect

log = logging.getLogger(__name__)

_ROWS_PER_BATCH = 500


@dataclass(frozen=True)
class Salvaged:
    roots: int = 0
    vectors: int = 0


def salvage(conn: sqlite3.Connection, kept_at: Path) -> Salvaged:
    """Copy the readable roots, stamp and vectors of the catalog kept at `kept_at` into `conn`."""
    try:
        old = connect(kept_at, readonly=True)
    except sqlite3.DatabaseError as exc:
        log.info("nothing could be read back from %s: %s", kept_at, exc)
        return Salvaged()
    # Text is copied as its stored bytes (CAST back to TEXT): a folder name that is not valid
    # UTF-8 (qfinder.core.pathnames) survives exactly, as it was stored.
    old.text_factory = bytes
    try:
        roots = _copy(old, conn, "SELECT path, state, added FROM roots",
                      "INSERT OR IGNORE INTO roots(path, state, added) "
                      "VALUES (CAST(? AS TEXT), CAST(? AS TEXT), ?)")
        stamp = _copy(old, conn, "SELECT key, value FROM meta WHERE key = 'stamp'",
                      "INSERT OR REPLACE INTO meta(key, value) VALUES (CAST(? AS TEXT), CAST(? AS TEXT))")
        vectors = 0
        if stamp:  # vectors mean something only under the pipeline that made them
            vectors = _copy(old, conn, "SELECT c.hash, v.vec FROM vectors v JOIN chunks c ON c.id = v.chunk_id",
                            "INSERT OR IGNORE INTO kept_vectors(hash, vec) VALUES (CAST(? AS TEXT), ?)")
    finally:
        old.close()
    log.info("kept %d folder(s) and %d vector(s) from %s", roots, vectors, kept_at)
    return Salvaged(roots, vectors)


def _copy(old: sqlite3.Connection, new: sqlite3.Connection, select: str, insert: str) -> int:
    copied = 0
    new.execute("BEGIN IMMEDIATE")
    try:
        for rows in _readable(old, select):
            new.executemany(insert, rows)
            copied += len(rows)
        new.execute("COMMIT")
    except BaseException:
        new.execute("ROLLBACK")
        raise
    return copied


def _readable(old: sqlite3.Connection, select: str) -> Iterator[list[tuple]]:
    """Batches of `select`'s rows until its end or the first damaged page."""
    try:
        cursor = old.execute(select)
        while rows := cursor.fetchmany(_ROWS_PER_BATCH):
            yield rows
    except sqlite3.DatabaseError as exc:
        log.info("stopped reading the damaged catalog at: %s", exc)
