"""End-to-end search on real models from ../shared (skipped when absent): files on disk,
indexed by the Indexer, searched by the Searcher through a Library."""

from __future__ import annotations

import json
import re

import pytest
from support.shared import shared_path

from qfinder.core.indexing.indexer import IndexSettings
from qfinder.core.library.library import Library
from qfinder.core.results import SearchFilters, SearchRequest
from qfinder.core.search.query_syntax import parse_query
from qfinder.devtools.ir_eval import load_collection, write_corpus

pytestmark = pytest.mark.shared
SETTINGS = IndexSettings(step_files=32, step_tokens=8192)


def build_library(data_dir, model, roots):
    lib = Library.open(data_dir, writer=True, model_folder=str(model), index_settings=SETTINGS)
    lib.indexer.plan(roots)
    while lib.indexer.pending():
        lib.indexer.step()
    return lib


@pytest.fixture(scope="module")
def cisi(tmp_path_factory):
    model = shared_path("models", "all-MiniLM-L6-v2-int8")
    coll = load_collection(shared_path("data", "cisi"), max_docs=30)
    root = tmp_path_factory.mktemp("cisi")
    paths = write_corpus(coll, root / "docs")
    (root / "extra").mkdir()
    (root / "extra" / "quarterly-zebra-report.txt").write_text("Lorem ipsum dolor sit amet.", encoding="utf-8")
    (root / "extra" / "phrase.txt").write_text("The fiscal year 2024 closed with a budget surplus.")
    (root / "extra" / "scrambled.txt").write_text("Budget: in 2024 the year was fiscal, said the budget office.")
    (root / "extra" / "loader.py").write_text("def load_catalog(path):\n    return open(path).read()\n")
    lib = build_library(tmp_path_factory.mktemp("cisi-data"), model, [root])
    yield lib, coll, {str(p): d for d, p in paths.items()}, root
    lib.close()


def ranked_ids(lib, by_path, text, mode="hybrid", k=10, **kw):
    response = lib.search(SearchRequest(text, k=k, mode=mode, **kw))
    return [by_path.get(r.path, r.path) for r in response.results], response


def test_a_document_is_found_by_its_title(cisi):
    lib, coll, by_path, _ = cisi
    docs = list(coll.docs.items())[:10]
    first = [ranked_ids(lib, by_path, title, mode="semantic", k=3)[0][:1] == [doc_id] for doc_id, (title, _) in docs]
    assert sum(first) >= 9


def test_cisi_queries_return_a_relevant_file(cisi):
    lib, coll, by_path, _ = cisi
    for mode in ("semantic", "hybrid"):
        hits = [any(d in coll.qrels[qid] for d in ranked_ids(lib, by_path, q, mode=mode)[0])
                for qid, q in list(coll.queries.items())[:15]]
        assert sum(hits) / len(hits) >= 0.6, mode


def test_keyword_mode_only_returns_literal_matches(cisi):
    lib, _, _, root = cisi
    _, response = ranked_ids(lib, {}, "classification libraries", mode="keyword")
    assert response.results and response.dim is None
    for result in response.results:
        text = (result.best.snippet if result.best else result.path).lower()
        assert "classification" in text or "libraries" in text or "classification" in result.path
    _, by_name = ranked_ids(lib, {}, "zebra", mode="keyword")
    assert [r.path for r in by_name.results] == [str(root / "extra" / "quarterly-zebra-report.txt")]


def test_semantic_mode_finds_meaning_without_shared_words_and_ignores_names(cisi):
    lib, _, _, root = cisi
    zebra = str(root / "extra" / "quarterly-zebra-report.txt")
    ids, response = ranked_ids(lib, {}, "zebra", mode="semantic", k=3)
    assert zebra not in ids[:1] and response.dim == 384
    query = "a python function that reads a file from disk"
    assert parse_query(query).words and "load" not in query
    ids, _ = ranked_ids(lib, {}, query, mode="semantic", k=3)
    assert ids[0] == str(root / "extra" / "loader.py")
    keyword_ids, _ = ranked_ids(lib, {}, query, mode="keyword", k=3)
    assert str(root / "extra" / "loader.py") not in keyword_ids


def test_quoted_phrases_rank_literal_matches_first_and_snippets_highlight(cisi):
    lib, _, _, root = cisi
    for mode in ("hybrid", "semantic", "keyword"):
        ids, response = ranked_ids(lib, {}, 'budget "fiscal year 2024"', mode=mode)
        assert ids[0] == str(root / "extra" / "phrase.txt") and response.notes == (), mode
        assert str(root / "extra" / "scrambled.txt") in ids  # the words without the phrase still count
        best = response.results[0].best
        start, end = best.highlight
        assert best.snippet[start:end] == "fiscal year 2024"


def test_filters_and_files_like_this_one(cisi):
    lib, _, by_path, root = cisi
    only_py = SearchFilters(kinds=("py",))
    ids, _ = ranked_ids(lib, by_path, "catalog", filters=only_py)
    assert ids == [str(root / "extra" / "loader.py")]
    ids, _ = ranked_ids(lib, by_path, "libraries", filters=SearchFilters(folders=(str(root / "extra"),)))
    assert all(str(i).startswith(str(root / "extra")) for i in ids)
    some_doc = next(iter(by_path))
    like, response = ranked_ids(lib, by_path, "", like_paths=(some_doc,), k=5)
    assert len(like) == 5 and by_path[some_doc] not in like
    assert response.results[0].score > 0.3


@pytest.fixture(scope="module")
def xquad(tmp_path_factory):
    model = shared_path("models", "multilingual-e5-small-q4")
    coll = load_collection(shared_path("data", "xquad", "mixed-zh-en"), max_docs=12, doc_filter="en-")
    root = tmp_path_factory.mktemp("xquad")
    paths = write_corpus(coll, root)
    lib = build_library(tmp_path_factory.mktemp("xquad-data"), model, [root])
    yield lib, coll, {str(p): d for d, p in paths.items()}
    lib.close()


def test_a_chinese_query_finds_the_english_document(xquad):
    lib, coll, by_path = xquad
    chinese = [(qid, q) for qid, q in coll.queries.items() if qid.startswith("zh-")][:15]
    assert len(chinese) == 15
    top3 = [any(d in coll.qrels[qid] for d in ranked_ids(lib, by_path, q, mode="semantic", k=3)[0])
            for qid, q in chinese]
    assert sum(top3) >= 11


QUOTE_MARKS = '"“”「」『』'


def test_questions_with_quote_marks_are_never_left_without_results(xquad):
    """Every question of the collection that holds quote marks (24 of 2,380, English and Chinese),
    searched by meaning over English paragraphs: the quoted words are in no file or a few, and
    the answer by meaning must stay."""
    lib, _, _ = xquad
    with open(shared_path("data", "xquad", "mixed-zh-en", "queries.jsonl"), encoding="utf-8") as fh:
        quoted = [q for q in (json.loads(line)["text"] for line in fh) if any(c in q for c in QUOTE_MARKS)]
    assert len(quoted) == 24
    for question in quoted:
        response = lib.search(SearchRequest(question, mode="semantic", k=5))
        assert len(response.results) == 5, question
        assert response.syntax_error is None, question
        if re.search("[\u4e00-\u9fff]", question):  # quotes inside Chinese prose: punctuation
            assert response.notes == (), question
