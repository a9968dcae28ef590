"""Relevance 0..1 from meaning, words and name evidence (pure), and through a real Library."""

from __future__ import annotations

import pytest
from support.shared import shared_path

from qfinder.core.indexing.indexer import IndexSettings
from qfinder.core.library.library import Library
from qfinder.core.results import FileResult, SearchRequest
from qfinder.core.search.relevance import (
    CLOSE,
    WORDS_ALL,
    Z_MID,
    Evidence,
    close_split,
    judge,
    z_to_relevance,
)


def test_meaning_is_half_way_at_the_midpoint_and_rises_with_z():
    assert z_to_relevance(Z_MID) == pytest.approx(0.5)
    values = [z_to_relevance(z) for z in (0.0, 2.5, 3.5, 4.5, 6.0)]
    assert values == sorted(values) and values[0] < 0.01 and values[-1] > 0.97


def test_every_word_is_strong_evidence_and_half_of_them_weak():
    assert judge(Evidence(words=("rent",), word_total=1)) == (WORDS_ALL, ("words",))
    half, _ = judge(Evidence(words=("rent", "lease"), word_total=4))
    assert half < CLOSE
    assert judge(Evidence(name_words=("budget",), word_total=1))[1] == ("name",)


def test_evidence_adds_up_and_says_where_it_came_from():
    meaning = z_to_relevance(Z_MID)  # 0.5 alone
    both, matched = judge(Evidence(meaning=meaning, words=("rent",), word_total=2))
    assert both > meaning and matched == ("words", "meaning")
    weak, matched = judge(Evidence(meaning=0.01))
    assert weak == pytest.approx(0.01) and matched == ("meaning",), "why it is listed at all"
    assert judge(Evidence(meaning=0.01, words=("rent",), word_total=3))[1] == ("words",)
    assert judge(Evidence(filtered=True)) == (1.0, ("filters",))


def test_close_split_keeps_the_order_within_each_part():
    results = [FileResult(f"/f{i}", 0.0, 1, 0.0, (), relevance=r) for i, r in enumerate((0.9, 0.2, 0.6, 0.49))]
    close, weaker = close_split(results)
    assert [r.path for r in close] == ["/f0", "/f2"] and [r.path for r in weaker] == ["/f1", "/f3"]


@pytest.fixture(scope="module")
def xquad(tmp_path_factory):
    from qfinder.devtools.ir_eval import load_collection, write_corpus

    model = shared_path("models", "multilingual-e5-small-q4")
    coll = load_collection(shared_path("data", "xquad", "en"), max_docs=80)
    root = tmp_path_factory.mktemp("xquad")
    paths = write_corpus(coll, root)
    lib = Library.open(tmp_path_factory.mktemp("xquad-data"), writer=True, model_folder=str(model),
                       index_settings=IndexSettings(step_files=32, step_tokens=8192))
    lib.indexer.plan([root])
    while lib.indexer.pending():
        lib.indexer.step()
    lib.catalog.settle()
    yield lib, coll, {str(p): d for d, p in paths.items()}
    lib.close()


@pytest.mark.shared
def test_questions_find_a_close_match_and_strangers_none(xquad):
    lib, coll, by_path = xquad
    questions = list(coll.queries.items())[:20]
    found = 0
    for qid, text in questions:
        close, _ = close_split(lib.search(SearchRequest(text, k=10)).results)
        found += any(by_path.get(r.path) in coll.qrels[qid] for r in close)
    assert found >= 17, f"{found}/20 questions kept their paragraph above the cut-off"
    strangers = ("zebra migration kilimanjaro", "postgres vacuum autovacuum tuning",
                 "knitting pattern for a wool scarf")
    for text in strangers:
        response = lib.search(SearchRequest(text, k=10))
        assert response.results, "the nearest files are still listed"
        assert not close_split(response.results)[0], (text, [(r.relevance, r.matched_by) for r in response.results])
