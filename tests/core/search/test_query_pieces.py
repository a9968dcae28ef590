"""Query parsing, FTS expressions, rank fusion, snippets and instruction presets (pure functions)."""

from __future__ import annotations

import sqlite3

from qfinder.core.instructions import CODE_TASK, PRESETS, resolve_instruction
from qfinder.core.search.fusion import reciprocal_rank_fusion
from qfinder.core.search.query_syntax import parse_query
from qfinder.core.search.snippets import best_snippet
from qfinder.core.storage.query import fts_match, informative


def test_quoted_phrases_are_separated_from_free_words():
    parsed = parse_query('budget report "fiscal year 2024"  Budget')
    assert parsed.phrases == ("fiscal year 2024",)
    assert parsed.words == ("budget", "report")
    assert parsed.text == 'budget report "fiscal year 2024" Budget'  # the embedder reads it as typed


def test_fts_expression_ors_every_positive_term_and_never_breaks():
    assert fts_match(parse_query('a "x y" b')) == '"a" OR "x y" OR "b"'
    assert fts_match(parse_query("one two -three postgres*")) == '"one" OR "two" OR "postgres"*'
    doubled_quotes = fts_match(parse_query('say "he said ""hi"""'))
    fts = sqlite3.connect(":memory:")
    fts.execute("CREATE VIRTUAL TABLE t USING fts5(x)")
    fts.execute("INSERT INTO t VALUES ('so I say: he said hi')")
    assert fts.execute("SELECT count(*) FROM t WHERE t MATCH ?", (doubled_quotes,)).fetchone() == (1,)
    assert fts_match(parse_query("  ?! ")) is None


def test_rrf_rewards_agreement_and_keeps_first_rank_only():
    fused = reciprocal_rank_fusion({"sem": ["a", "b", "c"], "kw": ["c", "b", "b"]})
    keys = [key for key, _ in fused]
    assert keys[0] in ("b", "c") and set(keys) == {"a", "b", "c"}
    assert dict(fused)["b"] == 1 / 62 + 1 / 62
    weighted = reciprocal_rank_fusion({"sem": ["a"], "kw": ["b"]}, weights={"kw": 2.0})
    assert weighted[0][0] == "b"


def test_snippet_centres_on_the_densest_match_and_highlights_it():
    text = "intro words " * 40 + "the quarterly budget report lists revenue " + "filler " * 60
    snippet = best_snippet(text, parse_query("budget report"), width=120)
    assert snippet.highlight is not None
    start, end = snippet.highlight
    assert snippet.text[start:end].lower() == "budget report"  # adjacent matches highlight together
    assert snippet.text.startswith("…") and snippet.text.endswith("…")
    assert len(snippet.text) <= 122


def test_snippet_prefers_phrase_highlight_and_falls_back_to_opening():
    text = "Alpha beta. The fiscal year 2024 closed. Beta again."
    snippet = best_snippet(text, parse_query('beta "fiscal year 2024"'))
    start, end = snippet.highlight or (0, 0)
    assert snippet.text[start:end] == "fiscal year 2024"
    plain = best_snippet("Nothing in common here.", parse_query("zebra"))
    assert plain.highlight is None and plain.text == "Nothing in common here."


def test_instruction_presets_and_custom_text():
    assert resolve_instruction(None) is None and resolve_instruction("web") is None
    assert resolve_instruction("code") == CODE_TASK
    assert resolve_instruction("  Find recipes  ") == "Find recipes"
    assert [p.key for p in PRESETS] == ["web", "topic", "code", "similar"]


def test_a_pasted_page_keeps_its_longest_distinct_words_in_query_order():
    words = [f"w{i}" for i in range(200)] + ["w5", "tomatoes", "basil"]
    kept = informative(words, limit=64)
    assert len(kept) == 64 and len(set(kept)) == 64
    assert "tomatoes" in kept and "basil" in kept and "w5" not in kept  # short ones go first
    assert kept == sorted(kept, key=words.index)
