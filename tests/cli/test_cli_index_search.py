"""The index/search/status/remove subcommands, run in-process through `qfinder.cli.run`
(one subprocess test checks the real entry point). Model: tiny Qwen3 (mechanics only)."""

from __future__ import annotations

import json
import logging
import sqlite3
import subprocess
import sys

import pytest
from support.cli import cli

from qfinder.core.library.writelock import WriteLock


def test_search_json_shape_and_remembered_model(indexed, docs, capsys):
    code, out, err = cli(capsys, "search", "kayak canoe", "--json", "--k", "2", "--data-dir", indexed)
    assert code == 0, err
    lines = out.splitlines()
    assert len(lines) == 1
    obj = json.loads(lines[0])
    assert list(obj) == ["query", "results"] and obj["query"] == "kayak canoe"
    assert 1 <= len(obj["results"]) <= 2
    for result in obj["results"]:
        assert list(result) == ["path", "score", "snippet", "span", "page", "relevance", "matched_by",
                                "matched_words"]
        assert result["path"].startswith(str(docs)) and isinstance(result["score"], float)
        assert 0.0 <= result["relevance"] <= 1.0 and result["matched_by"], result
        assert isinstance(result["span"], list) and len(result["span"]) == 2
    best = obj["results"][0]
    assert best["path"] == str(docs / "boats.md")  # keyword + name fusion wins here
    assert "words" in best["matched_by"] and "kayak" in best["matched_words"], best


def test_batch_keeps_input_order_one_line_per_query(indexed, tmp_path, capsys):
    queries = ["tax return", "", "tomatoes", "boathouse", "   "]
    batch = tmp_path / "queries.txt"
    batch.write_text("\n".join(queries) + "\n")
    code, out, err = cli(capsys, "search", "--batch", batch, "--json", "--data-dir", indexed)
    assert code == 0, err
    assert [json.loads(line)["query"] for line in out.splitlines()] == ["tax return", "tomatoes", "boathouse"]


@pytest.mark.parametrize("mode", ["hybrid", "semantic", "keyword"])
def test_modes_dim_and_no_rerank_options(indexed, capsys, mode):
    code, out, err = cli(capsys, "search", "fiscal year", "--mode", mode, "--dim", "64", "--no-rerank",
                         "--json", "--data-dir", indexed)
    assert code == 0, err
    assert json.loads(out)["results"]


def test_status_reports_counts_model_and_indexes(indexed, docs, tiny_model_dir, capsys):
    cli(capsys, "search", "garden", "--data-dir", indexed)
    code, out, err = cli(capsys, "status", "--json", "--data-dir", indexed)
    assert code == 0, err
    status = json.loads(out)
    assert (status["files"], status["indexed"], status["pending"], status["failed"]) == (3, 3, 0, 0)
    assert status["roots"][0]["path"] == str(docs) and status["model_name"] == tiny_model_dir.name
    assert status["provider"]["used"] and status["indexes"][0]["dim"] == status["dim"]
    code, out, _ = cli(capsys, "status", "--data-dir", indexed)
    assert "3 indexed" in out and str(docs) in out


def test_reindex_of_unchanged_tree_and_remove_purges(indexed, docs, tiny_model_dir, capsys):
    assert cli(capsys, "index", docs, "--data-dir", indexed)[0] == 0  # model remembered
    code, _, err = cli(capsys, "remove", docs / "sub", "--data-dir", indexed)
    assert code == 0, err
    assert json.loads(cli(capsys, "status", "--json", "--data-dir", indexed)[1])["files"] == 2
    assert cli(capsys, "remove", docs, "--data-dir", indexed)[0] == 0
    status = json.loads(cli(capsys, "status", "--json", "--data-dir", indexed)[1])
    assert (status["files"], status["chunks"], status["vectors"], status["roots"]) == (0, 0, 0, [])
    raw = b"".join(p.read_bytes() for p in indexed.rglob("*") if p.is_file())
    assert b"Tomatoes" not in raw and b"boathouse" not in raw  # gone from disk, not just hidden


def one_error_line(err):
    lines = err.strip().splitlines()
    return len(lines) == 1 and lines[0].startswith("qfinder: ") and "Traceback" not in err


def test_error_lines(tmp_path, docs, tiny_model_dir, capsys):
    data = tmp_path / "data"
    code, _, err = cli(capsys, "index", tmp_path / "missing", "--model", tiny_model_dir, "--data-dir", data)
    assert code == 2 and one_error_line(err) and "missing" in err
    code, _, err = cli(capsys, "index", docs, "--model", tmp_path / "no-model", "--data-dir", data)
    assert code == 2 and one_error_line(err)
    code, _, err = cli(capsys, "search", "x", "--data-dir", tmp_path / "empty")
    assert code == 2 and one_error_line(err) and "index" in err
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("x")
    code, _, err = cli(capsys, "status", "--data-dir", not_a_dir)
    assert code == 2 and one_error_line(err)
    code, _, err = cli(capsys, "remove", tmp_path / "elsewhere", "--data-dir", data)
    assert code == 2 and one_error_line(err)


def test_corrupt_catalog_is_rebuilt_with_a_message(indexed, docs, capsys, caplog):
    (indexed / "catalog.db").write_bytes(b"this is not sqlite at all" * 10)
    for name in ("catalog.db-wal", "catalog.db-shm"):
        (indexed / name).unlink(missing_ok=True)
    code, _, err = cli(capsys, "search", "garden", "--data-dir", indexed)
    assert code == 2 and one_error_line(err) and "damaged" in err and "qfinder index" in err
    caplog.set_level(logging.WARNING)
    code, _, err = cli(capsys, "index", docs, "--data-dir", indexed)
    assert code == 0 and one_error_line(err) and "damaged" in err and "catalog.db.corrupt-" in err
    assert [r.getMessage() for r in caplog.records] == []  # the CLI's line is the only report
    assert json.loads(cli(capsys, "status", "--json", "--data-dir", indexed)[1])["indexed"] == 3


def test_catalog_of_another_version_is_named_so(indexed, docs, capsys):
    with sqlite3.connect(indexed / "catalog.db") as conn:
        conn.execute("UPDATE meta SET value = '1' WHERE key = 'schema'")
    conn.close()
    code, _, err = cli(capsys, "status", "--data-dir", indexed)
    assert code == 2 and one_error_line(err)
    assert "another qfinder version" in err and "damaged" not in err and "qfinder index" in err
    code, _, err = cli(capsys, "index", docs, "--data-dir", indexed)
    assert code == 0 and one_error_line(err) and "another qfinder version" in err
    assert json.loads(cli(capsys, "status", "--json", "--data-dir", indexed)[1])["indexed"] == 3


def test_remove_on_an_unusable_catalog_says_why_the_folder_is_unknown(indexed, docs, capsys):
    (indexed / "catalog.db").write_bytes(b"this is not sqlite at all" * 10)
    code, _, err = cli(capsys, "remove", docs, "--data-dir", indexed)
    notice, error = err.strip().splitlines()
    assert code == 2 and "damaged" in notice and "not in the index" in error


def test_one_writer_while_readers_keep_working(indexed, docs, capsys):
    with WriteLock(indexed):
        code, _, err = cli(capsys, "index", docs, "--data-dir", indexed)
        assert code == 2 and one_error_line(err) and "another qfinder process" in err
        code, out, _ = cli(capsys, "search", "tomatoes", "--json", "--data-dir", indexed)
        assert code == 0 and json.loads(out)["results"]


def test_real_entry_point_prints_no_traceback(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "qfinder", "search", "x", "--data-dir", str(tmp_path / "none")],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and one_error_line(proc.stderr)
