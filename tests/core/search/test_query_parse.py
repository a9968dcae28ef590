"""The query parser alone: what each form becomes (terms, filters, the embedder's text, errors)."""

from __future__ import annotations

from datetime import datetime

import pytest

from qfinder.core.search.query_syntax import Term, parse_query


def test_plain_words_are_soft_and_read_as_typed():
    query = parse_query("budget for the  Lisbon trip")
    assert query.soft == tuple(Term(w) for w in ("budget", "for", "the", "Lisbon", "trip"))
    assert (query.required, query.excluded, query.phrases, query.errors) == ((), (), (), ())
    assert query.text == "budget for the Lisbon trip" and not query.filters.active()


def test_operators_group_words_and_leave_the_embedders_text():
    query = parse_query("rent OR lease contract -deposit NOT draft")
    assert query.soft == (Term("contract"),)
    assert query.required == ((Term("rent"), Term("lease")),)
    assert query.excluded == (Term("deposit"), Term("draft"))
    assert query.text == "rent lease contract"
    both = parse_query("a AND b OR c +d")
    assert both.required == ((Term("a"),), (Term("b"), Term("c")), (Term("d"),))  # OR binds tighter


def test_lower_case_operators_are_words():
    assert parse_query("salt or pepper").soft == (Term("salt"), Term("or"), Term("pepper"))


def test_prefixes_phrases_and_signed_pieces():
    query = parse_query('postgres* "fiscal  year" -"old draft" +e-mail')
    assert query.soft == (Term("postgres", "prefix"), Term("fiscal year", "phrase"))
    assert query.phrases == ("fiscal year",)
    assert query.excluded == (Term("old draft", "phrase"),)
    assert query.required == ((Term("e mail", "phrase"),),)
    assert query.text == 'postgres "fiscal year" e-mail'  # spaces collapse, as the model reads them


@pytest.mark.parametrize("text", ["“fiscal year” report", "「fiscal year」 report", "report 『fiscal year』."])
def test_typographic_quotes_that_stand_apart_are_phrases(text):
    assert parse_query(text).phrases == ("fiscal year",)


@pytest.mark.parametrize("text", [
    "选择什么是“对”或“错”", "图表 “千年北半球气温重建”所依托的论文", "他说「好」了", 'say "x"y', '"unclosed quote',
])
def test_quotes_touching_words_are_punctuation(text):
    query = parse_query(text)
    assert query.phrases == () and query.errors == () and query.text == " ".join(text.split())


def test_filters_leave_the_text_and_combine():
    query = parse_query('report ext:pdf,DOCX *.odt type:code,doc path:"My Files" path:2024 size:>1mb size:<=2MiB')
    assert query.text == "report" and query.soft == (Term("report"),)
    f = query.filters
    assert f.kinds == ("pdf", "docx", "odt") and f.types == ("code", "docx", "odt")
    assert f.path_contains == ("my files", "2024")
    assert (f.min_size, f.max_size) == (1_000_001, 2 * 2**20)


@pytest.mark.parametrize(("text", "after", "before"), [
    ("modified:2024", datetime(2024, 1, 1), datetime(2025, 1, 1)),
    ("modified:2024-03", datetime(2024, 3, 1), datetime(2024, 4, 1)),
    ("modified:2024-12-31", datetime(2024, 12, 31), datetime(2025, 1, 1)),
    ("modified:2024-01..2024-06", datetime(2024, 1, 1), datetime(2024, 7, 1)),
    ("modified:>2024-05-01", datetime(2024, 5, 2), None),
    ("modified:<2024", None, datetime(2024, 1, 1)),
    ("modified:2024-05..", datetime(2024, 5, 1), None),
])
def test_dates_cover_whole_periods_in_local_time(text, after, before):
    f = parse_query(text).filters
    assert f.modified_after == (after.timestamp() if after else None)
    if before is None:
        assert f.modified_before is None
    else:
        assert before.timestamp() - 1e-3 < f.modified_before < before.timestamp()


@pytest.mark.parametrize(("text", "message"), [
    ("rent size:1mb", "size:1mb: say size:>1mb"),
    ("size:>huge", "'huge' is not a size"),
    ("modified:2024-13", "'2024-13' is not a date"),
    ("modified:last-week", "'last-week' is not a date"),
    ("type:movie", "type:movie: unknown type; known types: code,"),
    ("ext:", "ext: needs a value"),
    ("OR rent", "OR needs a word before it"),
    ("rent AND", "AND at the end needs a word after it"),
    ("rent AND OR lease", "AND OR: two operators in a row"),
])
def test_what_cannot_be_read_is_a_message_and_the_rest_stays(text, message):
    query = parse_query(text)
    assert message in (query.syntax_error or "")
    assert ("rent" in text) == (Term("rent") in query.positive)


def test_unknown_keys_and_urls_are_plain_text():
    query = parse_query("see https://example.org C++: notes:today")
    assert not query.filters.active() and query.errors == ()
    assert query.text == "see https://example.org C++: notes:today"


def test_a_query_of_filters_or_exclusions_only_has_no_text_for_the_embedder():
    assert parse_query("ext:pdf modified:2024").text == ""
    assert parse_query("-draft").text == "" and parse_query("-draft").excluded == (Term("draft"),)
