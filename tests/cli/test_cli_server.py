"""`qfinder server check` and `qfinder index --server`: against a real loopback server."""

from __future__ import annotations

import json
import stat

import pytest
from support.cli import cli
from support.embed_servers import EmbedServer

from qfinder.core.model.embedder import Embedder


@pytest.fixture
def server(tiny_model_dir):
    with EmbedServer(Embedder.from_folder(tiny_model_dir, "cpu"), "tei", api_key="s3cret") as running:
        yield running


def test_server_check_reports_model_size_round_trip_and_speed(capsys, server, tiny_model_dir) -> None:
    code, out, err = cli(capsys, "server", "check", server.url, "--api-key", "s3cret",
                         "--tokenizer", tiny_model_dir)
    assert code == 0, err
    assert "Qwen/Qwen3-Embedding-tiny" in out and "128 dimensions" in out
    assert "round trip:" in out and "tokens/s" in out and "estimated" not in out
    assert "s3cret" not in out + err


def test_server_check_with_a_wrong_key_says_so_in_one_line(capsys, server) -> None:
    code, out, err = cli(capsys, "server", "check", server.url, "--api-key", "nope")
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "refused the API key (401)" in err and "nope" not in err


def test_index_on_a_server_searches_as_indexed_here_and_keeps_the_key_out_of_settings(
        capsys, tmp_path, docs, server, tiny_model_dir) -> None:
    here, there = tmp_path / "here", tmp_path / "there"
    assert cli(capsys, "index", docs, "--model", tiny_model_dir, "--data-dir", here)[0] == 0
    code, _, err = cli(capsys, "index", docs, "--model", tiny_model_dir, "--server", server.url,
                       "--api-key", "s3cret", "--data-dir", there)
    assert code == 0, err
    settings = (there / "settings.json").read_text()
    assert "s3cret" not in settings and json.loads(settings)["server_url"] == server.url
    key_file = there / "server-keys.json"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600 and "s3cret" in key_file.read_text()
    for query in ("garden", "boats", "taxes"):
        local = cli(capsys, "search", query, "--json", "--mode", "semantic", "--data-dir", here)[1]
        remote = cli(capsys, "search", query, "--json", "--mode", "semantic", "--data-dir", there)[1]
        assert [r["path"] for r in json.loads(remote)["results"]] == [r["path"] for r in json.loads(local)["results"]]
