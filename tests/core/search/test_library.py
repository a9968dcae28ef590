"""The Library composition: remembered model, one writer, readers alongside, no-model mode."""

from __future__ import annotations

import json

import pytest

from qfinder.core.results import SearchRequest
from qfinder.core.session import Library
from qfinder.core.writelock import WriterBusyError


@pytest.fixture
def tree(tmp_path):
    root = tmp_path / "tree"
    root.mkdir()
    (root / "recipe-soup.txt").write_text("Leek and potato soup with a little cream.")
    (root / "trip.txt").write_text("Train tickets to Lisbon for the spring trip.")
    return root


def test_model_is_remembered_and_readers_work_beside_the_writer(tmp_path, tree, tiny_qwen3_dir):
    data = tmp_path / "data"
    with Library.open(data, writer=True, model_folder=str(tiny_qwen3_dir)) as writer:
        writer.indexer.plan([tree])
        while writer.indexer.pending():
            writer.indexer.step()
        assert json.loads((data / "settings.json").read_text())["model_folder"] == str(tiny_qwen3_dir)
        with pytest.raises(WriterBusyError):
            Library.open(data, writer=True)
        with Library.open(data) as reader:  # no --model: the remembered one is loaded
            assert reader.model_name == writer.model_name and reader.indexer is None
            response = reader.search(SearchRequest("Lisbon train", mode="hybrid", k=1))
            assert response.results[0].path == str(tree / "trip.txt")
            assert reader.status().counts.indexed == 2


def test_without_a_model_names_and_keywords_still_work(tmp_path, tree):
    with Library.open(tmp_path / "data", writer=True) as lib:
        assert lib.embedder is None and lib.dim is None
        lib.indexer.plan([tree])
        assert lib.indexer.pending() == 0  # content waits for a model
        response = lib.search(SearchRequest("soup", mode="hybrid"))
        assert [r.path for r in response.results] == [str(tree / "recipe-soup.txt")]
        assert response.results[0].chunks == () and response.dim is None
        assert lib.status().counts.pending == 2
