"""Fixtures of the remote-embedding tests: the tiny Qwen3 model served by loopback servers that
embed with qfinder's own engine, and a client pointed at them whose backoff never waits."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from support.embed_servers import EmbedServer, Sleeps, server_config

from qfinder.core.library.sources import server_model
from qfinder.core.model.embedder import Embedder
from qfinder.core.model.remote.embedder import RemoteEmbedder


@pytest.fixture(scope="session")
def server_engine(tiny_model_dir: Path) -> Embedder:
    return Embedder.from_folder(tiny_model_dir, "cpu")


@pytest.fixture(scope="session")
def local_engine(tiny_model_dir: Path) -> Embedder:
    return Embedder.from_folder(tiny_model_dir, "cpu")


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def serve(server_engine: Embedder) -> Iterator[Callable[..., EmbedServer]]:
    started: list[EmbedServer] = []

    def start(kind: str, **options: object) -> EmbedServer:
        server = EmbedServer(server_engine, kind, **options).start()  # type: ignore[arg-type]
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def remote_for(tiny_model_dir: Path, tmp_path: Path, sleeps: Sleeps) -> Iterator[Callable[..., RemoteEmbedder]]:
    made: list[RemoteEmbedder] = []

    def make(server: EmbedServer, api_key: str | None = None, data_dir: Path | None = None,
             **changes: object) -> RemoteEmbedder:
        config = server_config(server.url, tiny_model_dir, **changes)
        remote = server_model(config, data_dir or tmp_path, api_key=api_key, sleep=sleeps)
        made.append(remote)
        return remote

    yield make
    for remote in made:
        remote.close()
