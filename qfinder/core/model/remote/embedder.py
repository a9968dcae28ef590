"""`RemoteEmbedder`: a `TextEmbedder` whose vectors come from an embedding server.

    embedder = RemoteEmbedder(ServerAccess(url, "auto", None, key), tokenizer, hints, cache, book)
    embedder.embed_documents_with_stats(chunks)      # Embedded, as the local engine gives it
    embedder.connect()                                # discover + probe + identity check (else lazily)

Everything that depends on the tokenizer happens here with the model's own tokenizer: counting,
token spans for chunking, Qwen3's query instruction, and truncation to the server's input limit
keeping room for the end-of-text token (so no server ever truncates silently); a server whose
tokenizer drops that token (an old Qwen3 GGUF, found through llama.cpp's /tokenize) gets it
appended to the text. Vectors are always requested at full size and cut here (MRL).

Every connection — the first, and the first after the server was unreachable — re-embeds the
probe set and checks it against the fingerprint this data folder keeps for the model id; a
changed model or fingerprint raises IdentityMismatch instead of mixing vectors.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np
from tokenizers import Tokenizer

from qfinder.core.errors import CancelledError
from qfinder.core.model.batching import EmbedStats
from qfinder.core.model.identity import (
    AGREE,
    Fingerprint,
    IdentityBook,
    check_against,
    fingerprint_of,
)
from qfinder.core.model.info import EmbedOptions, ModelInfo, format_document, format_query
from qfinder.core.model.mrl import MIN_MRL_DIM, check_dim, l2_normalize, truncate_normalize
from qfinder.core.model.protocol import Embedded
from qfinder.core.model.remote.apis import API_KINDS
from qfinder.core.model.remote.client import (
    DOCUMENTS,
    QUERIES,
    RemoteClient,
    RetryPolicy,
    ServerLimits,
)
from qfinder.core.model.remote.discover import Discovered, discover
from qfinder.core.model.remote.errors import IdentityMismatch, InputTooLong, ServerUnavailable
from qfinder.core.model.remote.facts import FactsCache, ServerFacts
from qfinder.core.model.remote.hints import ModelHints
from qfinder.core.model.remote.transport import Transport
from qfinder.core.model.tokenize import QWEN3_EOS_TOKEN
from qfinder.core.state import ProviderReport
from qfinder.core.tokens import TokenizerSpans

log = logging.getLogger(__name__)

MAX_SHRINKS = 8  # an input limit learnt by halving: 32k tokens down to 128 at most
REMOTE_PREFIX = "server:"


@dataclass(frozen=True)
class ServerAccess:
    url: str
    api: str = "auto"
    model: str | None = None
    api_key: str | None = None
    in_flight: int = 4


class RemoteEmbedder:
    def __init__(self, access: ServerAccess, tokenizer: Tokenizer, hints: ModelHints, cache: FactsCache,
                 book: IdentityBook | None = None, options: EmbedOptions | None = None,
                 sleep: Callable[[float], None] | None = None) -> None:
        self.access = access
        self.tokenizer = tokenizer
        self.hints = hints
        self.options = options or EmbedOptions()
        self.book = book
        self.model_id: str | None = None  # set to adopt another engine's stamp (fingerprints agree)
        self._cache = cache
        self._spans = TokenizerSpans(tokenizer)
        self._eos_id = tokenizer.token_to_id(QWEN3_EOS_TOKEN) if hints.family == "qwen3" else None
        self._reserved = max(tokenizer.num_special_tokens_to_add(False), 1 if hints.family == "qwen3" else 2)
        self.transport = Transport(access.url, access.api_key)
        self._facts = cache.get(access.url, access.api, access.model)
        self._client: RemoteClient | None = None
        self.sleep = sleep  # backoff waits (tests: a recorder that returns at once)
        self.query_policy = QUERIES
        self._connected = False
        self._probing = False
        self._checked_after = -1  # transport.opened when the probe last agreed
        self._lock = threading.RLock()  # connect() once, whoever asks first

    # --- what it is -----------------------------------------------------------------------------
    @property
    def facts(self) -> ServerFacts:
        if self._facts is None:
            self.connect()
        assert self._facts is not None
        return self._facts

    @property
    def info(self) -> ModelInfo:
        facts, hints = self.facts, self.hints
        qwen3 = hints.family == "qwen3"
        full = facts.full_dim
        limit = min(x for x in (facts.max_input_tokens, hints.max_tokens, 32768 if qwen3 else 512) if x)
        return ModelInfo(name=facts.served, model_id=self.model_id or REMOTE_PREFIX + facts.served,
                         family=hints.family, full_dim=full,
                         min_dim=MIN_MRL_DIM if qwen3 and full > MIN_MRL_DIM else full,
                         default_dim=min(512, full) if qwen3 else full, instruction_aware=qwen3,
                         default_instruction=hints.default_instruction, pooling="server", max_tokens=limit,
                         quantization="server", query_prompt=hints.query_prompt,
                         document_prompt=hints.document_prompt)

    @property
    def provider(self) -> ProviderReport:
        api = self._facts.api if self._facts else self.access.api
        return ProviderReport("server", f"{api} server at {self.access.url}")

    @property
    def connected(self) -> bool:
        return self._connected

    # --- tokens ---------------------------------------------------------------------------------
    def count_tokens(self, text: str) -> int:
        return len(self.tokenizer.encode(text, add_special_tokens=False).ids)

    def token_spans(self, texts: Sequence[str]) -> list[list[tuple[int, int]]]:
        return self._spans.token_spans(texts)

    def _fit(self, texts: Sequence[str], cap: int) -> tuple[list[str], list[int], list[int]]:
        """(texts cut to `cap` tokens with the special tokens, their token counts, which were cut)."""
        budget = max(1, cap - self._reserved)
        eos = QWEN3_EOS_TOKEN if self._eos_id is not None and self.facts.appends_eos is False else ""
        fitted, counts, cut = [], [], []
        for index, encoding in enumerate(self.tokenizer.encode_batch(list(texts), add_special_tokens=False)):
            text = texts[index]
            if len(encoding.ids) > budget:
                text = text[: encoding.offsets[budget - 1][1]]
                cut.append(index)
            fitted.append(text + eos)
            counts.append(min(len(encoding.ids), budget) + self._reserved)
        return fitted, counts, cut

    # --- embedding ------------------------------------------------------------------------------
    def embed_documents_with_stats(self, texts: Sequence[str], dim: int | None = None) -> Embedded:
        prepared = [format_document(self.info, t) for t in texts]
        return self._embed(prepared, self.options.max_tokens_document, dim, DOCUMENTS)

    def embed_queries_with_stats(self, texts: Sequence[str], instruction: str | None = None,
                                 dim: int | None = None) -> Embedded:
        prepared = [format_query(self.info, t, instruction) for t in texts]
        return self._embed(prepared, self.options.max_tokens_query, dim, self.query_policy)

    def _embed(self, texts: list[str], cap: int, dim: int | None, policy: RetryPolicy) -> Embedded:
        info = self.info
        check_dim(dim, info.min_dim, info.full_dim)
        if not texts:
            return Embedded(np.zeros((0, dim or info.full_dim), dtype=np.float32), EmbedStats())
        if not self._probing:
            self.connect()
        raw, counts, cut, requests = self._send(texts, cap, policy)
        if not self._probing:
            self.connect()  # connections opened meanwhile: these vectors count only if the probe still agrees
        if raw.shape[1] != info.full_dim and not self._probing:
            self._connected = False
            raise IdentityMismatch(f"{self.access.url} returned {raw.shape[1]}-dimensional vectors; "
                                   f"this index holds {info.full_dim}.",
                                   "The server switched models: serve the original one again, or re-index.")
        vectors = l2_normalize(raw)
        stats = EmbedStats(texts=len(texts), tokens=sum(counts), padded_tokens=sum(counts), batches=requests,
                           truncated=len(cut), truncated_indices=tuple(cut))
        return Embedded(vectors if dim is None else truncate_normalize(vectors, dim), stats)

    def _send(self, texts: list[str], cap: int, policy: RetryPolicy) -> tuple[np.ndarray, list[int], list[int], int]:
        client = self._the_client()
        for _ in range(MAX_SHRINKS):
            fitted, counts, cut = self._fit(texts, min(cap, self.info.max_tokens))
            try:
                vectors, requests = client.embed(fitted, counts, policy)
                return vectors, counts, cut, requests
            except InputTooLong as exc:
                self._learn_input_limit(max(counts), exc.message)
            except (ServerUnavailable, IdentityMismatch):
                self._connected = False  # the next call connects (and checks) again
                raise
        raise InputTooLong(f"{self.access.url} refuses even {self.info.max_tokens}-token inputs.",
                           "Raise the server's batch/context size (llama.cpp: -ub, Ollama: num_ctx).")

    def _learn_input_limit(self, refused_tokens: int, said: str) -> None:
        limit = max(16, refused_tokens // 2)
        log.warning("%s refused a %d-token input (%s); texts are cut to %d tokens from now on",
                    self.access.url, refused_tokens, said, limit)
        self._set_facts(replace(self.facts, max_input_tokens=limit))

    def _set_facts(self, facts: ServerFacts) -> None:
        self._facts = facts
        self._cache.put(self.access.url, self.access.api, self.access.model, facts)

    def _the_client(self) -> RemoteClient:
        if self._client is None:
            facts = self.facts
            limits = ServerLimits(facts.max_batch, facts.max_batch_tokens, facts.max_input_tokens)
            self._client = RemoteClient(self.transport, API_KINDS[facts.api], facts.model, limits,
                                        self.access.in_flight, sleep=self._backoff_sleep)
        return self._client

    def _backoff_sleep(self, seconds: float) -> None:
        (self.sleep if self.sleep is not None else self._interruptible_sleep)(seconds)

    def _interruptible_sleep(self, seconds: float) -> None:
        if self._client is not None and self._client.abort_wait(seconds):
            raise CancelledError("Embedding was cancelled.")

    # --- connecting -----------------------------------------------------------------------------
    def connect(self) -> None:
        """Ask the server what it serves and check its probe vectors: the first time, after a
        failure, and whenever a TCP connection was opened since the last check (a new connection
        may reach a server restarted with another model). Runs on the calling thread before a
        call sends anything and after its answers are in, so no call returns unchecked vectors;
        over kept-alive connections that is once per pool thread, not once per request."""
        with self._lock:
            if self._connected and self.transport.opened == self._checked_after:
                return
            self._connected = False
            self._discover_and_probe()
            self._checked_after = self.transport.opened
            self._connected = True
            log.info("connected to %s (%s, %s, %d-d)", self.access.url, self.facts.api, self.facts.served,
                     self.facts.full_dim)

    def _discover_and_probe(self) -> None:
        self._adopt(discover(self.transport, self.access.api, self.access.model, self._eos_id))
        self._probing = True
        try:
            fingerprint = fingerprint_of(self)
        finally:
            self._probing = False
        self._set_facts(replace(self.facts, full_dim=int(fingerprint.vectors.shape[1])))
        self._check_identity(fingerprint)

    def _adopt(self, found: Discovered) -> None:
        known = self._facts
        if known is not None and known.served != found.served:
            raise IdentityMismatch(f"{self.access.url} now serves '{found.served}'; this index was built "
                                   f"with '{known.served}'.",
                                   "Serve that model again, or name the new one in the settings to re-index.")
        limits = found.limits
        if known is not None:  # what was learnt from refusals stays
            limits = ServerLimits(min(limits.max_batch, known.max_batch),
                                  min(limits.max_batch_tokens, known.max_batch_tokens),
                                  min(x for x in (limits.max_input_tokens, known.max_input_tokens) if x)
                                  if (limits.max_input_tokens or known.max_input_tokens) else None)
        self._facts = ServerFacts(found.api.name, found.model, found.served, known.full_dim if known else 0,
                                  limits.max_batch, limits.max_batch_tokens, limits.max_input_tokens,
                                  found.appends_eos)
        if self._client is not None:
            self._client.limits = limits

    def _check_identity(self, fingerprint: Fingerprint) -> None:
        if self.book is None:
            return
        verdict = check_against(self.book, self.info.model_id, lambda: fingerprint, record=True)
        if verdict.disagrees:
            raise IdentityMismatch(f"{self.access.url}'s vectors no longer match this index's "
                                   f"(cosine {verdict.score:.4f} < {AGREE}).",
                                   "The server's model, precision or tokenizer changed: indexing stopped so that "
                                   "no two kinds of vectors are mixed. Serve the original model again, or re-index.")

    def disconnect(self) -> None:
        """Connect (and check the probe) again before the next request."""
        self._connected = False

    # --- lifetime -------------------------------------------------------------------------------
    def cancel(self) -> None:
        self.transport.cancel()
        if self._client is not None:
            self._client.cancel()

    def reset_cancel(self) -> None:
        self.transport.reset()
        if self._client is not None:
            self._client.reset_cancel()

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
        self.transport.close()

