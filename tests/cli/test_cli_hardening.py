"""Hostile conditions the CLI must survive: a crash before the model was remembered, very long
queries, a damaged page inside the catalog. Model: tiny Qwen3 (mechanics only)."""

from __future__ import annotations

import json
import sqlite3

import pytest
from support.cli import cli
from support.damage import flip_page_of

import qfinder.core.library.library as session
from qfinder.core.storage.catalog import Catalog
from qfinder.core.storage.recovery import CatalogDamaged, db_error


class Killed(BaseException):
    """Stands for kill -9: nothing after the point where it is raised runs."""


def test_a_crash_right_after_the_catalog_is_created_keeps_the_model_for_the_resume(
        tmp_path, docs, tiny_model_dir, capsys, monkeypatch):
    data = tmp_path / "data"
    real_catalog = session.Catalog

    def created_then_killed(*args, **kwargs):
        real_catalog(*args, **kwargs).close()  # the catalog file now exists on disk
        raise Killed

    monkeypatch.setattr(session, "Catalog", created_then_killed)
    with pytest.raises(Killed):
        cli(capsys, "index", docs, "--model", tiny_model_dir, "--data-dir", data)
    monkeypatch.setattr(session, "Catalog", real_catalog)
    assert (data / "catalog.db").exists()
    code, _, err = cli(capsys, "index", docs, "--data-dir", data)  # the resume, without --model
    assert code == 0, err
    assert json.loads(cli(capsys, "status", "--json", "--data-dir", data)[1])["indexed"] == 3


@pytest.mark.parametrize("mode", ["keyword", "hybrid"])
def test_a_query_of_a_thousand_words_is_answered(indexed, docs, capsys, mode):
    words = " ".join(f"word{i}" for i in range(1000))
    code, out, err = cli(capsys, "search", f"{words} tomatoes basil", "--mode", mode, "--json",
                         "--data-dir", indexed)
    assert code == 0, err
    paths = [r["path"] for r in json.loads(out)["results"]]
    assert str(docs / "garden.txt") in paths


def test_a_damaged_page_found_by_search_is_rebuilt_by_index(indexed, docs, capsys):
    """The page holding the keyword index is damaged: opening and `status` still work, so only
    a query meets it; the advice it prints must then be true."""
    flip_page_of(indexed / "catalog.db", "chunks_fts_idx")
    code, _, err = cli(capsys, "search", "tomatoes", "--mode", "keyword", "--data-dir", indexed)
    assert code == 2 and "damaged" in err and "qfinder index" in err
    code, _, err = cli(capsys, "index", docs, "--data-dir", indexed)
    assert code == 0 and "damaged" in err and "catalog.db.corrupt-" in err
    code, out, err = cli(capsys, "search", "tomatoes", "--mode", "keyword", "--json", "--data-dir", indexed)
    assert code == 0, err
    assert [r["path"] for r in json.loads(out)["results"]] == [str(docs / "garden.txt")]


def test_a_query_sqlite_refuses_is_not_called_damage(indexed):
    catalog = Catalog(indexed / "catalog.db", readonly=True)
    try:
        refused = sqlite3.OperationalError("Expression tree is too large (maximum depth 1000)")
        error = db_error(catalog.path, refused, catalog._conn)
    finally:
        catalog.close()
    assert not isinstance(error, CatalogDamaged)
    assert "damaged" not in str(error) and "delete" not in str(error)
