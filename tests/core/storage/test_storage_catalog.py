"""The SQLite catalog: CRUD, pipeline stamp, chunk-hash cache, purges, FTS safety, damage."""

from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path

import numpy as np
import pytest

from qfinder.core.errors import IndexError_
from qfinder.core.indexing.chunking import Chunk, chunk_hash
from qfinder.core.results import SearchFilters
from qfinder.core.search.query_syntax import parse_query
from qfinder.core.storage.catalog import Catalog, PipelineStamp

RNG = np.random.default_rng(7)
FULL_DIM = 64  # as in conftest.py


def spectrum_vectors(rng: np.random.Generator, n: int, dim: int) -> np.ndarray:
    vectors = rng.standard_normal((n, dim)) * (np.arange(dim) + 1.0) ** -0.5
    return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)


def _chunk(text: str, start: int = 0) -> Chunk:
    return Chunk(text, start, start + len(text), None, 1, chunk_hash(text))


def _vec() -> np.ndarray:
    return spectrum_vectors(RNG, 1, FULL_DIM)[0]


def _table_rows(db: Path) -> dict[str, int]:
    conn = sqlite3.connect(db)
    conn.execute("CREATE VIRTUAL TABLE temp.cv USING fts5vocab(main, chunks_fts, row)")
    conn.execute("CREATE VIRTUAL TABLE temp.fv USING fts5vocab(main, files_fts, row)")
    names = [
        "files",
        "chunks",
        "vectors",
        "chunks_fts_docsize",
        "files_fts_docsize",
        "temp.cv",
        "temp.fv",
    ]
    counts = {n: conn.execute(f"SELECT count(*) FROM {n}").fetchone()[0] for n in names}
    conn.close()
    return counts


def test_files_roots_and_status(catalog: Catalog) -> None:
    root_id = catalog.add_root("/home/u/docs")
    fid, changed = catalog.upsert_file(
        "/home/u/docs/a.txt", root_id=root_id, size=5, mtime_ns=9, inode=3, kind="txt"
    )
    assert changed and catalog.file("/home/u/docs/a.txt").status == "pending"
    assert catalog.upsert_file(
        "/home/u/docs/a.txt", root_id=root_id, size=5, mtime_ns=9, inode=3
    ) == (fid, False)
    catalog.replace_file_chunks(fid, [(_chunk("hello there"), _vec())], content_hash="h1")
    row = catalog.file("/home/u/docs/a.txt")
    assert (row.status, row.content_hash, row.kind) == ("indexed", "h1", "txt")
    assert catalog.file_states_under("/home/u/docs") == {"/home/u/docs/a.txt": (5, 9, 3)}
    assert catalog.file_states_under("/home/u/doc") == {}  # a prefix is a folder, not a string
    fid2, _ = catalog.upsert_file(
        "/home/u/docs/b.pdf", root_id=root_id, size=1, mtime_ns=1, inode=4, kind="pdf"
    )
    catalog.mark_file(fid2, "failed", "encrypted PDF")
    counts = catalog.counts()
    assert (counts.files, counts.indexed, counts.failed, counts.chunks, counts.vectors) == (
        2,
        1,
        1,
        1,
        1,
    )
    assert [(f.path, f.reason) for f in catalog.failures()] == [
        ("/home/u/docs/b.pdf", "encrypted PDF")
    ]
    catalog.mark_root("/home/u/docs", "unavailable")
    assert [(r.path, r.state) for r in catalog.roots()] == [("/home/u/docs", "unavailable")]
    catalog.upsert_file("/home/u/docs/a.txt", root_id=root_id, size=6, mtime_ns=10, inode=3)
    assert catalog.file("/home/u/docs/a.txt").status == "pending"  # changed on disk
    with pytest.raises(ValueError):
        catalog.mark_file(fid, "weird")


def test_stamp_change_drops_every_vector(catalog: Catalog, fill_catalog) -> None:
    fill = fill_catalog
    fill(catalog, spectrum_vectors(RNG, 20, FULL_DIM))
    generation = catalog.generation()
    same = PipelineStamp("test-model", FULL_DIM, 1)
    assert catalog.stamp_matches(same)
    other = PipelineStamp("other-model", 32, 1)
    assert not catalog.stamp_matches(other)
    catalog.reset_for_stamp(other)
    assert catalog.stamp() == other and catalog.generation() > generation
    counts = catalog.counts()
    assert (counts.chunks, counts.vectors, counts.pending, counts.indexed) == (0, 0, 2, 0)
    assert catalog.cached_vectors([chunk_hash("chunk 0 of /r/f0.txt")]) == {}
    with pytest.raises(IndexError_):  # a vector of the old size can never enter
        catalog.replace_file_chunks(1, [(_chunk("x"), _vec())])


def test_chunk_hash_cache_reuses_vectors_and_ids(catalog: Catalog) -> None:
    root_id = catalog.add_root("/r")
    fid, _ = catalog.upsert_file("/r/a.md", root_id=root_id, size=1, mtime_ns=1, inode=1)
    chunks = [_chunk(f"paragraph {i}", i * 20) for i in range(4)]
    vectors = spectrum_vectors(RNG, 4, FULL_DIM)
    catalog.replace_file_chunks(fid, list(zip(chunks, vectors, strict=True)))
    old_ids = catalog.file_chunk_ids("/r/a.md")
    edited = [chunks[0], _chunk("paragraph 1, edited", 20), chunks[2], chunks[3]]
    cached = catalog.cached_vectors(c.hash for c in edited)
    assert set(cached) == {chunks[0].hash, chunks[2].hash, chunks[3].hash}  # only one to embed
    np.testing.assert_allclose(cached[chunks[2].hash], vectors[2], atol=1e-3)
    generation = catalog.generation()
    new_vec = _vec()
    catalog.replace_file_chunks(fid, [(c, cached.get(c.hash, new_vec)) for c in edited])
    new_ids = catalog.file_chunk_ids("/r/a.md")
    assert new_ids[0] == old_ids[0] and new_ids[2:] == old_ids[2:] and new_ids[1] not in old_ids
    assert catalog.generation() == generation + 1
    assert catalog.fts_search("edited", 5) == [
        (new_ids[1], pytest.approx(catalog.fts_search("edited", 5)[0][1]))
    ]
    # another file with the same paragraph finds it in the cache too (rename / copy)
    assert chunks[3].hash in catalog.cached_vectors([chunks[3].hash, "nope"])
    ids, full = catalog.vectors([new_ids[3], 999_999, new_ids[0]])
    assert (
        ids.tolist() == [new_ids[3], new_ids[0]]
        and full.shape == (2, FULL_DIM)
        and full.dtype == np.float32
    )


def test_remove_root_purges_every_table(catalog: Catalog, fill_catalog) -> None:
    fill = fill_catalog
    fill(catalog, spectrum_vectors(RNG, 30, FULL_DIM), root="/keep")
    before = _table_rows(catalog.path)
    fill(catalog, spectrum_vectors(RNG, 40, FULL_DIM), root="/gone", start=100)
    assert catalog.fts_search("gone", 5)
    removed = catalog.remove_root("/gone")
    assert removed == 4
    assert _table_rows(catalog.path) == before  # files, chunks, vectors, FTS rows and FTS terms
    assert catalog.fts_search("gone", 5) == [] and catalog.name_search("gone", 5) == []
    assert [r.path for r in catalog.roots()] == ["/keep"]
    catalog.delete_prefix("/keep")
    assert all(v == 0 for v in _table_rows(catalog.path).values())
    with open(catalog.path, "rb") as fh:  # secure_delete: the text is not left in free pages
        assert b"chunk 35 of /gone" not in fh.read()


def test_move_and_delete_keep_vectors(catalog: Catalog, fill_catalog) -> None:
    fill = fill_catalog
    fill(catalog, spectrum_vectors(RNG, 20, FULL_DIM), root="/r")
    ids = catalog.file_chunk_ids("/r/f1.txt")
    assert catalog.move_path("/r", "/s") == 2
    assert catalog.file_chunk_ids("/s/f1.txt") == ids and catalog.file("/r/f1.txt") is None
    assert catalog.name_search("s/f1", 3)[0][0] == catalog.file("/s/f1.txt").id
    assert catalog.delete_file("/s/f1.txt") and not catalog.delete_file("/s/f1.txt")
    assert catalog.vectors(ids)[0].size == 0


@pytest.mark.parametrize(
    "query",
    [
        '"',
        '"unbalanced',
        "AND",
        "OR NOT",
        "NEAR(a b",
        "a*",
        "col:x",
        "^start",
        "-minus",
        "(((",
        "'; DROP TABLE files; --",
        "\x00",
        "",
        "   ",
        "ü€😀",
        "a" * 5000,
        '""',
        'x "" y',
    ],
)
def test_fts_never_raises_on_user_text(catalog: Catalog, fill_catalog, query: str) -> None:
    fill_catalog(catalog, spectrum_vectors(RNG, 10, FULL_DIM))
    assert isinstance(catalog.fts_search(query, 5), list)
    assert isinstance(catalog.name_search(query, 5), list)


def test_quoted_phrases_match_literally_and_filters_apply(catalog: Catalog) -> None:
    root_id = catalog.add_root("/r")
    texts = {
        "/r/a/x.txt": "the quick brown fox",
        "/r/b/y.md": "brown quick fox, the end",
        "/r/c.py": "quick-brown",
    }
    for i, (path, text) in enumerate(texts.items()):
        fid, _ = catalog.upsert_file(
            path, root_id=root_id, size=1, mtime_ns=i * 10**9, inode=i, kind=path[-2:].strip(".")
        )
        catalog.replace_file_chunks(fid, [(_chunk(text), _vec())])
    path_of = {
        cid: row.path
        for cid, row in catalog.chunks([c for c, _ in catalog.fts_search("quick", 10)]).items()
    }
    assert sorted(path_of.values()) == sorted(texts)
    literal = catalog.phrase_search("quick brown", parse_query("fox"), 10)
    assert [path_of[c] for c in literal] == ["/r/a/x.txt"]  # "quick-brown" is not the phrase
    ranked = [path_of[c] for c, _ in catalog.fts_search('"quick brown" fox', 10)]
    assert ranked[0] == "/r/a/x.txt" and "/r/b/y.md" in ranked  # a phrase ranks; it never filters
    only_b = catalog.fts_search("quick", 10, SearchFilters(folders=("/r/b",)))
    assert [path_of[c] for c, _ in only_b] == ["/r/b/y.md"]
    assert [
        path_of[c] for c, _ in catalog.fts_search("quick", 10, SearchFilters(kinds=("py",)))
    ] == ["/r/c.py"]
    recent = catalog.fts_search("quick", 10, SearchFilters(modified_after=0.5))
    assert sorted(path_of[c] for c, _ in recent) == ["/r/b/y.md", "/r/c.py"]
    scores = [s for _, s in catalog.fts_search("quick brown fox", 10)]
    assert scores == sorted(scores, reverse=True)


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_files_are_private(tmp_path: Path) -> None:
    cat = Catalog(tmp_path / "new" / "catalog.db")
    cat.add_root("/x")
    assert stat.S_IMODE((tmp_path / "new").stat().st_mode) == 0o700
    for name in ("catalog.db", "catalog.db-wal"):
        assert stat.S_IMODE((tmp_path / "new" / name).stat().st_mode) == 0o600
    cat.close()


def test_damaged_database_is_moved_aside_or_reported(tmp_path: Path, fill_catalog) -> None:
    fill = fill_catalog
    db = tmp_path / "catalog.db"
    cat = Catalog(db)
    cat.reset_for_stamp(PipelineStamp("m", FULL_DIM, 1))
    fill(cat, spectrum_vectors(RNG, 200, FULL_DIM))
    cat.close()
    with open(db, "r+b") as fh:  # half-written: cut in the middle
        fh.truncate(db.stat().st_size // 2)
    with pytest.raises(IndexError_) as info:
        Catalog(db, readonly=True)
    assert "damaged" in str(info.value) and info.value.hint
    with pytest.raises(IndexError_):
        Catalog(db, recover=False)
    fresh = Catalog(db)
    assert fresh.recovery is not None and fresh.recovery.kept_at.exists()
    assert not fresh.recovery.problem.other_version
    assert fresh.counts().files == 0 and fresh.stamp() is None
    fresh.close()
    db.write_bytes(b"this is not a database at all" * 10)
    again = Catalog(db)
    assert again.recovery is not None and again.counts().files == 0
    again.close()


def test_catalog_of_another_schema_version_is_named_so_and_rebuilt(tmp_path: Path) -> None:
    db = tmp_path / "catalog.db"
    Catalog(db).close()
    with sqlite3.connect(db) as conn:  # as a qfinder with schema 1 left it
        conn.execute("UPDATE meta SET value = '1' WHERE key = 'schema'")
    conn.close()
    with pytest.raises(IndexError_) as info:
        Catalog(db, readonly=True)
    assert "another qfinder version" in info.value.message and "damaged" not in info.value.message
    assert "qfinder index" in info.value.hint and "app" in info.value.hint
    fresh = Catalog(db)
    assert fresh.recovery is not None and fresh.recovery.problem.other_version
    assert fresh.recovery.kept_at.exists() and fresh.counts().files == 0
    fresh.close()


def test_readonly_catalog_on_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(IndexError_) as info:
        Catalog(tmp_path / "nothing.db", readonly=True)
    assert "qfinder index" in info.value.hint


def test_cjk_keyword_search_without_spaces(catalog: Catalog) -> None:
    root_id = catalog.add_root("/zh")
    texts = {
        "/zh/a.txt": "这是一个关于向量检索的中文句子。",
        "/zh/b.txt": "今天天气很好，我们去公园散步。",
    }
    for i, (path, text) in enumerate(texts.items()):
        fid, _ = catalog.upsert_file(path, root_id=root_id, size=1, mtime_ns=1, inode=i)
        catalog.replace_file_chunks(fid, [(_chunk(text), _vec())])
    rows = catalog.chunks([c for c, _ in catalog.fts_search("向量检索是什么", 5)])
    assert [r.path for r in rows.values()][:1] == ["/zh/a.txt"]
    assert [catalog.chunks([c])[c].path for c, _ in catalog.fts_search('"公园散步"', 5)] == [
        "/zh/b.txt"
    ]
    assert catalog.fts_search('"公散"', 5) == []  # a phrase of characters, not a bag
    catalog.delete_prefix("/zh")
    assert all(v == 0 for v in _table_rows(catalog.path).values())  # FTS delete saw the same text
