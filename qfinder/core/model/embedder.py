"""The local embedding engine (a `TextEmbedder`): texts in, L2-normalised float32 vectors out.

`embed_*` are called from one engine thread; `cancel()` may be called from any thread and stops
the running batch through onnxruntime's RunOptions.terminate (returns in well under a second).
Every onnxruntime failure becomes an EmbeddingError or ModelError with a hint: nothing here
crashes the process. `from_folder` proves a loaded model works with one probe text: that
catches graphs that load but cannot embed (wrong output, bad shapes, NaN) where the error can
name the folder, not in the middle of indexing, and measures the model's true full size.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
from tokenizers import Tokenizer

from qfinder.core.errors import CancelledError, EmbeddingError, ModelError
from qfinder.core.model import runtime
from qfinder.core.model.batching import BatchRunner, EmbedStats, is_out_of_memory, plan_batches
from qfinder.core.model.feeds import GraphSpec, as_float32, build_feeds, pad_batch, require_finite
from qfinder.core.model.folder import ModelFolder
from qfinder.core.model.info import (
    EmbedOptions,
    ModelInfo,
    build_info,
    format_document,
    format_query,
)
from qfinder.core.model.loader import LoadedModel, load_model
from qfinder.core.model.mrl import check_dim, l2_normalize, truncate_normalize
from qfinder.core.model.pooling import pool
from qfinder.core.model.protocol import Embedded
from qfinder.core.model.tokenize import TextEncoder
from qfinder.core.state import GraphOrigin, ProviderReport
from qfinder.core.tokens import TokenizerSpans

log = logging.getLogger(__name__)

_PAD_TOKENS = ("<|endoftext|>", "<pad>", "[PAD]", "</s>")


class Embedder:
    """One loaded model. Build it with `Embedder.from_folder(folder, provider, variant, options)`."""

    def __init__(self, parts: LoadedModel) -> None:
        self.info: ModelInfo = parts.info
        self.provider: ProviderReport = parts.provider
        self.tokenizer: Tokenizer = parts.tokenizer
        self.folder: ModelFolder = parts.folder
        self.options: EmbedOptions = parts.options
        self.graph_origin: GraphOrigin = parts.graph
        self._spans = TokenizerSpans(parts.tokenizer)
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
                    options: EmbedOptions | None = None, cache_dir: Path | None = None) -> Embedder:
        """`cache_dir`: keep onnxruntime's optimized graph there, so later opens are fast."""
        parts = load_model(Path(folder), provider, variant, options or EmbedOptions(), cache_dir)
        return cls(_measured(parts))

    # --- public API -------------------------------------------------------------------------------
    def count_tokens(self, text: str) -> int:
        return len(self.tokenizer.encode(text, add_special_tokens=False).ids)

    def token_spans(self, texts: Sequence[str]) -> list[list[tuple[int, int]]]:
        return self._spans.token_spans(texts)

    def embed_documents_with_stats(self, texts: Sequence[str], dim: int | None = None) -> Embedded:
        prepared = [format_document(self.info, t) for t in texts]
        return self._embed(prepared, self._document_cap(), dim)

    def embed_queries_with_stats(self, texts: Sequence[str], instruction: str | None = None,
                                 dim: int | None = None) -> Embedded:
        prepared = [format_query(self.info, t, instruction) for t in texts]
        return self._embed(prepared, min(self.options.max_tokens_query, self.info.max_tokens), dim)

    def embed_documents(self, texts: Sequence[str], dim: int | None = None) -> np.ndarray:
        return self.embed_documents_with_stats(texts, dim).vectors

    def embed_queries(self, texts: Sequence[str], instruction: str | None = None,
                      dim: int | None = None) -> np.ndarray:
        return self.embed_queries_with_stats(texts, instruction, dim).vectors

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

    def _embed(self, texts: list[str], max_tokens: int, dim: int | None) -> Embedded:
        check_dim(dim, self.info.min_dim, self.info.full_dim)
        if not texts:
            return Embedded(np.zeros((0, dim or self.info.full_dim), dtype=np.float32), EmbedStats())
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
        stats = EmbedStats(texts=len(rows), tokens=sum(len(r) for r in rows),
                           padded_tokens=runner.padded_tokens, batches=runner.batches,
                           truncated=len(cut), truncated_indices=tuple(cut))
        return Embedded(vectors if dim is None else truncate_normalize(vectors, dim), stats)

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


def _measured(parts: LoadedModel) -> LoadedModel:
    """`parts` with the full size the graph really returns, found by embedding one text."""
    declared, info = parts.info.full_dim, parts.info
    measured = _probe_dim(parts)
    if declared and measured != declared:
        log.warning("%s declares %d dimensions but returns %d", parts.folder.root, declared, measured)
    if measured != declared:
        info = build_info(parts.folder, info.family, measured, parts.folder.quantization, parts.options)
    log.info("loaded %s (%s, %d-d, %s) on %s", info.name, info.family, info.full_dim,
             info.quantization, parts.provider.used)
    return replace(parts, info=info)


def _probe_dim(parts: LoadedModel) -> int:
    probe_info = replace(parts.info, full_dim=max(parts.info.full_dim, 1), min_dim=1)
    try:
        vectors = Embedder(replace(parts, info=probe_info)).embed_documents(["a"])
    except EmbeddingError as exc:
        raise ModelError(f"{parts.folder.onnx_path} loads but cannot embed: {exc.message}",
                         "Use a complete text-embedding export (sentence-transformers or onnx-community). "
                         + exc.hint) from exc
    except (ValueError, IndexError) as exc:  # output of an unexpected shape
        raise ModelError(f"{parts.folder.onnx_path} returns an output qfinder cannot pool ({exc}).",
                         "Use an export whose output is [batch, tokens, dim] or [batch, dim].") from exc
    if vectors.ndim != 2 or vectors.shape[1] < 1:
        raise ModelError(f"{parts.folder.onnx_path} returns vectors of shape {vectors.shape}.",
                         "Use an export whose output is [batch, tokens, dim] or [batch, dim].")
    return int(vectors.shape[1])
