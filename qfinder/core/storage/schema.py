"""The catalog's SQLite schema and the safe opening of its file (private, WAL, checked).

Used by `qfinder.core.storage.catalog.Catalog`; nothing here is needed by other modules.

Tables (all in one file, `catalog.db` in the data folder):
  roots(id, path UNIQUE, state, added)
  files(id, path UNIQUE, root_id, name, size, mtime_ns, inode, content_hash, status, error,
        indexed_at, kind)              status: pending | indexed | failed | name-only
  chunks(id AUTOINCREMENT, file_id, ord, text, start, end, page, line, hash)
        ids are never reused, so a stale vector-index cache can never point at a different chunk
  vectors(chunk_id PK, vec)            full-size float16 vector of a chunk
  chunks_fts  FTS5 over chunks.text (external content, kept in sync by triggers)
  files_fts   FTS5 (trigram) over files.name and files.path (external content, triggers)
  meta(key, value)                     schema, pipeline stamp (JSON), generation counter
  kept_vectors(hash PK, vec)           vectors read back from a damaged catalog this one replaced
                                       (qfinder.core.storage.salvage); empty once re-indexed
Deleting a chunk deletes its vector and FTS row; deleting a file deletes its chunks (triggers).
chunks_fts indexes `fts_text(text)`: CJK characters spaced apart, so each is a token and a CJK
word is searched as a phrase of characters (unicode61 would make a whole CJK run one token).
"""

from __future__ import annotations

import logging
import os
import sqlite3
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from qfinder.core.errors import IndexError_
from qfinder.core.paths import ensure_private_dir
from qfinder.core.storage.query import fts_text

log = logging.getLogger(__name__)

SCHEMA_VERSION = 2  # 2: CJK-aware chunks_fts triggers
BUSY_TIMEOUT_MS = 10_000

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS roots (
    id INTEGER PRIMARY KEY, path TEXT NOT NULL UNIQUE,
    state TEXT NOT NULL DEFAULT 'watching', added REAL NOT NULL);
CREATE TABLE IF NOT EXISTS files (
    id INTEGER PRIMARY KEY, path TEXT NOT NULL UNIQUE, root_id INTEGER, name TEXT NOT NULL,
    size INTEGER NOT NULL DEFAULT 0, mtime_ns INTEGER NOT NULL DEFAULT 0,
    inode INTEGER NOT NULL DEFAULT 0, content_hash TEXT,
    status TEXT NOT NULL DEFAULT 'pending', error TEXT, indexed_at REAL, kind TEXT NOT NULL DEFAULT '');
CREATE INDEX IF NOT EXISTS files_root ON files(root_id);
CREATE INDEX IF NOT EXISTS files_status ON files(status);
CREATE TABLE IF NOT EXISTS chunks (
    id INTEGER PRIMARY KEY AUTOINCREMENT, file_id INTEGER NOT NULL, ord INTEGER NOT NULL,
    text TEXT NOT NULL, start INTEGER NOT NULL, "end" INTEGER NOT NULL,
    page INTEGER, line INTEGER, hash TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS chunks_file ON chunks(file_id);
CREATE INDEX IF NOT EXISTS chunks_hash ON chunks(hash);
CREATE TABLE IF NOT EXISTS vectors (chunk_id INTEGER PRIMARY KEY, vec BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS kept_vectors (hash TEXT PRIMARY KEY, vec BLOB NOT NULL);
CREATE VIRTUAL TABLE IF NOT EXISTS chunks_fts USING fts5(
    text, content='chunks', content_rowid='id', tokenize='unicode61 remove_diacritics 2');
CREATE VIRTUAL TABLE IF NOT EXISTS files_fts USING fts5(
    name, path, content='files', content_rowid='id', tokenize='trigram');
CREATE TRIGGER IF NOT EXISTS chunks_ai AFTER INSERT ON chunks BEGIN
    INSERT INTO chunks_fts(rowid, text) VALUES (new.id, qf_fts_text(new.text)); END;
CREATE TRIGGER IF NOT EXISTS chunks_ad AFTER DELETE ON chunks BEGIN
    INSERT INTO chunks_fts(chunks_fts, rowid, text) VALUES ('delete', old.id, qf_fts_text(old.text));
    DELETE FROM vectors WHERE chunk_id = old.id; END;
CREATE TRIGGER IF NOT EXISTS chunks_au AFTER UPDATE OF text ON chunks BEGIN
    INSERT INTO chunks_fts(chunks_fts, rowid, text) VALUES ('delete', old.id, qf_fts_text(old.text));
    INSERT INTO chunks_fts(rowid, text) VALUES (new.id, qf_fts_text(new.text)); END;
CREATE TRIGGER IF NOT EXISTS files_ai AFTER INSERT ON files BEGIN
    INSERT INTO files_fts(rowid, name, path) VALUES (new.id, new.name, new.path); END;
CREATE TRIGGER IF NOT EXISTS files_ad AFTER DELETE ON files BEGIN
    INSERT INTO files_fts(files_fts, rowid, name, path) VALUES ('delete', old.id, old.name, old.path);
    DELETE FROM chunks WHERE file_id = old.id; END;
CREATE TRIGGER IF NOT EXISTS files_au AFTER UPDATE OF name, path ON files BEGIN
    INSERT INTO files_fts(files_fts, rowid, name, path) VALUES ('delete', old.id, old.name, old.path);
    INSERT INTO files_fts(rowid, name, path) VALUES (new.id, new.name, new.path); END;
"""

SQLITE_MAGIC = b"SQLite format 3\x00"


def header_problem(db_path: Path) -> str | None:
    """Why the file cannot be a whole SQLite database, or None. Cheap: reads the 100-byte header
    (and, when the main file is shorter than the header says, the -wal file's frame headers).

    Under WAL the main file alone may be shorter than its header's page count: a checkpoint
    copies page 1 (the header) first and the other pages after it, and a checkpoint that readers
    hold back may leave the file short. That is only damage when the -wal file does not hold the
    missing pages; a shortfall seen once is read again, since a checkpoint may be moving pages.
    """
    if _header_problem_once(db_path) is None:
        return None
    return _header_problem_once(db_path)  # the same after a second look: really damaged


def _header_problem_once(db_path: Path) -> str | None:
    try:
        size = db_path.stat().st_size
        if size == 0:
            return None  # an empty file is a fresh database to SQLite
        with open(db_path, "rb") as fh:
            header = fh.read(100)
    except OSError as exc:
        return f"cannot read it ({exc.strerror})"
    if len(header) < 100 or not header.startswith(SQLITE_MAGIC):
        return "it is not a SQLite database"
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(header[28:32], "big")
    header_valid = header[24:28] == header[92:96]  # "in-header size" is trustworthy
    if not (header_valid and pages and size < pages * page_size):
        return None
    missing = range(size // page_size + 1, pages + 1)
    if _wal_holds(db_path, page_size, set(missing)):
        return None
    return f"it is truncated ({size} of {pages * page_size} bytes)"


WAL_HEADER = 32
WAL_FRAME_HEADER = 24


def _wal_holds(db_path: Path, page_size: int, wanted: set[int]) -> bool:
    """Whether the current frames of `<db>-wal` hold every page in `wanted` (SQLite reads those
    pages from the WAL, so the main file need not have them yet)."""
    try:
        with open(str(db_path) + "-wal", "rb") as fh:
            header = fh.read(WAL_HEADER)
            if len(header) < WAL_HEADER or int.from_bytes(header[8:12], "big") != page_size:
                return False
            salts = header[16:24]  # frames of an older WAL generation carry other salts
            while wanted:
                frame = fh.read(WAL_FRAME_HEADER)
                if len(frame) < WAL_FRAME_HEADER:
                    break
                if frame[8:16] == salts:
                    wanted.discard(int.from_bytes(frame[0:4], "big"))
                fh.seek(page_size, os.SEEK_CUR)
    except OSError:
        return False
    return not wanted


def connect(db_path: Path, readonly: bool) -> sqlite3.Connection:
    """Open the database file with qfinder's settings; raises sqlite3.DatabaseError if unusable."""
    if readonly:
        uri = db_path.resolve().as_uri() + "?mode=ro"
        conn = sqlite3.connect(uri, uri=True, check_same_thread=False, isolation_level=None)
    else:
        conn = sqlite3.connect(str(db_path), check_same_thread=False, isolation_level=None)
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.create_function("qf_fts_text", 1, fts_text, deterministic=True)  # used by the triggers
    conn.execute("PRAGMA cache_size = -65536")  # 64 MB: re-scoring reads hundreds of vector pages
    if not readonly:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA secure_delete = ON")  # removed text is overwritten, not just unlinked
    conn.execute("PRAGMA foreign_keys = OFF")
    conn.execute("SELECT count(*) FROM sqlite_master").fetchone()  # forces the header to be read
    return conn


def create_schema(conn: sqlite3.Connection) -> None:
    conn.execute("BEGIN IMMEDIATE")
    for statement in _statements(SCHEMA):
        conn.execute(statement)
    conn.execute(
        "INSERT OR IGNORE INTO meta(key, value) VALUES ('schema', ?), ('generation', '0'), ('uid', ?)",
        (str(SCHEMA_VERSION), uuid.uuid4().hex),
    )
    conn.execute("COMMIT")


def _statements(script: str) -> list[str]:
    """Split the schema script into statements; triggers contain ';' inside BEGIN…END."""
    out: list[str] = []
    buffer = ""
    for line in script.strip().splitlines():
        buffer += line + "\n"
        if sqlite3.complete_statement(buffer):
            out.append(buffer.strip())
            buffer = ""
    return out


def make_private(db_path: Path) -> None:
    """0600 on the database and its WAL/SHM companions (POSIX)."""
    if os.name != "posix":
        return
    for suffix in ("", "-wal", "-shm"):
        companion = Path(str(db_path) + suffix)
        if companion.exists():
            os.chmod(companion, 0o600)


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
