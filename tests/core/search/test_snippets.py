"""Snippets: the highlight lands on informative query terms, windows are cut at word boundaries."""

from __future__ import annotations

import pytest

from qfinder.core.search.query_syntax import parse_query
from qfinder.core.search.snippets import ELLIPSIS, best_snippet

FILLER = "Seedlings need light and water every morning while roots settle in. "
QUERY = "receipts for the travel budget"


def _highlighted(snippet) -> str | None:
    if snippet.highlight is None:
        return None
    start, end = snippet.highlight
    return snippet.text[start:end]


def _body(snippet) -> str:
    return snippet.text.removeprefix(ELLIPSIS).removesuffix(ELLIPSIS)


def _assert_word_bounded(chunk: str, snippet) -> None:
    body, start = _body(snippet), snippet.offset
    assert chunk[start:start + len(body)] == body
    end = start + len(body)
    assert start == 0 or chunk[start - 1].isspace(), f"starts mid-word: {snippet.text[:20]!r}"
    assert end == len(chunk) or chunk[end].isspace(), f"ends mid-word: {snippet.text[-20:]!r}"
    assert snippet.text.startswith(ELLIPSIS) == (start > 0)
    assert snippet.text.endswith(ELLIPSIS) == (end < len(chunk.rstrip()))


def test_highlight_skips_stop_words_and_prefers_the_most_informative_region():
    stop_heavy = "Before the trip, the forms for the office and for the bank are in the folder. "
    one_term = "The budget was discussed; the budget was cut. "
    best_region = "Scan each receipt and file the receipts for the travel budget by Friday. "
    chunk = stop_heavy + one_term + FILLER * 3 + best_region + FILLER * 3
    snippet = best_snippet(chunk, parse_query(QUERY), width=160)
    assert _highlighted(snippet) == "travel budget"
    assert "receipts for the travel budget" in snippet.text
    _assert_word_bounded(chunk, snippet)
    start, end = snippet.chunk_highlight  # the same words at their place in the chunk, which
    assert chunk[start:end] == "travel budget" and chunk.index("budget") < start  # has earlier "budget"s


def test_semantic_only_hit_gets_no_highlight_rather_than_a_stop_word():
    chunk = "Remember to keep the seedlings in the light for the first weeks. " * 6
    snippet = best_snippet(chunk, parse_query(QUERY), width=120)
    assert snippet.highlight is None and snippet.chunk_highlight is None
    assert snippet.offset == 0
    _assert_word_bounded(chunk, snippet)


@pytest.mark.parametrize(("query", "chunk", "expected"), [
    ("die Quittungen für die Reise", "Bitte die Belege für die Kasse und alle Quittungen sammeln.",
     "Quittungen"),
    ("los recibos del viaje", "Guarde todos los recibos de la oficina en la carpeta.", "recibos"),
    ("les reçus pour le voyage", "Pour le moment, les reçus sont dans le tiroir.", "reçus"),
    ("the", "Only the stop word is shared here.", "the"),  # a query of stop words still matches
])
def test_stop_words_of_supported_languages_are_not_highlighted(query, chunk, expected):
    assert _highlighted(best_snippet(chunk, parse_query(query))) == expected


def test_plural_and_whole_word_matching():
    snippet = best_snippet("Other costs. Budgets for travel were approved.", parse_query("budget"))
    assert _highlighted(snippet) == "Budgets"
    inside = best_snippet("The rebudgeting is done.", parse_query("budget"))
    assert inside.highlight is None  # a query word is not matched inside another word


@pytest.mark.parametrize("separator", [" ", "\n", "  \n\t"])
@pytest.mark.parametrize("width", [60, 97, 140])
def test_snippet_windows_start_and_end_on_word_boundaries(separator, width):
    text = ("remember seedlings light photosynthesis keep watering schedule moisture "
            "extraordinarily fertiliser compost window sunlight")
    words = text.split()
    for position in range(5, 60, 7):
        tokens = [words[i % len(words)] for i in range(90)]
        tokens[position] = "budget"
        chunk = separator.join(tokens)
        snippet = best_snippet(chunk, parse_query("budget"), width=width)
        assert _highlighted(snippet) == "budget"
        assert len(snippet.text) <= width + 2
        _assert_word_bounded(chunk, snippet)


def test_window_starts_at_a_nearby_sentence_start():
    chunk = FILLER * 4 + "Always scan the receipts today. " + FILLER * 4
    snippet = best_snippet(chunk, parse_query("receipts"), width=200)
    assert _body(snippet).startswith("Always scan the receipts")
    assert _highlighted(snippet) == "receipts"
    _assert_word_bounded(chunk, snippet)


def test_cjk_query_matches_bigrams_without_spaces():
    filler = "今天天气很好，我们去公园散步了。"
    chunk = filler * 12 + "请保存所有旅行预算的收据。" + filler * 12
    snippet = best_snippet(chunk, parse_query("旅行预算的收据"), width=60)
    assert _highlighted(snippet) == "旅行预算"
    assert "旅行预算的收据" in snippet.text
    assert len(snippet.text) <= 62
    japanese = best_snippet("出張の書類と旅行の予算について。", parse_query("旅行の予算"))
    assert _highlighted(japanese) in ("旅行", "予算")
    assert best_snippet(filler, parse_query("旅行预算")).highlight is None
