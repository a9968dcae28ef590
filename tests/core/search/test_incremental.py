"""Incremental indexing on real parts (tiny Qwen3 ONNX model, SQLite catalog, real files).

Embedding work is counted with the indexer's tally of the texts the real embedder reported.
"""

from __future__ import annotations

import os

import pytest

from qfinder.core.indexing.indexer import Indexer, IndexSettings
from qfinder.core.storage.catalog import Catalog

TINY_SETTINGS = IndexSettings(chunk_tokens=48, overlap_tokens=0, step_files=4, step_tokens=2048)

PARAGRAPHS = [f"Paragraph {i}: the {w} walked over the hill to see the river." for i, w in
              enumerate(["fox", "bear", "otter", "heron", "badger", "lynx"])]


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def tree(tmp_path):
    root = tmp_path / "tree"
    write(root / "long.md", "\n\n".join(PARAGRAPHS))
    write(root / "notes" / "a.txt", "Apples and pears in the orchard.")
    write(root / "notes" / "b.txt", "Invoices from March, paid in April.")
    write(root / "photo.bin", "\x00\x01 binary")
    (root / "fake.txt").write_bytes(bytes(range(256)) * 8)  # binary pretending to be text
    return root


def make_indexer(tmp_path, embedder, settings=TINY_SETTINGS, cls=Indexer):
    catalog = Catalog(tmp_path / "data" / "catalog.db")
    return cls(catalog, embedder, settings)


def run(indexer, root):
    report = indexer.plan([root])
    before = indexer.stats.texts_embedded
    while indexer.pending():
        indexer.step()
    return report, indexer.stats.texts_embedded - before


def chunk_hashes(catalog, path):
    return [c.hash for c in catalog.chunks(catalog.file_chunk_ids(str(path))).values()]


def test_first_run_indexes_everything_and_names_stay_searchable(tmp_path, tree, tiny_embedder):
    indexer = make_indexer(tmp_path, tiny_embedder)
    report, embedded = run(indexer, tree)
    counts = indexer.catalog.counts()
    assert (report.new, counts.indexed, counts.name_only, counts.pending) == (5, 3, 2, 0)
    assert embedded == counts.chunks == counts.vectors > 3
    assert indexer.catalog.file(str(tree / "photo.bin")).status == "name-only"
    named = indexer.catalog.name_search("photo")
    assert [indexer.catalog.files_by_id([fid])[fid].path for fid, _ in named] == [str(tree / "photo.bin")]


def test_unchanged_tree_only_stats_files(tmp_path, tree, tiny_embedder):
    indexer = make_indexer(tmp_path, tiny_embedder)
    run(indexer, tree)
    model_runs: list[None] = []
    tiny_embedder.on_run_start = lambda: model_runs.append(None)
    try:
        report, embedded = run(indexer, tree)
    finally:
        tiny_embedder.on_run_start = None  # the embedder is shared by the session
    assert embedded == 0 and report.unchanged == 5 and report.queued == 0
    assert model_runs == []  # the model was not called at all


def test_edited_paragraph_embeds_only_the_changed_chunks(tmp_path, tree, tiny_embedder):
    indexer = make_indexer(tmp_path, tiny_embedder)
    run(indexer, tree)
    long = tree / "long.md"
    old = chunk_hashes(indexer.catalog, long)
    edited = PARAGRAPHS.copy()
    edited[3] = "Paragraph 3: a heron stood very still in the shallow reeds."
    write(long, "\n\n".join(edited))
    report, embedded = run(indexer, tree)
    new = chunk_hashes(indexer.catalog, long)
    assert report.changed == 1
    assert len(old) >= 4 and 1 <= embedded <= 2
    assert embedded == len(set(new) - set(old))


def test_touched_and_renamed_files_are_not_re_embedded(tmp_path, tree, tiny_embedder):
    indexer = make_indexer(tmp_path, tiny_embedder)
    run(indexer, tree)
    old_ids = indexer.catalog.file_chunk_ids(str(tree / "notes" / "a.txt"))
    os.utime(tree / "notes" / "b.txt", ns=(1, 1_000_000_000))
    os.rename(tree / "notes" / "a.txt", tree / "notes" / "renamed.txt")
    report, embedded = run(indexer, tree)
    assert embedded == 0
    assert (report.renamed, report.changed, report.gone) == (1, 1, 0)
    assert indexer.catalog.file(str(tree / "notes" / "a.txt")) is None
    assert indexer.catalog.file_chunk_ids(str(tree / "notes" / "renamed.txt")) == old_ids


def test_deleted_files_and_folders_leave_no_ghosts(tmp_path, tree, tiny_embedder):
    indexer = make_indexer(tmp_path, tiny_embedder)
    run(indexer, tree)
    (tree / "notes" / "a.txt").unlink()
    (tree / "notes" / "b.txt").unlink()
    (tree / "notes").rmdir()
    report, _ = run(indexer, tree)
    assert report.gone == 2
    assert indexer.catalog.fts_search("orchard") == [] and indexer.catalog.fts_search("Invoices") == []
    assert indexer.catalog.counts().files == 3


def test_watcher_refresh_handles_create_modify_move_delete(tmp_path, tree, tiny_embedder):
    indexer = make_indexer(tmp_path, tiny_embedder)
    run(indexer, tree)
    write(tree / "new.txt", "A brand new note about kayaks.")
    os.rename(tree / "notes" / "a.txt", tree / "moved.txt")
    (tree / "notes" / "b.txt").unlink()
    touched = indexer.refresh_paths([tree / "new.txt", tree / "notes" / "a.txt", tree / "moved.txt",
                                     tree / "notes" / "b.txt", "/elsewhere/not-a-root.txt"])
    assert touched == 3 and indexer.pending() == 1
    before = indexer.stats.texts_embedded
    while indexer.pending():
        indexer.step()
    assert indexer.stats.texts_embedded - before == 1  # only the new note; the move kept its vectors
    paths = {indexer.catalog.files_by_id([f])[f].path for f, _ in indexer.catalog.name_search("txt")}
    assert paths == {str(tree / "new.txt"), str(tree / "moved.txt"), str(tree / "fake.txt")}


def test_failures_are_recorded_and_not_retried_until_the_file_changes(tmp_path, tree, tiny_embedder):
    write(tree / "broken.pdf", "%PDF-1.4 this is not really a pdf")
    indexer = make_indexer(tmp_path, tiny_embedder)
    run(indexer, tree)
    row = indexer.catalog.file(str(tree / "broken.pdf"))
    assert row.status == "failed" and row.error
    assert any(f.path == str(tree / "broken.pdf") for f in indexer.catalog.failures())
    report, _ = run(indexer, tree)
    assert report.queued == 0
    write(tree / "broken.pdf", "%PDF-1.4 still broken, but changed")
    report, _ = run(indexer, tree)
    assert report.changed == 1 and indexer.catalog.file(str(tree / "broken.pdf")).status == "failed"


class ChangingIndexer(Indexer):
    """Appends to a file while it is being read, once: the indexer must re-queue it."""

    victim: str = ""

    def _chunker(self, text, pages, is_code):
        if self._current == self.victim and not getattr(self, "done", False):
            self.done = True
            with open(self.victim, "a", encoding="utf-8") as fh:
                fh.write("\nA line added while the file was being read.")
        return super()._chunker(text, pages, is_code)


def test_file_changing_while_read_is_requeued_not_half_indexed(tmp_path, tree, tiny_embedder):
    indexer = make_indexer(tmp_path, tiny_embedder, cls=ChangingIndexer)
    indexer.victim = str(tree / "notes" / "a.txt")
    run(indexer, tree)
    assert indexer.stats.requeued == 1
    row = indexer.catalog.file(indexer.victim)
    assert row.status == "indexed" and row.size == os.path.getsize(indexer.victim)
    assert indexer.catalog.fts_search("added while")  # the final version is what got indexed


def test_model_or_chunker_change_re_embeds_everything(tmp_path, tree, tiny_embedder):
    indexer = make_indexer(tmp_path, tiny_embedder)
    run(indexer, tree)
    first = indexer.catalog.counts().vectors
    indexer.catalog.close()
    other = IndexSettings(chunk_tokens=40, overlap_tokens=0, step_files=4)
    again = make_indexer(tmp_path, tiny_embedder, settings=other)
    report, embedded = run(again, tree)
    assert report.queued == 5 and embedded == again.catalog.counts().vectors >= first


def test_a_vanished_root_is_marked_unavailable_never_purged(tmp_path, tree, tiny_embedder):
    indexer = make_indexer(tmp_path, tiny_embedder)
    run(indexer, tree)
    moved = tmp_path / "unplugged"
    os.rename(tree, moved)
    indexer.refresh_paths([tree, tree / "notes" / "a.txt"])
    report = indexer.plan([tree])
    assert report.unavailable == [str(tree)] and indexer.catalog.counts().files == 5
    assert [r.state for r in indexer.catalog.roots()] == ["unavailable"]
    os.rename(moved, tree)
    report, embedded = run(indexer, tree)
    assert embedded == 0 and report.unchanged == 5 and indexer.catalog.roots()[0].state == "watching"


def test_watcher_refresh_of_an_unreadable_folder_keeps_its_files(tmp_path, tree, tiny_embedder,
                                                                 monkeypatch):
    indexer = make_indexer(tmp_path, tiny_embedder)
    run(indexer, tree)
    locked, real_scandir = str(tree / "notes"), os.scandir

    def scandir(path="."):  # tests run as root, who reads mode-000 folders: refuse it here
        if os.fspath(path) == locked:
            raise PermissionError(13, "Permission denied", locked)
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    assert indexer.refresh_paths([tree / "notes"]) == 0  # not seen is not deleted
    assert indexer.catalog.file(str(tree / "notes" / "a.txt")).status == "indexed"
