"""A library that embeds on a server: indexed through it, a folder searches as when indexed here;
a server killed mid-run loses nothing and duplicates nothing; search outlives the server."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.embed_servers import Quirks, Sleeps, quiet_backoff, server_config

from qfinder.core.config import LibraryConfig
from qfinder.core.indexing.indexer import IndexSettings
from qfinder.core.library.library import Library
from qfinder.core.model.remote.errors import ServerUnavailable
from qfinder.core.results import SearchRequest

TOPICS = ["tomatoes and basil in the garden", "kayaks and canoes in the boathouse",
          "the tax return is due in April", "a recipe for lemon cake", "the train leaves at noon",
          "python code that parses dates", "the cat sleeps on the windowsill", "rules of chess openings"]
QUERIES = ["garden vegetables", "boats", "taxes", "baking", "train timetable"]
SMALL_STEPS = IndexSettings(step_files=2, step_tokens=64)


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    root = tmp_path / "docs"
    root.mkdir()
    for i, topic in enumerate(TOPICS):
        (root / f"note{i}.txt").write_text(f"{topic}. " * (3 + i))
    return root


def _index(data: Path, docs: Path, config: LibraryConfig, sleeps: Sleeps | None = None) -> Library:
    data.mkdir(parents=True, exist_ok=True)
    config.save(data)
    library = Library.open(data, writer=True, steps=SMALL_STEPS)
    quiet_backoff(library, sleeps)
    assert library.indexer is not None
    library.indexer.plan([docs])
    while library.indexer.pending():
        library.indexer.step()
    return library


def _answers(library: Library, mode: str = "semantic") -> list[list[tuple[str, float]]]:
    out = []
    for query in QUERIES:
        response = library.search(SearchRequest(query, k=4, mode=mode))  # type: ignore[arg-type]
        out.append([(Path(r.path).name, round(r.score, 4)) for r in response.results])
    return out


def test_a_folder_indexed_through_a_server_searches_as_one_indexed_here(
        tmp_path, docs, serve, tiny_model_dir) -> None:
    with _index(tmp_path / "local", docs, LibraryConfig(model_folder=str(tiny_model_dir))) as local:
        expected = _answers(local)
        local_counts = local.catalog.counts()
    server = serve("tei", max_batch=4)
    with _index(tmp_path / "remote", docs, server_config(server.url, tiny_model_dir)) as remote:
        assert _answers(remote) == expected
        assert remote.catalog.counts() == local_counts
        assert remote.catalog.stamp().model_id == "server:Qwen/Qwen3-Embedding-tiny"


def test_a_server_killed_mid_run_loses_nothing_and_duplicates_nothing(
        tmp_path, docs, serve, tiny_model_dir, sleeps) -> None:
    with _index(tmp_path / "local", docs, LibraryConfig(model_folder=str(tiny_model_dir))) as local:
        expected, local_counts = _answers(local), local.catalog.counts()
    server = serve("openai")
    data = tmp_path / "remote"
    data.mkdir()
    server_config(server.url, tiny_model_dir).save(data)
    with Library.open(data, writer=True, steps=SMALL_STEPS) as library:
        quiet_backoff(library, sleeps)
        library.indexer.plan([docs])
        library.indexer.step()
        library.indexer.step()
        server.stop()  # killed between two steps
        with pytest.raises(ServerUnavailable) as down:
            while library.indexer.pending():
                library.indexer.step()
        assert down.value.retry_in_s > 0 and len(sleeps) > 0
        assert 0 < library.catalog.counts().indexed < len(TOPICS)
    server.start()  # back, same address
    with _index(data, docs, server_config(server.url, tiny_model_dir)) as library:
        assert library.catalog.counts() == local_counts  # every file once, every chunk once
        assert _answers(library) == expected


def test_search_while_the_server_is_away_falls_back_to_keywords_with_a_note(
        tmp_path, docs, serve, tiny_model_dir) -> None:
    server = serve("ollama")
    config = server_config(server.url, None, server_tokenizer=str(tiny_model_dir / "tokenizer.json"))
    with _index(tmp_path / "remote", docs, config) as library:
        server.stop()
        response = library.search(SearchRequest("tax return", k=3))
        assert response.results and Path(response.results[0].path).name == "note2.txt"
        assert any("unreachable" in note and "keyword" in note for note in response.notes)


def test_search_while_the_server_is_away_uses_the_local_copy_when_it_agrees(
        tmp_path, docs, serve, tiny_model_dir) -> None:
    server = serve("tei")
    with _index(tmp_path / "remote", docs, server_config(server.url, tiny_model_dir)) as library:
        online = _answers(library)
        server.stop()
        assert _answers(library) == online  # the same answers by meaning, embedded here
        assert library.embedder.used_local == len(QUERIES)


def test_the_local_copy_opened_for_queries_is_released_when_idle(tmp_path, docs, serve, tiny_model_dir) -> None:
    server = serve("tei")
    with _index(tmp_path / "remote", docs, server_config(server.url, tiny_model_dir)) as library:
        server.stop()
        library.search(SearchRequest(QUERIES[0], k=2, mode="semantic"))  # embedded by the local copy
        assert library.model_opening is not None and library.model_opening.loaded
        assert library.release_model()
        assert not library.model_opening.loaded
        assert library.search(SearchRequest(QUERIES[0], k=2, mode="semantic")).results  # opens again


def test_an_index_built_here_goes_on_through_a_server_of_the_same_model(
        tmp_path, docs, serve, tiny_model_dir) -> None:
    data = tmp_path / "data"
    with _index(data, docs, LibraryConfig(model_folder=str(tiny_model_dir))) as local:
        expected, stamp = _answers(local), local.catalog.stamp()
    server = serve("tei")
    (docs / "new.txt").write_text("a brand new note about sailing boats")
    with _index(data, docs, server_config(server.url, tiny_model_dir)) as library:
        assert library.catalog.stamp() == stamp  # not re-embedded: the fingerprints agree
        assert library.indexer.stats.texts_embedded == 1  # only the new file's chunk
        assert _answers(library)[2:] == expected[2:]
    with _index(data, docs, LibraryConfig(model_folder=str(tiny_model_dir))) as back_here:
        assert back_here.catalog.stamp() == stamp


def test_an_index_built_through_a_server_goes_on_here_with_the_local_copy(
        tmp_path, docs, serve, tiny_model_dir) -> None:
    data = tmp_path / "data"
    server = serve("tei")
    with _index(data, docs, server_config(server.url, tiny_model_dir)) as remote:
        expected, stamp = _answers(remote), remote.catalog.stamp()
    server.stop()
    (docs / "new.txt").write_text("a brand new note about sailing boats")
    with _index(data, docs, LibraryConfig(model_folder=str(tiny_model_dir))) as here:
        assert here.catalog.stamp() == stamp  # not re-embedded: the fingerprints agree
        assert here.indexer.stats.texts_embedded == 1  # only the new file's chunk
        assert _answers(here)[2:] == expected[2:]


def test_a_server_of_another_model_re_embeds_instead_of_mixing(tmp_path, docs, serve, tiny_model_dir) -> None:
    data = tmp_path / "data"
    with _index(data, docs, LibraryConfig(model_folder=str(tiny_model_dir))) as local:
        stamp = local.catalog.stamp()
    server = serve("tei", quirks=Quirks(served="other/model", perturb=True))
    with _index(data, docs, server_config(server.url, tiny_model_dir)) as library:
        assert library.catalog.stamp().model_id == "server:other/model" != stamp.model_id
        assert library.indexer.stats.texts_embedded == library.catalog.counts().chunks
