"""The model is opened only when something is embedded, and opens fast the second time.

An unchanged re-index and a keyword search never import onnxruntime (checked in a fresh
process); a changed file or a semantic search opens the model; the optimized graph is written on
the first open, used by the next and replaced when the model's files change."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from qfinder.core.errors import CancelledError
from qfinder.core.library.library import Library
from qfinder.core.results import SearchRequest

PROCESS = textwrap.dedent(
    """
    import json, sys
    from qfinder.cli import run
    codes = [run(args) for args in json.loads(sys.argv[1])]
    print(json.dumps({"codes": codes, "loaded": [m for m in ("onnxruntime", "onnx") if m in sys.modules]}))
    """
)


def _in_fresh_process(*commands: list[str]) -> dict:
    done = subprocess.run([sys.executable, "-c", PROCESS, json.dumps(commands)], capture_output=True,
                          text=True, timeout=300, env={**os.environ, "PYTHONPATH": os.getcwd()})
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture
def tree(tmp_path):
    root = tmp_path / "tree"
    root.mkdir()
    (root / "soup.txt").write_text("Leek and potato soup with a little cream.")
    (root / "trip.txt").write_text("Train tickets to Lisbon for the spring trip.")
    return root


def _index(data, tree, model=None):
    with Library.open(data, writer=True, model_folder=model) as lib:
        lib.indexer.plan([str(tree)])
        while lib.indexer.pending():
            lib.indexer.step()
        return lib.embedder.loaded, lib.catalog.counts()


def test_an_unchanged_reindex_and_a_keyword_search_never_load_the_runtime(tmp_path, tree, tiny_model_dir):
    data = str(tmp_path / "data")
    first = _in_fresh_process(["index", str(tree), "--model", str(tiny_model_dir), "--data-dir", data])
    assert first["codes"] == [0] and "onnxruntime" in first["loaded"]  # new content: embedded
    again = _in_fresh_process(["index", str(tree), "--data-dir", data],
                              ["search", "potato", "--mode", "keyword", "--data-dir", data],
                              ["status", "--data-dir", data])
    assert again == {"codes": [0, 0, 0], "loaded": []}


def test_the_model_opens_when_a_file_changes_or_a_query_needs_it(tmp_path, tree, tiny_model_dir):
    data = tmp_path / "data"
    assert _index(data, tree, str(tiny_model_dir))[0]  # first meeting: opened to learn its size
    loaded, counts = _index(data, tree)
    assert not loaded and counts.indexed == 2
    (tree / "soup.txt").write_text("Leek and potato soup, now with chives.")
    loaded, counts = _index(data, tree)
    assert loaded and counts.indexed == 2 and counts.chunks == counts.vectors
    with Library.open(data) as reader:
        assert not reader.embedder.loaded
        assert reader.status().model_name and not reader.embedder.loaded
        reader.search(SearchRequest("chives", mode="keyword"))
        assert not reader.embedder.loaded
        hits = reader.search(SearchRequest("soup with chives", mode="semantic"))
        assert reader.embedder.loaded and hits.results


def test_a_cancel_before_the_model_opens_stops_its_first_inference(tmp_path, tree, tiny_model_dir):
    data = tmp_path / "data"
    _index(data, tree, str(tiny_model_dir))
    with Library.open(data) as reader:
        reader.cancel()
        with pytest.raises(CancelledError):
            reader.embedder.embed_documents_with_stats(["soup"])
        reader.reset_cancel()
        assert reader.embedder.embed_documents_with_stats(["soup"]).vectors.shape[0] == 1


def test_the_optimized_graph_is_used_on_the_second_open_and_rebuilt_when_the_model_changes(
        tmp_path, tiny_model_dir):
    from qfinder.core.model import runtime
    from qfinder.core.model.embedder import Embedder

    model = tmp_path / "model"
    shutil.copytree(tiny_model_dir, model)
    onnx_path = next(model.rglob("model.onnx"))
    cache = tmp_path / "graphs"
    texts = ["leek soup", "a train to Lisbon in the spring"]
    plain = Embedder.from_folder(model, provider="cpu").embed_documents(texts)

    first = Embedder.from_folder(model, provider="cpu", cache_dir=cache)
    entry = runtime.graph_entry(onnx_path, cache)
    # written from the model, then opened from the cache: its weights map the saved file
    assert entry.ready and first.graph_origin == "saved" and first._session._model_path == str(entry.graph)
    np.testing.assert_allclose(first.embed_documents(texts), plain, atol=1e-5)
    second = Embedder.from_folder(model, provider="cpu", cache_dir=cache)
    assert second._session._model_path == str(entry.graph) and second.graph_origin == "cached"
    np.testing.assert_allclose(second.embed_documents(texts), plain, atol=1e-5)

    os.utime(onnx_path, ns=(onnx_path.stat().st_atime_ns, onnx_path.stat().st_mtime_ns + 10**9))
    changed = runtime.graph_entry(onnx_path, cache)
    third = Embedder.from_folder(model, provider="cpu", cache_dir=cache)
    assert third.graph_origin == "saved" and changed.ready  # rebuilt
    assert [p.name for p in cache.iterdir()] == [changed.folder.name]  # the old one is gone


def test_a_damaged_cached_graph_is_replaced(tmp_path, tiny_model_dir):
    from qfinder.core.model import runtime
    from qfinder.core.model.embedder import Embedder

    cache = tmp_path / "graphs"
    Embedder.from_folder(tiny_model_dir, provider="cpu", cache_dir=cache)
    entry = runtime.graph_entry(next(tiny_model_dir.rglob("model.onnx")), cache)
    entry.graph.write_bytes(b"not a graph")
    reopened = Embedder.from_folder(tiny_model_dir, provider="cpu", cache_dir=cache)
    assert reopened.embed_documents(["soup"]).shape[0] == 1 and reopened.graph_origin == "saved"
    assert entry.ready and entry.graph.stat().st_size > 100  # written again


def test_status_reports_how_long_the_model_took_to_open_and_from_what(tmp_path, tree, tiny_model_dir, capsys):
    from support.cli import cli

    data = tmp_path / "data"
    _index(data, tree, str(tiny_model_dir))  # the first open optimizes the graph and caches it
    code, out, _ = cli(capsys, "status", "--data-dir", data)
    assert code == 0 and "opens on first use (last time" in out and "optimized and cached" in out
    assert "optimized graph cached" in out
    code, out, _ = cli(capsys, "status", "--json", "--data-dir", data)
    status = json.loads(out)
    assert status["model_open_s"] > 0 and status["model_cache_bytes"] > 0 and not status["model_loaded"]
    assert status["model_graph"] == "saved"
    with Library.open(data) as reader:
        reader.search(SearchRequest("leek soup", mode="semantic"))  # opens it again: from the cache
        opening = reader.model_opening
        assert opening is not None and opening.loaded and opening.graph == "cached"
        assert opening.describe().startswith("opened in ") and "from the cached optimized graph" in opening.describe()
    code, out, _ = cli(capsys, "status", "--json", "--data-dir", data)
    assert json.loads(out)["model_graph"] == "cached"
