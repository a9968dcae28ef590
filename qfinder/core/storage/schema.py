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
import uuid
from pathlib import Path

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
