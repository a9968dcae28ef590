"""`qfinder search` options that cannot be honoured: an error line and exit 2, or (where the
query can still be answered) a warning on stderr and the answer. Real index, tiny models."""

from __future__ import annotations

import json
import shutil

import pytest
from support.cli import cli


def one_error_line(err):
    lines = err.strip().splitlines()
    return len(lines) == 1 and lines[0].startswith("qfinder: ") and "Traceback" not in err


@pytest.fixture(scope="session")
def generic_model_dir(tiny_model_dir, tmp_path_factory):
    """The tiny model folder as a model that is neither instruction-aware nor MRL-trained."""
    folder = tmp_path_factory.mktemp("generic") / "plain-encoder"
    shutil.copytree(tiny_model_dir, folder)
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    (folder / "config.json").write_text(json.dumps({**config, "model_type": "plain-encoder"}), encoding="utf-8")
    (folder / "config_sentence_transformers.json").write_text(json.dumps({"prompts": {}}), encoding="utf-8")
    return folder


@pytest.fixture
def generic_index(tmp_path, docs, generic_model_dir, capsys):
    data = tmp_path / "generic-data"
    code, _, err = cli(capsys, "index", docs, "--model", generic_model_dir, "--data-dir", data)
    assert code == 0, err
    return data


@pytest.mark.parametrize("dim", ["0", "99999", "-5", "31"])
def test_a_dimension_the_model_lacks_is_refused_as_embed_refuses_it(indexed, tiny_model_dir, capsys, dim):
    code, out, err = cli(capsys, "search", "garden", "--dim", dim, "--data-dir", indexed)
    assert code == 2 and out == "" and one_error_line(err) and f"Dimension {dim} " in err
    embed_code, _, embed_err = cli(capsys, "embed", "--model", tiny_model_dir, "--dim", dim, "--query", "garden")
    assert (embed_code, embed_err) == (code, err)  # one rule for both commands


def test_a_model_not_trained_for_matryoshka_has_only_its_full_size(generic_index, capsys):
    code, _, err = cli(capsys, "search", "garden", "--dim", "100", "--data-dir", generic_index)
    assert code == 2 and one_error_line(err) and "Dimension 100 " in err and "128" in err
    code, out, err = cli(capsys, "search", "garden", "--dim", "128", "--json", "--data-dir", generic_index)
    assert code == 0 and json.loads(out)["results"], err


def test_instruction_on_a_model_without_instructions_warns_and_answers(generic_index, capsys):
    code, out, err = cli(capsys, "search", "kayak", "--instruction", "code", "--json", "--data-dir", generic_index)
    assert code == 0 and json.loads(out)["results"]
    assert err.startswith("qfinder: warning: ") and "--instruction" in err and len(err.splitlines()) == 1


def test_instruction_on_an_instructed_model_says_nothing(indexed, capsys):
    code, out, err = cli(capsys, "search", "kayak", "--instruction", "code", "--json", "--data-dir", indexed)
    assert (code, err) == (0, "") and json.loads(out)["results"]


def test_options_keyword_mode_does_not_use_are_named(indexed, capsys):
    code, out, err = cli(capsys, "search", "kayak", "--mode", "keyword", "--dim", "64", "--instruction", "code",
                         "--json", "--data-dir", indexed)
    assert code == 0 and json.loads(out)["results"]
    warnings = err.splitlines()
    assert len(warnings) == 2 and all(w.startswith("qfinder: warning: ") for w in warnings)
    assert "--dim" in warnings[0] and "--instruction" in warnings[1]


@pytest.mark.parametrize("k", ["0", "-3"])
def test_k_below_one_is_refused(indexed, capsys, k):
    code, out, err = cli(capsys, "search", "garden", "--k", k, "--data-dir", indexed)
    assert code == 2 and out == "" and one_error_line(err) and "--k" in err


def test_like_a_missing_file_is_refused(indexed, tmp_path, capsys):
    code, out, err = cli(capsys, "search", "--like", tmp_path / "nonexistent", "--data-dir", indexed)
    assert code == 2 and out == "" and one_error_line(err) and "nonexistent" in err


def test_like_a_file_outside_the_index_is_refused(indexed, tmp_path, capsys):
    stray = tmp_path / "stray.txt"
    stray.write_text("not in any indexed folder")
    code, out, err = cli(capsys, "search", "--like", stray, "--data-dir", indexed)
    assert code == 2 and out == "" and one_error_line(err) and "stray.txt" in err and "qfinder index" in err


def test_like_an_indexed_file_finds_its_neighbours(indexed, docs, capsys):
    code, out, err = cli(capsys, "search", "--like", docs / "garden.txt", "--json", "--data-dir", indexed)
    assert code == 0 and json.loads(out)["results"], err
