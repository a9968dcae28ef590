"""CLI test fixtures: a tiny real-architecture Qwen3 model folder and a small tree of files."""

from __future__ import annotations

import pytest
from support.cli import cli


@pytest.fixture
def docs(tmp_path):
    root = tmp_path / "docs"
    (root / "sub").mkdir(parents=True)
    (root / "garden.txt").write_text("Tomatoes and basil grow well in the sunny garden bed.")
    (root / "boats.md").write_text("# Boats\n\nThe kayak and the canoe are kept in the boathouse.")
    (root / "sub" / "taxes.txt").write_text("The tax return for the fiscal year is due in April.")
    return root


@pytest.fixture
def indexed(tmp_path, docs, tiny_model_dir, capsys):
    """A data folder with `docs` indexed through `qfinder index` (quiet when not on a terminal)."""
    data = tmp_path / "data"
    code, out, err = cli(capsys, "index", docs, "--model", tiny_model_dir, "--data-dir", data)
    assert (code, out) == (0, ""), err
    return data
