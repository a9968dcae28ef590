"""The Library composition: remembered model, one writer, readers alongside, no-model mode."""

from __future__ import annotations

import json

import pytest

from qfinder.core.errors import QfinderError
from qfinder.core.indexing.walk import is_excluded
from qfinder.core.library.library import Library, ModelRuntime
from qfinder.core.library.writelock import WriteLock, WriterBusyError
from qfinder.core.results import SearchRequest


@pytest.fixture
def tree(tmp_path):
    root = tmp_path / "tree"
    root.mkdir()
    (root / "recipe-soup.txt").write_text("Leek and potato soup with a little cream.")
    (root / "trip.txt").write_text("Train tickets to Lisbon for the spring trip.")
    return root


def test_model_is_remembered_and_readers_work_beside_the_writer(tmp_path, tree, tiny_model_dir):
    data = tmp_path / "data"
    with Library.open(data, writer=True, model_folder=str(tiny_model_dir)) as writer:
        writer.indexer.plan([tree])
        while writer.indexer.pending():
            writer.indexer.step()
        assert json.loads((data / "settings.json").read_text())["model_folder"] == str(tiny_model_dir)
        with pytest.raises(WriterBusyError):
            Library.open(data, writer=True)
        with Library.open(data) as reader:  # no --model: the remembered one is loaded
            assert reader.model_name == writer.model_name and reader.indexer is None
            response = reader.search(SearchRequest("Lisbon train", mode="hybrid", k=1))
            assert response.results[0].path == str(tree / "trip.txt")
            assert reader.status().counts.indexed == 2


def drain(indexer):
    while indexer.pending():
        indexer.step()


def test_without_a_model_names_and_words_are_indexed(tmp_path, tree):
    with Library.open(tmp_path / "data", writer=True) as lib:
        assert lib.embedder is None and lib.dim is None
        lib.indexer.plan([tree])
        drain(lib.indexer)
        response = lib.search(SearchRequest("Lisbon", mode="hybrid"))  # in the text, not the name
        assert [r.path for r in response.results] == [str(tree / "trip.txt")] and response.dim is None
        assert "Lisbon" in response.results[0].best.snippet
        counts = lib.status().counts
        assert (counts.indexed, counts.pending, counts.vectors) == (2, 0, 0) and counts.chunks >= 2
        lib.indexer.plan([tree])
        assert lib.indexer.pending() == 0  # nothing to redo until a model comes


def test_a_writer_without_a_model_keeps_what_a_model_embedded(tmp_path, tree, tiny_model_dir):
    data = tmp_path / "data"
    with Library.open(data, writer=True, model_folder=str(tiny_model_dir)) as lib:
        lib.indexer.plan([tree])
        drain(lib.indexer)
        before = lib.status().counts
    (tree / "later.txt").write_text("Added while the model was not loaded.")
    with Library.open(data, writer=True, load_model=False) as lib:
        lib.indexer.plan([tree])
        assert lib.indexer.pending() == 0  # content waits for the model that stamped the vectors
        counts = lib.status().counts
        assert (counts.vectors, counts.indexed, counts.pending) == (before.vectors, 2, 1)


def test_prefer_writer_falls_back_to_a_searchable_reader_while_another_process_indexes(tmp_path, tree):
    data = tmp_path / "data"
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    with pytest.raises(WriterBusyError), WriteLock(fresh):  # no catalog yet: nothing to read
        Library.open(fresh, writer="prefer")
    with Library.open(data, writer=True) as cli_writer:  # `qfinder index` running
        cli_writer.indexer.plan([tree])
        assert not Library.writer_free(data)
        with Library.open(data, writer="prefer") as app:
            assert app.indexer is None and app.read_only_reason is not None
            assert "another qfinder process is indexing" in app.read_only_reason
            hits = app.search(SearchRequest("soup", mode="hybrid")).results
            assert [r.path for r in hits] == [str(tree / "recipe-soup.txt")]
            app.drop_index_files()  # a reader never deletes the writer's files
    assert Library.writer_free(data)
    with Library.open(data, writer="prefer") as app:  # the other process finished: indexing resumes
        assert app.indexer is not None and app.read_only_reason is None
        assert not Library.writer_free(data)
    with Library.open(data, writer=True) as writer:
        assert writer.read_only_reason is None


def test_index_costs_list_saved_graphs_and_drop_removes_them(tmp_path, tree, tiny_model_dir):
    data = tmp_path / "data"
    with Library.open(data, writer=True, model_folder=str(tiny_model_dir)) as lib:
        lib.indexer.plan([tree])
        while lib.indexer.pending():
            lib.indexer.step()
        lib.vectors.exact_below = 0  # a real graph file even for two files
        lib.search(SearchRequest("soup", mode="semantic", dim=32))
        costs = {c.dim: c for c in lib.index_costs()}
        assert costs[32].kind == "hnsw" and costs[32].disk_bytes > 0
        assert (data / "indexes" / "hnsw-d32.bin").exists()
        lib.drop_index_files()
        assert not list((data / "indexes").glob("hnsw-d*")) and not lib.vectors.has(32)


def test_the_data_folder_inside_a_root_is_never_indexed(tmp_path, tree):
    data = tree / "qfinder-data"  # the person chose a data folder inside what they index
    with Library.open(data, writer=True) as lib:
        lib.indexer.plan([tree])
        lib.indexer.plan([tree])  # catalog.db, its WAL and settings exist now: still skipped
        assert lib.status().counts.files == 2
        assert lib.indexer.refresh_paths([data / "catalog.db", data]) == 0  # watcher events too
        assert is_excluded(data / "catalog.db-wal", tree, lib.indexer.rules)
        assert not is_excluded(tree / "trip.txt", tree, lib.indexer.rules)
        assert lib.indexer.plan([data]).queued == 0 and lib.status().counts.files == 2


def test_clear_pending_under_some_roots_keeps_the_others_queued(tmp_path, tree, tiny_model_dir):
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("Notes about the garden shed.")
    with Library.open(tmp_path / "data", writer=True, model_folder=str(tiny_model_dir)) as lib:
        lib.indexer.plan([tree, other])
        assert lib.indexer.pending() == 3
        lib.indexer.clear_pending([str(tree) + "/"])
        assert lib.indexer.pending() == 1 and lib.status().counts.pending == 3  # still pending
        while lib.indexer.pending():
            lib.indexer.step()
        pending = {r.path: r.files_pending for r in lib.root_states()}
        assert pending == {str(tree): 2, str(other): 0}  # only the other root was indexed
        lib.indexer.plan([tree])
        assert lib.indexer.pending() == 2
        lib.indexer.clear_pending()
        assert lib.indexer.pending() == 0


def test_runtime_choices_reach_the_onnx_session(tmp_path, tiny_model_dir):
    """The settings dialog's thread count and variant are what the model actually runs with."""
    data = tmp_path / "data"
    runtime = ModelRuntime(threads=1)
    with Library.open(data, writer=True, model_folder=str(tiny_model_dir), runtime=runtime) as lib:
        assert lib.embedder.load()._session.get_session_options().intra_op_num_threads == 1
    with pytest.raises(QfinderError, match="int8"):
        Library.open(data, writer=True, runtime=ModelRuntime(variant="int8"))
