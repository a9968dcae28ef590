"""Token-aware chunking: sizes, boundaries, overlap, spans, lines/pages, code, speed."""

from __future__ import annotations

import hashlib
import re
import time

import pytest
from support.shared import shared_path
from tokenizers import Tokenizer, models, pre_tokenizers, trainers

from qfinder.core.indexing.chunking import CHUNKER_VERSION, Chunk, chunk_hash, chunk_text
from qfinder.core.tokens import TokenizerSpans

WORDS = [
    "alpha",
    "beta",
    "gamma",
    "delta",
    "epsilon",
    "zeta",
    "eta",
    "theta",
    "iota",
    "kappa",
    "lambda",
    "mu",
    "nu",
    "xi",
    "omicron",
    "pi",
    "rho",
    "sigma",
]


@pytest.fixture(scope="module")
def word_tokenizer() -> Tokenizer:
    """A small word-level tokenizer trained here: one token per word or punctuation mark."""
    tok = Tokenizer(models.WordLevel(unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.train_from_iterator(
        [" ".join(WORDS) + " . , ! ?"], trainers.WordLevelTrainer(special_tokens=["[UNK]"])
    )
    return tok


@pytest.fixture(scope="module")
def qwen_tokenizer() -> Tokenizer:
    return Tokenizer.from_file(str(shared_path("models", "qwen3-tokenizer", "tokenizer.json")))


def _sentence(i: int, n: int = 12) -> str:
    return " ".join(WORDS[(i + j) % len(WORDS)] for j in range(n)).capitalize() + "."


def _paragraphs(count: int, sentences: int) -> str:
    return "\n\n".join(
        " ".join(_sentence(p * 7 + s) for s in range(sentences)) for p in range(count)
    )


def _count(tok: Tokenizer, text: str) -> int:
    return len(tok.encode(text, add_special_tokens=False).ids)


def _check_invariants(text: str, chunks: list[Chunk], tok: Tokenizer, size: int) -> None:
    assert chunks
    for c in chunks:
        assert text[c.start : c.end] == c.text and c.text == c.text.strip()
        assert _count(tok, c.text) <= size + 1  # +1: a token spanning the cut may re-split
        assert c.line == text.count("\n", 0, c.start) + 1
        assert c.hash == chunk_hash(c.text)
    covered = set()
    for c in chunks:
        covered.update(range(c.start, c.end))
    assert all(i in covered for i, ch in enumerate(text) if not ch.isspace())
    for a, b in zip(chunks, chunks[1:], strict=False):
        assert a.start < b.start < a.end <= b.end or b.start >= a.end


def _word_cut(text: str, pos: int) -> bool:
    return 0 < pos < len(text) and text[pos - 1].isalnum() and text[pos].isalnum()


def test_paragraph_boundaries_preferred(word_tokenizer: Tokenizer) -> None:
    text = _paragraphs(12, 6)  # paragraphs of ~78 tokens
    chunks = chunk_text(text, TokenizerSpans(word_tokenizer), size=200, overlap=0)
    _check_invariants(text, chunks, word_tokenizer, 200)
    assert len(chunks) >= 4
    for c in chunks[:-1]:
        assert text[c.end : c.end + 2] == "\n\n"


def test_sentence_then_word_boundaries_and_overlap(word_tokenizer: Tokenizer) -> None:
    text = " ".join(_sentence(i, 9) for i in range(200))  # one paragraph, no line breaks
    chunks = chunk_text(text, TokenizerSpans(word_tokenizer), size=64, overlap=16)
    _check_invariants(text, chunks, word_tokenizer, 64)
    assert all(c.text.endswith(".") for c in chunks[:-1])
    for a, b in zip(chunks, chunks[1:], strict=False):
        assert not _word_cut(text, b.start) and not _word_cut(text, a.end)
        shared = _count(word_tokenizer, text[b.start : a.end])
        assert 8 <= shared <= 17  # about `overlap` tokens, snapped to a word start
    unbroken = " ".join(WORDS * 40)  # no punctuation at all: word boundaries
    for c in chunk_text(unbroken, TokenizerSpans(word_tokenizer), size=50, overlap=5):
        assert not _word_cut(unbroken, c.start) and not _word_cut(unbroken, c.end)


def test_pages_lines_and_empty(word_tokenizer: Tokenizer) -> None:
    page_texts = [_paragraphs(2, 3) for _ in range(4)]
    text, pages, offset = "", [], 0
    for number, body in enumerate(page_texts, start=1):
        pages.append((offset, number))
        text += body + "\n"
        offset = len(text)
    chunks = chunk_text(text, TokenizerSpans(word_tokenizer), size=40, overlap=8, pages=tuple(pages))
    for c in chunks:
        expected = max(n for off, n in pages if off <= c.start)
        assert c.page == expected
    assert {c.page for c in chunks} == {1, 2, 3, 4}
    assert chunk_text("", TokenizerSpans(word_tokenizer)) == [] and chunk_text(" \n\t\n ", TokenizerSpans(word_tokenizer)) == []
    assert len(chunk_text("alpha", TokenizerSpans(word_tokenizer))) == 1
    assert chunk_text("x y", TokenizerSpans(word_tokenizer), max_chunks=1)[0].text == "x y"
    with pytest.raises(ValueError):
        chunk_text("alpha", TokenizerSpans(word_tokenizer), size=2)


def test_code_cuts_on_lines_preferring_definitions(word_tokenizer: Tokenizer) -> None:
    funcs = []
    for i in range(30):
        body = "\n".join(f"    alpha = beta + gamma  # line {j}" for j in range(6))
        funcs.append(f"def delta_{i}(x):\n{body}\n    return x")
    text = "\n\n".join(funcs) + "\n"
    chunks = chunk_text(text, TokenizerSpans(word_tokenizer), size=120, overlap=10, code=True)
    _check_invariants(text, chunks, word_tokenizer, 120)
    # prose cutting would start chunks at "return x" (the last line before a blank one)
    assert len(chunks) > 1 and all(c.text.startswith("def ") for c in chunks)
    for c in chunks[:-1]:
        assert text[c.end] == "\n"
    assert sum(c.text.startswith("def ") for c in chunks) >= len(chunks) - 1


def test_hash_includes_chunker_version() -> None:
    assert chunk_hash("abc") == chunk_hash("abc") != hashlib.sha256(b"abc").hexdigest()
    assert CHUNKER_VERSION >= 1


def test_truncating_tokenizer_does_not_lose_text(word_tokenizer: Tokenizer) -> None:
    tok = Tokenizer.from_str(word_tokenizer.to_str())
    tok.enable_truncation(16)
    text = _paragraphs(5, 5)
    chunks = chunk_text(text, TokenizerSpans(tok), size=64, overlap=0)
    assert chunks[-1].end == len(text.rstrip())
    assert tok.truncation is not None  # the caller's tokenizer is left as it was


def test_one_megabyte_is_fast(word_tokenizer: Tokenizer) -> None:
    text = _paragraphs(2000, 8)
    assert len(text) > 1_000_000
    started = time.perf_counter()
    chunks = chunk_text(text, TokenizerSpans(word_tokenizer), size=384, overlap=48)
    # ~0.5 s on an idle core; the bound catches per-window re-tokenizing (tens of seconds),
    # with room for a loaded CI machine
    assert time.perf_counter() - started < 5.0
    assert chunks[-1].end == len(text)


@pytest.mark.shared
def test_real_tokenizer_cjk_and_giant_words(qwen_tokenizer: Tokenizer) -> None:
    cjk = "。".join("这是一个关于向量检索和语义搜索的中文句子" for _ in range(200))
    chunks = chunk_text(cjk, TokenizerSpans(qwen_tokenizer), size=64, overlap=8)
    _check_invariants(cjk, chunks, qwen_tokenizer, 64)
    assert all(c.text.endswith("。") for c in chunks[:-1])
    blob = "x" + "Ab9/+" * 3000  # base64-ish: one "word" of thousands of tokens
    text = f"start {blob} end"
    chunks = chunk_text(text, TokenizerSpans(qwen_tokenizer), size=128, overlap=16)
    _check_invariants(text, chunks, qwen_tokenizer, 128)
    mixed = "Résumé naïve café. " * 50 + "\n" + "def f(x):\n    return x\n" * 20
    _check_invariants(
        mixed, chunk_text(mixed, TokenizerSpans(qwen_tokenizer), size=48, overlap=8), qwen_tokenizer, 48
    )
    assert re.search(r"\w", chunks[0].text)


class SpacedWords:
    """Token spans without any tokenizer object: what an engine behind a server can answer."""

    def token_spans(self, texts: list[str]) -> list[list[tuple[int, int]]]:
        return [[m.span() for m in re.finditer(r"\S+", text)] for text in texts]


def test_chunks_from_any_token_spans_source() -> None:
    text = _paragraphs(3, 4)
    chunks = chunk_text(text, SpacedWords(), size=20, overlap=4)
    assert len(chunks) > 3
    assert all(len(c.text.split()) <= 20 for c in chunks)
    assert all(c.tokens == len(c.text.split()) for c in chunks)
    assert {w for c in chunks for w in c.text.split()} == set(text.split())
