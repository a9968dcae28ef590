"""Opening the catalog's file safely: checked, set aside when unusable, damage confirmed.

A file that is not a catalog, of another schema, or damaged is moved aside (kept, never
deleted) and a new catalog is started; a query error counts as damage only when
`PRAGMA quick_check` confirms it (`page_damage`), else it is the query's own problem.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from qfinder.core.errors import IndexError_
from qfinder.core.paths import ensure_private_dir
from qfinder.core.storage.schema import (
    SCHEMA_VERSION,
    connect,
    create_schema,
    header_problem,
    make_private,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Unusable:
    """Why an existing catalog file cannot be used as it is."""

    detail: str  # SQLite's words, or the two schema versions
    other_version: bool = False  # sound, but written by a qfinder that uses another schema

    def describe(self) -> str:
        """Completes "The index database …" (and the recovery notices, see Recovery.describe)."""
        if self.other_version:
            return f"was made by another qfinder version ({self.detail})"
        return f"is damaged ({self.detail})"


@dataclass(frozen=True)
class Recovery:
    """The writer found the catalog unusable, kept it under `kept_at` and started a fresh one."""

    kept_at: Path
    problem: Unusable
    roots_kept: int = 0  # read back from the damaged file (qfinder.core.storage.salvage)
    vectors_kept: int = 0

    def describe(self) -> str:
        """Completes "The index database …": what was found and what was kept of it."""
        kept = ""
        if self.roots_kept:
            kept = (f"; its {self.roots_kept} folder(s) are indexed again, reusing "
                    f"{self.vectors_kept} stored vector(s)")
        return f"{self.problem.describe()}; it was kept as {self.kept_at}{kept}"


class _OtherSchema(sqlite3.DatabaseError):
    """Raised by `_check_schema` when the file is a catalog of another schema version."""


def move_aside(db_path: Path, problem: Unusable) -> Path:
    """Keep an unusable database (and its WAL/SHM) under a new name so a fresh one can start."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    label = "old" if problem.other_version else "corrupt"
    target = db_path.with_name(f"{db_path.name}.{label}-{stamp}")
    for suffix in ("", "-wal", "-shm"):
        source = Path(str(db_path) + suffix)
        if source.exists():
            os.replace(source, Path(str(target) + suffix))
    # INFO, not WARNING: the caller tells the person (Catalog.recovery), the log keeps the detail.
    log.info("catalog %s %s; moved aside to %s, starting fresh", db_path, problem.describe(), target)
    return target


class CatalogDamaged(IndexError_):
    """SQLite failed and `PRAGMA quick_check` confirmed the file is damaged (or it cannot be
    opened at all): the writers set it aside and rebuild; readers can only report it."""


def page_damage(conn: sqlite3.Connection) -> str | None:
    """What `PRAGMA quick_check` finds wrong with the open database; None when it is sound or
    the check could not run (busy, I/O). Reads every page: about 1 s per GB."""
    try:
        found = [str(row[0]) for row in conn.execute("PRAGMA quick_check(3)").fetchall()]
    except sqlite3.DatabaseError as exc:
        return str(exc) if _error_name(exc) in ("SQLITE_CORRUPT", "SQLITE_NOTADB") else None
    return None if found == ["ok"] else "; ".join(" ".join(line.split()) for line in found)


def _error_name(exc: sqlite3.Error) -> str:
    """The primary result code's name (SQLITE_CORRUPT_VTAB -> SQLITE_CORRUPT)."""
    name = str(getattr(exc, "sqlite_errorname", ""))
    return "_".join(name.split("_")[:2])


def _in_use(exc: sqlite3.Error) -> bool:
    return _error_name(exc) in ("SQLITE_BUSY", "SQLITE_LOCKED") or "locked" in str(exc) or "busy" in str(exc)


def db_error(db_path: Path, exc: sqlite3.Error, conn: sqlite3.Connection | None = None) -> IndexError_:
    """A person-readable error for a SQLite failure during use. Damage is only ever reported
    when `conn`'s quick_check confirms it (a query SQLite refuses is not damage)."""
    if _in_use(exc):
        return IndexError_(
            f"The index database {db_path} is busy: another qfinder process is writing to it.",
            "Try again in a moment; only one process indexes a data folder at a time.",
        )
    if _error_name(exc) == "SQLITE_FULL":
        return IndexError_(
            f"The disk holding the index database {db_path} is full.",
            "Free some space and run again: what was indexed so far is kept.",
        )
    damage = page_damage(conn) if conn is not None else None
    if damage is not None:
        return _unusable_error(db_path, Unusable(damage if damage == str(exc) else f"{exc}; {damage}"))
    return IndexError_(
        f"The index database {db_path} could not run this request: {exc}.",
        "The database itself checked out sound; nothing needs rebuilding.",
    )


def open_checked(
    db_path: Path, readonly: bool, recover: bool
) -> tuple[sqlite3.Connection, Recovery | None]:
    """Open (creating if needed) and validate; returns (connection, the recovery if one was needed)."""
    _check_location(db_path, readonly)
    opened = _open_existing(db_path, readonly)
    if isinstance(opened, sqlite3.Connection):
        return opened, None
    if readonly or not recover:
        raise _unusable_error(db_path, opened)
    kept_at = move_aside(db_path, opened)
    conn = connect(db_path, readonly=False)
    create_schema(conn)
    make_private(db_path)
    return conn, Recovery(kept_at, opened)


def _check_location(db_path: Path, readonly: bool) -> None:
    """The writer needs a private data folder; a reader needs an existing catalog."""
    if not readonly:
        try:
            ensure_private_dir(db_path.parent)
        except OSError as exc:
            raise IndexError_(
                f"Cannot use the data folder {db_path.parent}: {exc.strerror or exc}.",
                "Choose another one with --data-dir or QFINDER_DATA_DIR.",
            ) from exc
    elif not db_path.exists():
        raise IndexError_(
            f"No qfinder index at {db_path}.", "Index a folder first: qfinder index PATH"
        )


def _open_existing(db_path: Path, readonly: bool) -> sqlite3.Connection | Unusable:
    """A checked connection, or why the file cannot be used (in use/unreachable raises instead)."""
    problem = header_problem(db_path) if db_path.exists() else None
    if problem is not None:
        return Unusable(problem)
    try:
        conn = connect(db_path, readonly)
        if not readonly:
            # Damage that no query has hit yet would otherwise survive `qfinder index`: the
            # writer checks every page once when it opens (about 1 s per GB).
            damage = page_damage(conn)
            if damage is not None:
                conn.close()
                return Unusable(damage)
            create_schema(conn)
            make_private(db_path)
        _check_schema(conn)
        return conn
    except _OtherSchema as exc:
        return Unusable(str(exc), other_version=True)
    except sqlite3.OperationalError as exc:
        if _in_use(exc) or "unable to open" in str(exc):
            raise db_error(db_path, exc) from exc  # in use or unreachable, not damaged
        return Unusable(str(exc))
    except sqlite3.DatabaseError as exc:
        return Unusable(str(exc))


def _unusable_error(db_path: Path, problem: Unusable) -> IndexError_:
    # Either front end rebuilds: `qfinder index` and the app are the catalog's writers, and each
    # checks the file when it opens it and when one of its own requests fails.
    keep = "the old file is kept aside" if problem.other_version else "the damaged file is kept aside"
    kind = IndexError_ if problem.other_version else CatalogDamaged
    return kind(
        f"The index database {db_path} {problem.describe()}.",
        f"Rebuild it: run `qfinder index FOLDER…` again or restart the qfinder app ({keep}); "
        "or delete the file to start over.",
    )


def _check_schema(conn: sqlite3.Connection) -> None:
    row = conn.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
    if row is None:
        raise sqlite3.DatabaseError("it records no schema version")
    if str(row[0]) != str(SCHEMA_VERSION):
        raise _OtherSchema(f"catalog schema {row[0]}; this qfinder reads schema {SCHEMA_VERSION}")
    for table in ("chunks", "vectors", "files", "chunks_fts", "files_fts"):
        conn.execute(f"SELECT 1 FROM {table} LIMIT 1").fetchall()
