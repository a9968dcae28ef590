"""Where the tokens of a text lie: what chunking needs from a tokenizer, whoever owns it.

    spans = TokenizerSpans(tokenizer).token_spans(["some text", ...])  # [[(start, end), ...]]

Offsets are character positions in each text, special tokens left out, nothing truncated. A
local model answers from its Hugging Face tokenizer (`TokenizerSpans`); an engine behind a
server can answer from the server, so chunking never touches a tokenizer object itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from tokenizers import Tokenizer


class TokenSpans(Protocol):
    def token_spans(self, texts: Sequence[str]) -> list[list[tuple[int, int]]]: ...


class TokenizerSpans:
    """Token spans from a `tokenizers.Tokenizer`, which is left as the caller configured it."""

    def __init__(self, tokenizer: Tokenizer) -> None:
        if tokenizer.truncation is not None or tokenizer.padding is not None:
            tokenizer = Tokenizer.from_str(tokenizer.to_str())  # never truncate the caller's text
            tokenizer.no_truncation()
            tokenizer.no_padding()
        self._tokenizer = tokenizer

    def token_spans(self, texts: Sequence[str]) -> list[list[tuple[int, int]]]:
        encodings = self._tokenizer.encode_batch(list(texts), add_special_tokens=False)
        return [[(start, end) for start, end in enc.offsets if end > start] for enc in encodings]
