"""Damage one page of a closed SQLite file the way a bad sector or a stray write does."""

from __future__ import annotations

import sqlite3
from pathlib import Path


def flip_page_of(db: Path, table: str, nbytes: int = 20) -> None:
    """Invert the first `nbytes` bytes (the b-tree page header) of `table`'s root page."""
    conn = sqlite3.connect(db)
    try:
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
        root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", (table,)).fetchone()[0]
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # every page in the main file
    finally:
        conn.close()
    raw = bytearray(db.read_bytes())
    offset = (root - 1) * page_size
    raw[offset : offset + nbytes] = bytes(b ^ 0xFF for b in raw[offset : offset + nbytes])
    db.write_bytes(bytes(raw))
