"""Hostile trees through the real command line and the real catalog: a file name that is not
valid UTF-8, a file whose stat cannot be stored, a sub-folder that cannot be listed."""

from __future__ import annotations

import base64
import json
import os

import pytest
from support.cli import cli

from qfinder.core.storage.catalog import Catalog

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


def test_a_file_whose_stat_cannot_be_stored_is_charged_to_that_file(tmp_path, docs, tiny_model_dir,
                                                                    capsys):
    odd = docs / "sub" / "from-the-future.txt"
    odd.write_text("a timestamp beyond what SQLite integers hold")
    os.utime(odd, ns=(0, 10**19))  # year 2286: past 2**63 nanoseconds
    if os.stat(odd).st_mtime_ns < 2**63:
        pytest.skip("this file system cannot hold a timestamp past 2262")
    data = tmp_path / "data"
    code, out, err = cli(capsys, "index", docs, "--model", tiny_model_dir, "--data-dir", data)
    assert (code, out) == (0, ""), err
    status = json.loads(cli(capsys, "status", "--json", "--no-model", "--data-dir", data)[1])
    assert status["indexed"] == 3  # its neighbours, in the same folder, are indexed
    [failure] = status["failures"]
    assert failure["path"] == str(odd) and failure["reason"].startswith("could not be recorded")


def test_unreadable_sub_folders_are_listed_under_failures(tmp_path, docs, tiny_model_dir, capsys,
                                                        monkeypatch):
    odd_folder = os.fsdecode(os.fsencode(docs) + b"/caf\xe9")  # an undecodable name as well
    os.mkdir(odd_folder)
    locked = {str(docs / "sub"), odd_folder}
    real_scandir = os.scandir

    def scandir(path="."):  # tests run as root, who reads mode-000 folders: refuse them here
        if os.fspath(path) in locked:
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    data = tmp_path / "data"
    code, out, err = cli(capsys, "index", docs, "--model", tiny_model_dir, "--data-dir", data)
    assert (code, out) == (0, ""), err
    status = json.loads(cli(capsys, "status", "--json", "--no-model", "--data-dir", data)[1])
    reason = "folder could not be read: permission denied"
    assert status["failures"] == [
        {"path": f"{docs}/caf\ufffd", "path_bytes": base64.b64encode(os.fsencode(odd_folder)).decode(),
         "reason": reason},
        {"path": str(docs / "sub"), "reason": reason},
    ]
    assert status["indexed"] == 2
    code, out, _ = cli(capsys, "status", "--no-model", "--data-dir", data)
    assert f"{docs}/sub: {reason}" in out and f"{docs}/caf\ufffd: {reason}" in out

    monkeypatch.setattr(os, "scandir", real_scandir)  # readable again: the next run clears them
    assert cli(capsys, "index", docs, "--data-dir", data)[0] == 0
    status = json.loads(cli(capsys, "status", "--json", "--no-model", "--data-dir", data)[1])
    assert (status["failures"], status["indexed"]) == ([], 3)
