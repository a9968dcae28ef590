"""The seam between qfinder and an embedding engine: `TextEmbedder`.

The indexer, the searcher, the library and the CLI hold a `TextEmbedder`, never a concrete
engine. The local ONNX `Embedder` implements it; an engine behind an HTTP embedding server can
too, which is why everything tokenizer-specific is a method (`count_tokens`, `token_spans`)
rather than a tokenizer object. Statistics come back with the vectors (`Embedded`).

`embed_*` run on one thread; `cancel()` may be called from any other and stops the running
call (CancelledError) and every later one until `reset_cancel()`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from qfinder.core.model.batching import EmbedStats
from qfinder.core.model.info import ModelInfo
from qfinder.core.state import ProviderReport
from qfinder.core.tokens import TokenSpans


@dataclass(frozen=True)
class Embedded:
    vectors: np.ndarray  # float32 [n, dim], L2-normalised
    stats: EmbedStats  # what this call did: tokens, padding, batches, truncated texts


class TextEmbedder(TokenSpans, Protocol):
    @property
    def info(self) -> ModelInfo: ...

    @property
    def provider(self) -> ProviderReport: ...

    def count_tokens(self, text: str) -> int: ...

    def embed_documents_with_stats(self, texts: Sequence[str], dim: int | None = None) -> Embedded: ...

    def embed_queries_with_stats(self, texts: Sequence[str], instruction: str | None = None,
                                 dim: int | None = None) -> Embedded: ...

    def cancel(self) -> None: ...

    def reset_cancel(self) -> None: ...

    def close(self) -> None: ...
