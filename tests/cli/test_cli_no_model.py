"""`qfinder index DIR` without a model indexes names and words (said on stderr); a later
`qfinder index DIR --model M` embeds that content, and no file goes missing on the way."""

from __future__ import annotations

import json

from support.cli import cli

NO_MODEL_NOTE = ("qfinder: no model set: indexing names and words only; "
                 "`qfinder index DIR --model M` adds search by meaning\n")


def search_paths(capsys, data, *args):
    code, out, err = cli(capsys, "search", *args, "--json", "--data-dir", data)
    assert code == 0, err
    return [r["path"] for r in json.loads(out)["results"]]


def status(capsys, data):
    code, out, err = cli(capsys, "status", "--json", "--data-dir", data)
    assert code == 0, err
    return json.loads(out)


def test_index_without_a_model_then_with_one(tmp_path, docs, tiny_model_dir, capsys):
    data = tmp_path / "data"
    code, out, err = cli(capsys, "index", docs, "--data-dir", data)
    assert (code, out, err) == (0, "", NO_MODEL_NOTE)
    assert search_paths(capsys, data, "boathouse") == [str(docs / "boats.md")]  # a word inside the file
    assert search_paths(capsys, data, "fiscal", "--mode", "keyword") == [str(docs / "sub" / "taxes.txt")]
    before = status(capsys, data)
    assert (before["files"], before["vectors"], before["model_name"]) == (3, 0, None)

    code, out, err = cli(capsys, "index", docs, "--model", tiny_model_dir, "--data-dir", data)
    assert (code, out, err) == (0, "", "")
    after = status(capsys, data)
    assert (after["files"], after["indexed"], after["pending"], after["failed"]) == (3, 3, 0, 0)
    assert after["vectors"] == after["chunks"] > 0
    every_file = {str(docs / "garden.txt"), str(docs / "boats.md"), str(docs / "sub" / "taxes.txt")}
    assert set(search_paths(capsys, data, "kayak on the water", "--mode", "semantic")) == every_file
    assert search_paths(capsys, data, "boathouse", "--mode", "keyword") == [str(docs / "boats.md")]
