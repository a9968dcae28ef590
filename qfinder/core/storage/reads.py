"""Read-side queries of the catalog (a mixin of `Catalog`; works on read-only connections too)."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import numpy as np

from qfinder.core.pathnames import sql_path
from qfinder.core.results import SearchFilters
from qfinder.core.search.query_syntax import ParsedQuery, Term, parse_query
from qfinder.core.state import FileFailure
from qfinder.core.storage.query import (
    all_filters_sql,
    fts_match,
    fts_term,
    informative,
    like_escape,
    prefix_condition,
)
from qfinder.core.storage.recovery import db_error
from qfinder.core.storage.types import CatalogCounts, ChunkRow, FileRow, PipelineStamp, RootRow

SCAN_FAILURES_KEY = "scan_failures"  # meta: JSON {root: [[path, reason], …]}
SQL_BATCH = 900  # ids per IN (...) clause, below SQLite's variable limit

_FILE_COLUMNS = (
    "id, path, root_id, size, mtime_ns, inode, content_hash, status, error, indexed_at, kind"
)
_CHUNK_COLUMNS = 'c.id, c.file_id, f.path, c.ord, c.text, c.start, c."end", c.page, c.line, c.hash'


def _batches(ids: Sequence[int]) -> Iterator[list[int]]:
    for i in range(0, len(ids), SQL_BATCH):
        yield [int(x) for x in ids[i : i + SQL_BATCH]]


def _squash(text: str) -> str:
    """Lower case with whitespace runs as one space: "quoted  phrases" match across line breaks."""
    return " ".join(text.lower().split())


class CatalogReads:
    _conn: sqlite3.Connection
    _lock: threading.RLock
    path: Path

    def _all(self, sql: str, params: Iterable[object] = ()) -> list[tuple]:
        with self._lock:
            try:
                return self._conn.execute(sql, tuple(params)).fetchall()
            except sqlite3.DatabaseError as exc:
                raise db_error(self.path, exc, self._conn) from exc

    def meta(self, key: str) -> str | None:
        rows = self._all("SELECT value FROM meta WHERE key = ?", (key,))
        return rows[0][0] if rows else None

    # --- pipeline ---------------------------------------------------------------------------
    def stamp(self) -> PipelineStamp | None:
        raw = self.meta("stamp")
        return PipelineStamp(**json.loads(raw)) if raw else None

    def stamp_matches(self, stamp: PipelineStamp) -> bool:
        return self.stamp() == stamp

    def uid(self) -> str:
        """Random id of this database file: index caches of another (rebuilt) catalog, whose
        chunk ids mean other chunks, are never loaded for it."""
        return self.meta("uid") or ""

    def generation(self) -> int:
        """Bumped by every change to the set of vectors; index caches compare it."""
        return int(self.meta("generation") or 0)

    # --- roots and files --------------------------------------------------------------------
    def roots(self) -> list[RootRow]:
        return [
            RootRow(*r) for r in self._all("SELECT id, path, state, added FROM roots ORDER BY path")
        ]

    def file(self, path: str) -> FileRow | None:
        rows = self._all(f"SELECT {_FILE_COLUMNS} FROM files WHERE path = CAST(? AS TEXT)", (sql_path(path),))
        return FileRow(*rows[0]) if rows else None

    def files_by_id(self, ids: Sequence[int]) -> dict[int, FileRow]:
        out: dict[int, FileRow] = {}
        for batch in _batches(ids):
            marks = ",".join("?" * len(batch))
            for row in self._all(f"SELECT {_FILE_COLUMNS} FROM files WHERE id IN ({marks})", batch):
                out[row[0]] = FileRow(*row)
        return out

    def files_with_status(
        self, status: str, limit: int = 1000, root: str | None = None
    ) -> list[FileRow]:
        cond, params = ("", []) if root is None else prefix_condition(root)
        sql = f"SELECT {_FILE_COLUMNS} FROM files WHERE status = ?{' AND ' + cond if cond else ''}"
        return [
            FileRow(*r) for r in self._all(sql + " ORDER BY size LIMIT ?", [status, *params, limit])
        ]

    def file_states_under(self, root: str) -> dict[str, tuple[int, int, int]]:
        """{path: (size, mtime_ns, inode)} of every file recorded under `root` (for a re-scan)."""
        cond, params = prefix_condition(root)
        rows = self._all(f"SELECT path, size, mtime_ns, inode FROM files WHERE {cond}", params)
        return {path: (size, mtime, inode) for path, size, mtime, inode in rows}

    def counts(self, root: str | None = None) -> CatalogCounts:
        cond, params = ("1", []) if root is None else prefix_condition(root, "f.path")
        status = dict(
            self._all(f"SELECT status, count(*) FROM files f WHERE {cond} GROUP BY status", params)
        )
        chunks, vectors = self._all(
            f"SELECT count(c.id), count(v.chunk_id) FROM chunks c JOIN files f ON f.id = c.file_id "
            f"LEFT JOIN vectors v ON v.chunk_id = c.id WHERE {cond}",
            params,
        )[0]
        return CatalogCounts(
            files=sum(status.values()),
            indexed=status.get("indexed", 0),
            pending=status.get("pending", 0),
            failed=status.get("failed", 0),
            name_only=status.get("name-only", 0),
            chunks=chunks,
            vectors=vectors,
        )

    def content_size(self) -> tuple[int, int]:
        """(files with chunks, characters of chunk text): what embedding them all again means.
        Overlapping chunks count their shared text twice, as the model reads it twice."""
        files, chars = self._all("SELECT count(DISTINCT file_id), coalesce(sum(length(text)), 0) "
                                 "FROM chunks")[0]
        return int(files), int(chars)

    def failures(self, limit: int = 200) -> list[FileFailure]:
        """What the last scans could not read or record (folders first), then failed and
        name-only files with their recorded reasons, most recent first."""
        scanned = self.scan_failures()[:limit]
        rows = self._all(
            "SELECT path, coalesce(error, status), status FROM files "
            "WHERE status IN ('failed', 'name-only') AND error IS NOT NULL "
            "ORDER BY indexed_at DESC LIMIT ?",
            (limit - len(scanned),),
        )
        return scanned + [FileFailure(path=p, reason=r, name_only=s == "name-only") for p, r, s in rows]

    def scan_failures(self) -> list[FileFailure]:
        """Paths the last walk of each root could not list or record."""
        entries = self._scan_failures_by_root().values()
        return [FileFailure(path, reason) for listed in entries for path, reason in listed]

    def _scan_failures_by_root(self) -> dict[str, list[list[str]]]:
        # kept in meta, not in files: such a path has no file row (and must not get one)
        raw = self.meta(SCAN_FAILURES_KEY)
        return json.loads(raw) if raw else {}

    # --- chunks and vectors -----------------------------------------------------------------
    def chunks(self, ids: Sequence[int]) -> dict[int, ChunkRow]:
        """Chunk rows by id (ids that no longer exist are simply absent)."""
        out: dict[int, ChunkRow] = {}
        for batch in _batches(ids):
            marks = ",".join("?" * len(batch))
            sql = f"SELECT {_CHUNK_COLUMNS} FROM chunks c JOIN files f ON f.id = c.file_id WHERE c.id IN ({marks})"
            for row in self._all(sql, batch):
                out[row[0]] = ChunkRow(*row)
        return out

    def file_chunk_ids(self, path: str) -> list[int]:
        rows = self._all(
            "SELECT c.id FROM chunks c JOIN files f ON f.id = c.file_id WHERE f.path = CAST(? AS TEXT) "
            "ORDER BY c.ord",
            (sql_path(path),),
        )
        return [r[0] for r in rows]

    def cached_vectors(self, hashes: Iterable[str]) -> dict[str, np.ndarray]:
        """{chunk hash: stored float16 full-size vector} for hashes that already have a vector
        (in any file). Embed only the others, then pass all to `replace_file_chunks`."""
        wanted = list(dict.fromkeys(hashes))
        out: dict[str, np.ndarray] = {}
        for source in (
            "SELECT c.hash, v.vec FROM chunks c JOIN vectors v ON v.chunk_id = c.id WHERE c.hash IN",
            "SELECT hash, vec FROM kept_vectors WHERE hash IN",  # from a damaged catalog replaced
        ):
            missing = [h for h in wanted if h not in out]
            for i in range(0, len(missing), SQL_BATCH):
                batch = missing[i : i + SQL_BATCH]
                for digest, blob in self._all(f"{source} ({','.join('?' * len(batch))})", batch):
                    out.setdefault(digest, np.frombuffer(blob, dtype=np.float16))
        return out

    def vectors(self, ids: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
        """(found ids int64 [m], full-size float32 vectors [m, full_dim]) in the order asked;
        ids without a vector (deleted meanwhile) are left out."""
        found: dict[int, bytes] = {}
        for batch in _batches(ids):
            sql = f"SELECT chunk_id, vec FROM vectors WHERE chunk_id IN ({','.join('?' * len(batch))})"
            found.update(self._all(sql, batch))
        order = [int(i) for i in ids if int(i) in found]
        return np.asarray(order, dtype=np.int64), self._decode([found[i] for i in order])

    def max_vector_id(self) -> int:
        """The highest chunk id with a vector (0: none); new chunks get higher ids."""
        return int(self._all("SELECT max(chunk_id) FROM vectors")[0][0] or 0)

    def all_vector_ids(self) -> np.ndarray:
        rows = self._all("SELECT chunk_id FROM vectors ORDER BY chunk_id")
        return np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))

    def iter_vectors(self, block: int = 8192) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """All vectors in id order, in blocks of (ids int64, float32 [n, full_dim])."""
        last = -1
        while True:
            rows = self._all(
                "SELECT chunk_id, vec FROM vectors WHERE chunk_id > ? ORDER BY chunk_id LIMIT ?",
                (last, block),
            )
            if not rows:
                return
            last = rows[-1][0]
            yield (
                np.asarray([r[0] for r in rows], dtype=np.int64),
                self._decode([r[1] for r in rows]),
            )

    def _decode(self, blobs: list[bytes]) -> np.ndarray:
        stamp = self.stamp()
        width = stamp.full_dim if stamp else (len(blobs[0]) // 2 if blobs else 0)
        if not blobs:
            return np.zeros((0, width), dtype=np.float32)
        return (
            np.frombuffer(b"".join(blobs), dtype=np.float16)
            .reshape(len(blobs), -1)
            .astype(np.float32)
        )

    # --- keyword search ---------------------------------------------------------------------
    def fts_search(
        self, query: ParsedQuery | str, limit: int = 50, filters: SearchFilters | None = None
    ) -> list[tuple[int, float]]:
        """[(chunk_id, score)] best first by BM25 (score = -bm25, higher is better) of chunks with
        any of the query's terms, in files that meet its constraints and filters. Any user text
        is safe."""
        query = parse_query(query) if isinstance(query, str) else query
        match = fts_match(query)
        if match is None:
            return []
        where, params = all_filters_sql((filters, query.filters), query)
        sql = (
            "SELECT c.id, -bm25(chunks_fts) FROM chunks_fts JOIN chunks c ON c.id = chunks_fts.rowid "
            f"JOIN files f ON f.id = c.file_id WHERE chunks_fts MATCH ?{where} ORDER BY bm25(chunks_fts) LIMIT ?"
        )
        return [(cid, float(score)) for cid, score in self._all(sql, [match, *params, limit])]

    def phrase_search(
        self, phrase: str, query: ParsedQuery, limit: int = 50, filters: SearchFilters | None = None
    ) -> list[int]:
        """Chunk ids, best first, whose text holds `phrase` literally (case and spacing aside), in
        files that meet the query's constraints and filters."""
        where, params = all_filters_sql((filters, query.filters), query)
        sql = (
            "SELECT c.id, c.text FROM chunks_fts JOIN chunks c ON c.id = chunks_fts.rowid "
            f"JOIN files f ON f.id = c.file_id WHERE chunks_fts MATCH ?{where} ORDER BY bm25(chunks_fts) LIMIT ?"
        )
        # FTS5 phrases ignore punctuation ("quick-brown"); the text check keeps the phrase literal.
        wanted = _squash(phrase)
        rows = self._all(sql, [fts_term(Term(phrase, "phrase")), *params, limit * 4])
        return [cid for cid, text in rows if wanted in _squash(text)][:limit]

    def admissible(
        self, file_ids: Sequence[int], query: ParsedQuery, filters: SearchFilters | None = None
    ) -> set[int]:
        """Those of `file_ids` that meet the query's constraints and filters (and `filters`)."""
        where, params = all_filters_sql((filters, query.filters), query)
        found: set[int] = set()
        for batch in _batches(file_ids):
            sql = f"SELECT f.id FROM files f WHERE f.id IN ({','.join('?' * len(batch))}){where}"
            found.update(r[0] for r in self._all(sql, [*batch, *params]))
        return found

    def browse(self, query: ParsedQuery, limit: int = 50, filters: SearchFilters | None = None) -> list[int]:
        """File ids meeting the query's constraints and filters, most recently modified first:
        the answer to a query of filters only (`ext:pdf modified:2024`)."""
        where, params = all_filters_sql((filters, query.filters), query)
        sql = f"SELECT f.id FROM files f WHERE 1{where} ORDER BY f.mtime_ns DESC, f.path LIMIT ?"
        return [r[0] for r in self._all(sql, [*params, limit])]

    def name_search(
        self, query: ParsedQuery | str, limit: int = 50, filters: SearchFilters | None = None
    ) -> list[tuple[int, float]]:
        """[(file_id, score)] of files whose name or path contains the query's words, best first
        (names before paths, shorter names first). Case-insensitive substring match."""
        query = parse_query(query) if isinstance(query, str) else query
        words = informative([w for t in query.positive for w in t.text.split()])
        if not words:
            return []
        where, params = all_filters_sql((filters, query.filters), query)
        long_words = [w for w in words if len(w) >= 3]
        short_words = [w for w in words if len(w) < 3]
        conds: list[str] = []
        cond_params: list[object] = []
        if long_words:  # the trigram index finds substrings of 3+ characters
            conds.append("f.id IN (SELECT rowid FROM files_fts WHERE files_fts MATCH ?)")
            cond_params.append(" AND ".join('"' + w.replace('"', '""') + '"' for w in long_words))
        for word in short_words:
            conds.append("(f.name LIKE ? ESCAPE '\\' OR f.path LIKE ? ESCAPE '\\')")
            cond_params += [f"%{like_escape(word)}%"] * 2
        name_hits = " + ".join("(f.name LIKE ? ESCAPE '\\')" for _ in words)
        name_like = [f"%{like_escape(w)}%" for w in words]
        sql = (
            f"SELECT f.id, ({name_hits}) * 1.0 + 1.0 / (1 + length(f.name)) AS s FROM files f "
            f"WHERE {' AND '.join(conds)}{where} ORDER BY s DESC, f.path LIMIT ?"
        )
        return [
            (fid, float(s)) for fid, s in self._all(sql, [*name_like, *cond_params, *params, limit])
        ]
