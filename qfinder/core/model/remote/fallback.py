"""Embed documents on the server and queries there too — or here while the server is away.

    embedder = QueryFallback(remote, local_copy, book)   # local_copy: a TextEmbedder or None

Search must keep working when the server is unreachable: a query then embeds with the local
copy of the same model, if one is configured and its fingerprint agrees with the server's
(checked once, on first need: the local model opens only then); otherwise ServerUnavailable
reaches the library, which answers by keyword with a note. Documents always go to the server:
indexing pauses instead.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence

from qfinder.core.model.identity import IdentityBook, check_against, fingerprint_of
from qfinder.core.model.info import ModelInfo
from qfinder.core.model.protocol import Embedded, TextEmbedder
from qfinder.core.model.remote.embedder import RemoteEmbedder
from qfinder.core.model.remote.errors import ServerUnavailable
from qfinder.core.state import ProviderReport

log = logging.getLogger(__name__)

# After the server failed a query, later queries skip it this long: each attempt at an unreachable
# host costs a connect timeout, and a person types several queries a minute.
SERVER_AWAY_S = 30.0


class QueryFallback:
    def __init__(self, remote: RemoteEmbedder, local: TextEmbedder | None, book: IdentityBook,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.remote = remote
        self.local = local
        self._book = book
        self._clock = clock
        self._away_until = float("-inf")  # queries skip the server until then
        self._local_agrees: bool | None = None  # unknown until the first fallback
        self.used_local = 0  # queries embedded here because the server was unreachable

    @property
    def info(self) -> ModelInfo:
        return self.remote.info

    @property
    def provider(self) -> ProviderReport:
        return self.remote.provider

    def count_tokens(self, text: str) -> int:
        return self.remote.count_tokens(text)

    def token_spans(self, texts: Sequence[str]) -> list[list[tuple[int, int]]]:
        return self.remote.token_spans(texts)

    def embed_documents_with_stats(self, texts: Sequence[str], dim: int | None = None) -> Embedded:
        embedded = self.remote.embed_documents_with_stats(texts, dim)
        self._away_until = float("-inf")  # it answers again: so may queries
        return embedded

    def embed_queries_with_stats(self, texts: Sequence[str], instruction: str | None = None,
                                 dim: int | None = None) -> Embedded:
        if self._clock() >= self._away_until:
            try:
                return self.remote.embed_queries_with_stats(texts, instruction, dim)
            except ServerUnavailable:
                self._away_until = self._clock() + SERVER_AWAY_S
                if not self._can_use_local():
                    raise
        elif not self._can_use_local():
            raise ServerUnavailable(f"{self.remote.access.url} did not answer a moment ago.",
                                    retry_in_s=self._away_until - self._clock())
        assert self.local is not None
        self.used_local += 1
        return self.local.embed_queries_with_stats(texts, instruction, dim)

    def _can_use_local(self) -> bool:
        if self.local is None:
            return False
        if self._local_agrees is None:
            local = self.local
            verdict = check_against(self._book, self.remote.info.model_id, lambda: fingerprint_of(local))
            self._local_agrees = verdict.agrees
            if verdict.score is not None:
                log.info("the local copy %s the server's model (cosine %.4f)",
                         "matches" if verdict.agrees else "does not match", verdict.score)
        return self._local_agrees

    def cancel(self) -> None:
        self.remote.cancel()
        if self.local is not None:
            self.local.cancel()

    def reset_cancel(self) -> None:
        self.remote.reset_cancel()
        if self.local is not None:
            self.local.reset_cancel()

    def close(self) -> None:
        self.remote.close()
        if self.local is not None:
            self.local.close()
