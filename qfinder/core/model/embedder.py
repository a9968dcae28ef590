"""The embedding engine: texts in, L2-normalised float32 vectors out.

`embed_*` are called from one engine thread; `cancel()` may be called from any thread and stops
the running batch through onnxruntime's RunOptions.terminate (returns in well under a second).
Every onnxruntime failure becomes an EmbeddingError or ModelError with a hint: nothing here
crashes the process.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from tokenizers import Tokenizer

from qfinder.core.errors import CancelledError, EmbeddingError
from qfinder.core.model import runtime
from qfinder.core.model.batching import BatchRunner, EmbedStats, is_out_of_memory, plan_batches
from qfinder.core.model.feeds import GraphSpec, as_float32, build_feeds, pad_batch, require_finite
from qfinder.core.model.folder import ModelFolder
from qfinder.core.model.info import EmbedOptions, ModelInfo, format_document, format_query
from qfinder.core.model.mrl import check_dim, l2_normalize, truncate_normalize
from qfinder.core.model.pooling import pool
from qfinder.core.model.tokenize import TextEncoder
from qfinder.core.state import ProviderReport

_PAD_TOKENS = ("<|endoftext|>", "<pad>", "[PAD]", "</s>")


class Embedder:
    """One loaded model. Build it with `Embedder.from_folder(folder, provider, variant, options)`."""

    def __init__(self, parts: Any) -> None:
        # `parts` is a loader.LoadedModel; kept loose here to avoid an import cycle.
        self.info: ModelInfo = parts.info
        self.provider: ProviderReport = parts.provider
        self.tokenizer: Tokenizer = parts.tokenizer
        self.folder: ModelFolder = parts.folder
        self.options: EmbedOptions = parts.options
        self.last_stats = EmbedStats()
        self.on_run_start: Callable[[], None] | None = None  # called as each batch enters onnxruntime
        self._session = parts.session
        self._spec: GraphSpec = parts.spec
        self._encoder: TextEncoder = parts.encoder
        self._pad_id = _pad_id(self.tokenizer)
        self._tail_tokens = 1 if (parts.encoder.appends_eos_itself or self.tokenizer.post_processor) else 0
        self._left_pad = self._spec.pooled and self.info.pooling == "lasttoken"
        self._cancelled = threading.Event()
        self._lock = threading.Lock()
        self._running: Any = None  # the RunOptions of the batch in onnxruntime, if any

    @classmethod
    def from_folder(cls, folder: str | Path, provider: str = "auto", variant: str | None = None,
                    options: EmbedOptions | None = None) -> Embedder:
        from qfinder.core.model.loader import load_model

        return cls(load_model(Path(folder), provider, variant, options or EmbedOptions()))

    # --- public API -------------------------------------------------------------------------------
    def count_tokens(self, text: str) -> int:
        return len(self.tokenizer.encode(text, add_special_tokens=False).ids)

    def embed_documents(self, texts: Sequence[str], dim: int | None = None) -> np.ndarray:
        prepared = [format_document(self.info, t) for t in texts]
        return self._embed(prepared, self._document_cap(), dim)

    def embed_queries(self, texts: Sequence[str], instruction: str | None = None,
                      dim: int | None = None) -> np.ndarray:
        prepared = [format_query(self.info, t, instruction) for t in texts]
        return self._embed(prepared, min(self.options.max_tokens_query, self.info.max_tokens), dim)

    def cancel(self) -> None:
        """Stop the running batch (if any) and every later one until reset_cancel()."""
        self._cancelled.set()
        with self._lock:
            if self._running is not None:
                self._running.terminate = True

    def reset_cancel(self) -> None:
        self._cancelled.clear()

    def close(self) -> None:
        self._session = None

    # --- internals --------------------------------------------------------------------------------
    def _document_cap(self) -> int:
        return max(2, min(self.options.max_tokens_document, self.info.max_tokens))

    def _embed(self, texts: list[str], max_tokens: int, dim: int | None) -> np.ndarray:
        check_dim(dim, self.info.min_dim, self.info.full_dim)
        if not texts:
            self.last_stats = EmbedStats()
            return np.zeros((0, dim or self.info.full_dim), dtype=np.float32)
        self._raise_if_cancelled()
        encoded = self._encoder.encode(texts, max_tokens)
        rows = encoded.ids
        runner = BatchRunner(self._run_rows, self._tail_tokens)
        found: dict[int, np.ndarray] = {}
        for batch in plan_batches([len(r) for r in rows], self.options.max_padded_tokens,
                                  self.options.max_batch, self.options.max_padding_waste):
            self._raise_if_cancelled()
            found.update(runner.run(rows, batch))
        vectors = l2_normalize(np.stack([found[i] for i in range(len(rows))]))
        cut = sorted({i for i, t in enumerate(encoded.truncated) if t} | runner.cut)
        self.last_stats = EmbedStats(texts=len(rows), tokens=sum(len(r) for r in rows),
                                     padded_tokens=runner.padded_tokens, batches=runner.batches,
                                     truncated=len(cut), truncated_indices=tuple(cut))
        return vectors if dim is None else truncate_normalize(vectors, dim)

    def _run_rows(self, rows: list[list[int]]) -> np.ndarray:
        ids, mask = pad_batch(rows, self._pad_id, left=self._left_pad)
        feeds = build_feeds(self._spec, ids, mask)
        output = self._run_session(feeds)
        if self._spec.pooled:
            vectors = as_float32(output)
        elif self.info.pooling == "mean":  # sum in float32: fp16 sums overflow
            vectors = pool(as_float32(output), mask, "mean")
        else:  # pick one row per text first, then cast only those
            vectors = as_float32(pool(output, mask, self.info.pooling))
        return require_finite(vectors, f"{len(rows)} texts")

    def _run_session(self, feeds: dict[str, np.ndarray]) -> Any:
        if self._session is None:
            raise EmbeddingError("This model was closed.", "Load the model again.")
        options = runtime.new_run_options(terminate=self._cancelled.is_set())
        with self._lock:
            self._running = options
        try:
            if self.on_run_start is not None:
                self.on_run_start()
            return self._session.run([self._spec.output], feeds, options)[0]
        except Exception as exc:  # onnxruntime's pybind errors share no importable base class
            raise self._translate(exc) from exc
        finally:
            with self._lock:
                self._running = None

    def _translate(self, exc: Exception) -> Exception:
        if self._cancelled.is_set() or "terminate" in str(exc).lower():
            return CancelledError("Embedding was cancelled.")
        if is_out_of_memory(exc):
            return exc  # BatchRunner halves the batch and retries
        return EmbeddingError(f"onnxruntime failed while embedding: {str(exc).splitlines()[0] if str(exc) else exc!r}",
                              "Try a smaller batch setting or another provider; if it persists the model file "
                              "may be damaged.")

    def _raise_if_cancelled(self) -> None:
        if self._cancelled.is_set():
            raise CancelledError("Embedding was cancelled.")


def _pad_id(tokenizer: Tokenizer) -> int:
    for token in _PAD_TOKENS:
        token_id = tokenizer.token_to_id(token)
        if token_id is not None:
            return int(token_id)
    return 0
