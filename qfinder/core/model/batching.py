"""Group texts into batches that waste little padding and survive running out of memory.

Texts are sorted by token count so each batch holds similar lengths; a batch grows while its padded
size (rows × longest row) stays within a token budget, because attention memory and time grow with
the padded size, not the real one. When onnxruntime cannot allocate memory for a batch we halve it
and retry, down to one text; a single text that still does not fit is cut in half (keeping its
final special token) and flagged as truncated.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from qfinder.core.errors import EmbeddingError
from qfinder.core.model.tokenize import shorten

log = logging.getLogger(__name__)

MIN_TOKENS_ON_OOM = 16
_OOM_MARKERS = ("failed to allocate", "bad_alloc", "out of memory", "outofmemory", "cudaerrormemoryallocation",
                "cuda failure 2", "allocation failed", "not enough memory", "e_outofmemory")


@dataclass(frozen=True)
class EmbedStats:
    """What the last embed call did; padding_waste is the share of computed tokens that were padding."""

    texts: int = 0
    tokens: int = 0
    padded_tokens: int = 0
    batches: int = 0
    truncated: int = 0
    truncated_indices: tuple[int, ...] = ()  # positions in the caller's list

    @property
    def padding_waste(self) -> float:
        return 1.0 - self.tokens / self.padded_tokens if self.padded_tokens else 0.0


def plan_batches(lengths: Sequence[int], max_padded_tokens: int, max_batch: int,
                 max_waste: float = 0.1) -> list[list[int]]:
    """Indices grouped into batches, longest texts first. A batch closes when one more row would
    exceed the padded-token budget or the batch size, or when the row is so much shorter than the
    batch's longest that its padding would exceed `max_waste` (on a CPU a padded token costs as much
    as a real one, while one more onnxruntime call costs well under a millisecond)."""
    order = sorted(range(len(lengths)), key=lambda i: lengths[i], reverse=True)
    batches: list[list[int]] = []
    current: list[int] = []
    for index in order:
        if current and _closes(current, lengths, lengths[index], max_padded_tokens, max_batch, max_waste):
            batches.append(current)
            current = []
        current.append(index)
    if current:
        batches.append(current)
    return batches


def _closes(current: list[int], lengths: Sequence[int], length: int, max_padded_tokens: int,
            max_batch: int, max_waste: float) -> bool:
    longest = lengths[current[0]]
    too_big = len(current) + 1 > max_batch or (len(current) + 1) * longest > max_padded_tokens
    return too_big or length < longest * (1.0 - max_waste)


def is_out_of_memory(exc: BaseException) -> bool:
    if isinstance(exc, MemoryError):
        return True
    text = str(exc).lower().replace(" ", "")
    return any(marker.replace(" ", "") in text for marker in _OOM_MARKERS)


class BatchRunner:
    """Runs `run_rows(rows) -> [n, dim] vectors` over planned batches, halving on out-of-memory."""

    def __init__(self, run_rows: Callable[[list[list[int]]], np.ndarray], tail_tokens: int) -> None:
        self._run_rows = run_rows
        self._tail = tail_tokens  # special tokens at the end of each row that a cut must keep
        self.padded_tokens = 0
        self.batches = 0
        self.cut: set[int] = set()

    def run(self, rows: list[list[int]], indices: list[int]) -> dict[int, np.ndarray]:
        """Vectors by caller index for the texts at `indices` (rows may be shortened on OOM)."""
        try:
            vectors = self._run_rows([rows[i] for i in indices])
        except Exception as exc:  # onnxruntime's pybind errors have no common base we can import
            if not is_out_of_memory(exc):
                raise
            return self._after_oom(rows, indices, exc)
        self.batches += 1
        self.padded_tokens += len(indices) * max(len(rows[i]) for i in indices)
        return dict(zip(indices, vectors, strict=True))

    def _after_oom(self, rows: list[list[int]], indices: list[int], exc: BaseException) -> dict[int, np.ndarray]:
        if len(indices) > 1:
            half = len(indices) // 2
            log.warning("out of memory on a batch of %d texts; retrying as %d + %d", len(indices), half,
                        len(indices) - half)
            return {**self.run(rows, indices[:half]), **self.run(rows, indices[half:])}
        index = indices[0]
        keep = len(rows[index]) // 2
        if keep < MIN_TOKENS_ON_OOM:
            raise EmbeddingError(f"Out of memory even for one text of {len(rows[index])} tokens ({exc}).",
                                 "Close other programs, lower the tokens-per-batch setting, or use a "
                                 "smaller model.") from exc
        log.warning("out of memory on one text of %d tokens; cutting it to %d", len(rows[index]), keep)
        rows[index] = shorten(rows[index], keep, self._tail)
        self.cut.add(index)
        return self.run(rows, indices)
