"""Turn texts into token ids the way the model was trained, including Qwen3's EOS rule.

Qwen3-Embedding pools the hidden state of the final `<|endoftext|>` token. Since 2025-06 its
tokenizer.json appends that token itself; older files do not. We detect which one we have by
encoding "a" and looking at the last id, append EOS ourselves when needed, and always truncate so
that the EOS survives (design.md §3).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from tokenizers import Tokenizer

from qfinder.core.errors import ModelError

log = logging.getLogger(__name__)

QWEN3_EOS_TOKEN = "<|endoftext|>"
QWEN3_EOS_ID = 151643


@dataclass(frozen=True)
class Encoded:
    """Token ids of a batch of texts (unpadded) and which texts were cut to fit."""

    ids: list[list[int]]
    truncated: list[bool]


def load_tokenizer(path: Path) -> Tokenizer:
    """The tokenizer with padding and truncation switched off (callers count and chunk with it)."""
    try:
        tokenizer = Tokenizer.from_file(str(path))
    except Exception as exc:  # tokenizers raises plain Exception for bad JSON
        raise ModelError(f"{path} is not a usable tokenizer.json ({exc}).",
                         "Download the model again or copy its original tokenizer.json.") from exc
    tokenizer.no_padding()
    tokenizer.no_truncation()
    return tokenizer


def eos_id_of(tokenizer: Tokenizer) -> int:
    token_id = tokenizer.token_to_id(QWEN3_EOS_TOKEN)
    if token_id is None:
        raise ModelError(f"This Qwen3 tokenizer has no {QWEN3_EOS_TOKEN} token.",
                         "Use the tokenizer.json published with the Qwen3-Embedding model.")
    return int(token_id)


def appends_eos(tokenizer: Tokenizer, eos_id: int) -> bool:
    ids = tokenizer.encode("a").ids
    return bool(ids) and ids[-1] == eos_id


class TextEncoder:
    """Encodes batches with a per-call token cap; for Qwen3 guarantees a final EOS.

    Truncation is done here (not with enable_truncation) so the shared tokenizer is never modified
    and stays safe to use for counting and chunking.
    """

    def __init__(self, tokenizer: Tokenizer, force_eos_id: int | None = None) -> None:
        self._tokenizer = tokenizer
        self._append_eos: int | None = None
        if force_eos_id is not None and not appends_eos(tokenizer, force_eos_id):
            log.info("tokenizer does not append EOS %d; qfinder appends it", force_eos_id)
            self._append_eos = force_eos_id
        # Room the post-processor's special tokens ([CLS]/[SEP], Qwen3's EOS) or our own EOS need.
        self._reserved = tokenizer.num_special_tokens_to_add(False) + (1 if self._append_eos is not None else 0)

    @property
    def appends_eos_itself(self) -> bool:
        return self._append_eos is not None

    def encode(self, texts: list[str], max_tokens: int) -> Encoded:
        budget = max_tokens - self._reserved
        if budget < 1:
            raise ValueError(f"max_tokens must be above {self._reserved}")
        ids: list[list[int]] = []
        truncated: list[bool] = []
        for encoding in self._tokenizer.encode_batch(texts, add_special_tokens=False):
            cut = len(encoding.ids) > budget
            if cut:
                encoding.truncate(budget)
            row = list(self._tokenizer.post_process(encoding).ids)
            if self._append_eos is not None:
                row.append(self._append_eos)
            ids.append(row)
            truncated.append(cut)
        return Encoded(ids=ids, truncated=truncated)


def shorten(ids: list[int], keep: int, tail: int) -> list[int]:
    """Cut a token row to `keep` ids while keeping its last `tail` ids (EOS/SEP special tokens)."""
    if len(ids) <= keep:
        return ids
    return ids[: keep - tail] + ids[len(ids) - tail:] if tail else ids[:keep]
