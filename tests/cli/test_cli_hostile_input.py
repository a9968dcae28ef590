"""Hostile trees through the real command line and the real catalog: a file name that is not
valid UTF-8."""

from __future__ import annotations

import base64
import json
import os

import pytest
from support.cli import cli

from qfinder.core.catalog import Catalog

BAD_NAME = b"bad\xff\xfename.txt"  # Latin-1 era bytes: not valid UTF-8


@pytest.fixture
def bad_file(docs):
    raw = os.fsencode(docs) + b"/" + BAD_NAME
    with open(raw, "wb") as fh:
        fh.write(b"The walrus sleeps on the drifting ice floe.")
    return os.fsdecode(raw)  # the str os.scandir gives for it (surrogate escapes)


def test_undecodable_name_is_indexed_found_and_printed_readably(tmp_path, docs, bad_file,
                                                                 tiny_model_dir, capsys):
    data = tmp_path / "data"
    code, out, err = cli(capsys, "index", docs, "--model", tiny_model_dir, "--data-dir", data)
    assert (code, out) == (0, ""), err
    with Catalog(data / "catalog.db", readonly=True) as catalog:
        row = catalog.file(bad_file)
        assert row is not None and row.status == "indexed"  # stored under its real bytes
        assert catalog.counts().indexed == 4  # the rest of the folder too
    code, out, err = cli(capsys, "search", "walrus ice floe", "--json", "--data-dir", data)
    assert code == 0, err
    best = json.loads(out)["results"][0]
    assert best["path"] == f"{docs}/bad\ufffd\ufffdname.txt"
    assert base64.b64decode(best["path_bytes"]) == os.fsencode(bad_file)
    code, out, err = cli(capsys, "search", "walrus", "--mode", "keyword", "--data-dir", data)
    assert code == 0 and "bad\ufffd\ufffdname.txt" in out, err
    code, out, err = cli(capsys, "search", "name", "--mode", "keyword", "--json", "--data-dir", data)
    assert code == 0, err
    assert "path_bytes" in json.loads(out)["results"][0]  # found by its (readable) name alone


def test_valid_names_keep_the_stable_json_shape(indexed, capsys):
    code, out, _ = cli(capsys, "search", "tomatoes", "--json", "--data-dir", indexed)
    assert code == 0
    assert all("path_bytes" not in r for r in json.loads(out)["results"])
