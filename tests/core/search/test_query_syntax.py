"""Every query syntax form filters through the real catalog: a small tree on disk, indexed by a
Library with the tiny real-architecture model, searched as a person types."""

from __future__ import annotations

import json
import os
from datetime import datetime

import pytest
from support.cli import cli

from qfinder.core.library.library import Library
from qfinder.core.results import SearchRequest

FILES = {
    "contract.txt": "Rent is due on the first day. The deposit is two months of rent.",
    "lease.txt": "Monthly rent for the flat, paid by bank transfer.",
    "notes/db.md": "Tuning postgresql autovacuum settings for the archive server.",
    "notes/trip.md": "Train tickets to Lisbon for the spring trip.",
    "code/loader.py": "def load_table(path):\n    return open(path).read()\n",
    "code/Makefile": "all:\n\tpython3 -m build\n",
    "Finance/taxes.txt": "Tax return for the year, with the rent receipts attached.",
    "big.txt": "Inventory of the garden shed. " + "rake spade hose " * 200,
}
MODIFIED = {  # local time, as the filters read dates
    "contract.txt": datetime(2023, 6, 15, 12),
    "lease.txt": datetime(2024, 3, 10, 12),
    "notes/db.md": datetime(2024, 7, 1, 12),
    "Finance/taxes.txt": datetime(2024, 1, 31, 23, 59),
    "big.txt": datetime(2024, 5, 1, 18),
}
OTHER_DATE = datetime(2022, 2, 2, 12)
MODES = ("hybrid", "semantic", "keyword")


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    root = tmp_path_factory.mktemp("tree")
    for name, text in FILES.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        stamp = MODIFIED.get(name, OTHER_DATE).timestamp()
        os.utime(path, (stamp, stamp))
    return root


@pytest.fixture(scope="module")
def lib(tree, tmp_path_factory, tiny_model_dir):
    library = Library.open(tmp_path_factory.mktemp("data"), writer=True, model_folder=str(tiny_model_dir))
    library.indexer.plan([tree])
    while library.indexer.pending():
        library.indexer.step()
    yield library
    library.close()


def found(lib, tree, text, mode="hybrid", k=20):
    response = lib.search(SearchRequest(text, mode=mode, k=k))
    return {os.path.relpath(r.path, tree) for r in response.results}, response


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("text", ["rent -deposit", "rent NOT deposit", "rent -\"two months\""])
def test_an_excluded_word_leaves_out_every_file_that_holds_it(lib, tree, mode, text):
    paths, _ = found(lib, tree, text, mode)
    assert "contract.txt" not in paths and "lease.txt" in paths


@pytest.mark.parametrize("mode", MODES)
def test_and_requires_every_word_somewhere_in_the_file(lib, tree, mode):
    assert found(lib, tree, "deposit AND rent", mode)[0] == {"contract.txt"}
    assert found(lib, tree, "+deposit +rent", mode)[0] == {"contract.txt"}


@pytest.mark.parametrize("mode", MODES)
def test_or_requires_one_of_its_words(lib, tree, mode):
    assert found(lib, tree, "autovacuum OR lisbon", mode)[0] == {"notes/db.md", "notes/trip.md"}


def test_a_prefix_finds_longer_words(lib, tree):
    assert found(lib, tree, "postgres*", "keyword")[0] == {"notes/db.md"}
    assert found(lib, tree, "postgres", "keyword")[0] == set()  # a word, not a prefix


@pytest.mark.parametrize("text", ["ext:md", "*.md", "EXT:.md", "rent ext:md OR trip ext:md"])
def test_extension_filters(lib, tree, text):
    paths, response = found(lib, tree, text)
    assert paths and all(p.endswith(".md") for p in paths) and response.syntax_error is None


@pytest.mark.parametrize("mode", MODES)
def test_filters_combine_with_the_meaning_of_the_rest(lib, tree, mode):
    assert found(lib, tree, "rent ext:txt path:finance", mode)[0] == {"Finance/taxes.txt"}
    assert "lease.txt" in found(lib, tree, "rent ext:txt", mode)[0]


def test_type_filters_use_the_kinds_of_files(lib, tree):
    assert found(lib, tree, "type:code")[0] == {"code/loader.py", "code/Makefile"}
    assert found(lib, tree, "type:markdown")[0] == found(lib, tree, "type:md")[0] == {"notes/db.md", "notes/trip.md"}


def test_size_filters(lib, tree):
    assert found(lib, tree, "size:>2kb")[0] == {"big.txt"}
    small = found(lib, tree, "size:<1kb")[0]
    assert "big.txt" not in small and "lease.txt" in small
    assert found(lib, tree, "size:2kb..1mb")[0] == {"big.txt"}


@pytest.mark.parametrize(("text", "expected"), [
    ("modified:2023", {"contract.txt"}),
    ("modified:2024-03", {"lease.txt"}),
    ("modified:2024-01..2024-03", {"lease.txt", "Finance/taxes.txt"}),
    ("modified:>2024-05-01", {"notes/db.md"}),
    ("modified:>=2024-05-01", {"notes/db.md", "big.txt"}),
    ("modified:<2023", {"notes/trip.md", "code/loader.py", "code/Makefile"}),
    ("rent modified:2024", {"lease.txt", "Finance/taxes.txt"}),
])
def test_modified_filters(lib, tree, text, expected):
    assert found(lib, tree, text, "keyword" if text.startswith("rent") else "hybrid")[0] == expected


@pytest.mark.parametrize("mode", MODES)
def test_an_exact_phrase_that_matches_ranks_its_file_first(lib, tree, mode):
    _, response = found(lib, tree, 'rent "bank transfer"', mode)
    assert os.path.relpath(response.results[0].path, tree) == "lease.txt"
    assert len(response.results) > 1 and response.notes == ()  # a phrase never filters


@pytest.mark.parametrize("mode", ("hybrid", "semantic"))
def test_a_phrase_that_matches_nowhere_keeps_the_results_by_meaning(lib, tree, mode):
    by_meaning, _ = found(lib, tree, "rent zebra migration", mode)
    paths, response = found(lib, tree, 'rent "zebra migration"', mode)
    assert paths == by_meaning and paths
    assert response.notes == ("no exact match for “zebra migration”",)


@pytest.mark.parametrize("text", [
    "为什么学生小组被称为“卫理公会”？",  # quotes for emphasis inside a Chinese sentence
    "选择什么是「对」或『错』",
    "图表 “千年北半球气温重建”所依托的论文是于何年发表的？",
])
def test_cjk_quotes_inside_a_sentence_are_punctuation(lib, tree, text):
    paths, response = found(lib, tree, text, "semantic")
    assert paths and response.notes == () and response.syntax_error is None


def test_a_syntax_error_is_a_message_and_the_rest_still_searches(lib, tree):
    paths, response = found(lib, tree, "rent size:1mb modified:2024-13", "keyword")
    assert "lease.txt" in paths
    assert "size:1mb" in response.syntax_error and "2024-13" in response.syntax_error


def test_the_command_line_prints_notes_and_errors_on_stderr(lib, tree, capsys):
    data = lib.catalog.path.parent
    code, out, err = cli(capsys, "search", 'rent "zebra migration" size:big', "--mode", "keyword",
                         "--json", "--data-dir", data)
    assert code == 0 and json.loads(out)["results"]
    assert err.splitlines() == ["qfinder: note: no exact match for “zebra migration”",
                                "qfinder: left out of the search: size: 'big' is not a size; write e.g. 500kb, 1.5mb, 2gb"]
