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


def plan_batches(lengths: Sequence[int], max_padded_tokens: int, max_batch: int) -> list[list[int]]:
    """Indices grouped into batches, longest texts first, each within the padded-token budget."""
    order = sorted(range(len(lengths)), key=lambda i: lengths[i], reverse=True)
    batches: list[list[int]] = []
    current: list[int] = []
    for index in order:
        longest = lengths[current[0]] if current else lengths[index]
        if current and (len(current) + 1 > max_batch or (len(current) + 1) * longest > max_padded_tokens):
            batches.append(current)
            current = []
        current.append(index)
    if current:
        batches.append(current)
    return batches


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
