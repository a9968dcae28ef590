"""Send texts to an embedding server in requests it accepts, several at once, retrying what may pass.

    client = RemoteClient(transport, API_KINDS["tei"], "Qwen/Qwen3-Embedding-0.6B", limits)
    vectors = client.embed(texts, token_counts, DOCUMENTS)   # float32 [n, d], input order

Requests are cut from the server's limits (`/info`'s max_client_batch_size and max_batch_tokens;
defaults otherwise) and learnt smaller when the server says a request was too big (TEI's 422 and
413, llama.cpp's 500 past its physical batch): the request is halved and the smaller size kept.
Up to `in_flight` requests run at once so a GPU always has the next batch queued. 429, 502-504,
timeouts and refused connections are retried with exponential backoff and jitter, honouring
Retry-After, through an injectable `sleep` (tests never wait). What cannot pass by waiting
(401, 404, invalid input) raises ServerRejected with the server's own words at once.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import wait as futures_wait
from dataclasses import dataclass, replace
from email.utils import parsedate_to_datetime

import numpy as np

from qfinder.core.errors import CancelledError
from qfinder.core.model.remote.apis import Api
from qfinder.core.model.remote.errors import (
    BatchTooLarge,
    IdentityMismatch,
    InputTooLong,
    ServerRejected,
    ServerUnavailable,
)
from qfinder.core.model.remote.transport import Reply, Transport

log = logging.getLogger(__name__)

TRANSIENT = {429, 502, 503, 504}
KEY_HINT = "Check the API key (Settings › Embed on a server, --api-key, or QFINDER_API_KEY)."
# How servers say one input is too long / a request is too big (TEI, vLLM, llama.cpp, Ollama).
_TOO_LONG = ("must have less than", "context length", "input is too large", "too long", "maximum context")
_TOO_BIG = ("batch size", "payload too large", "too many")


@dataclass(frozen=True)
class ServerLimits:
    max_batch: int = 32  # texts per request (TEI's default max_client_batch_size)
    max_batch_tokens: int = 16_384  # tokens per request
    max_input_tokens: int | None = None  # per text; None: not said (learnt on the first refusal)


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 8  # tries of one request before the server counts as unavailable
    base_s: float = 0.5
    max_s: float = 30.0
    timeout_s: float = 120.0  # per request: a GPU queue under load can take long


DOCUMENTS = RetryPolicy()
QUERIES = RetryPolicy(attempts=1, timeout_s=5.0)  # a query falls back rather than wait


def retry_after_s(reply: Reply) -> float | None:
    value = reply.headers.get("retry-after", "").strip()
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


class RemoteClient:
    def __init__(self, transport: Transport, api: Api, model: str | None, limits: ServerLimits,
                 in_flight: int = 4, sleep: Callable[[float], None] | None = None,
                 rng: random.Random | None = None) -> None:
        self.transport = transport
        self.api = api
        self.model = model
        self.limits = limits
        self.in_flight = max(1, in_flight)
        self._sleep = sleep  # None: wait on self._abort, which cancel() and a failed call end
        self._abort = threading.Event()
        self._rng = rng or random.Random()
        self._lock = threading.Lock()
        self._pool: ThreadPoolExecutor | None = None
        self.retries = 0

    # --- batching -------------------------------------------------------------------------------
    def plan(self, tokens: Sequence[int]) -> list[list[int]]:
        """Indices cut into requests within the limits, in input order."""
        limits = self.limits
        requests: list[list[int]] = []
        current: list[int] = []
        spent = 0
        for index, count in enumerate(tokens):
            if current and (len(current) >= limits.max_batch or spent + count > limits.max_batch_tokens):
                requests.append(current)
                current, spent = [], 0
            current.append(index)
            spent += count
        if current:
            requests.append(current)
        return requests

    def embed(self, texts: Sequence[str], tokens: Sequence[int],
              policy: RetryPolicy = DOCUMENTS) -> tuple[np.ndarray, int]:
        """(vectors in input order, how many requests answered them)."""
        if not texts:
            return np.zeros((0, 0), dtype=np.float32), 0
        requests = self.plan(tokens)
        if len(requests) == 1 or self.in_flight == 1:
            parts = [self._split_send(texts, tokens, r, policy) for r in requests]
        else:
            pool = self._executor()
            futures = [pool.submit(self._split_send, texts, tokens, r, policy) for r in requests]
            try:
                parts = [f.result() for f in futures]
            except BaseException:
                for future in futures:
                    future.cancel()  # not started yet: never sent
                self._abort.set()  # the others stop waiting to retry
                futures_wait(futures)
                self._abort.clear()
                raise
        return np.concatenate([p[0] for p in parts], axis=0), sum(p[1] for p in parts)

    def _executor(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self.in_flight, thread_name_prefix="qfinder-embed")
            return self._pool

    def _split_send(self, texts: Sequence[str], tokens: Sequence[int], indices: list[int],
                    policy: RetryPolicy) -> tuple[np.ndarray, int]:
        try:
            return self.send([texts[i] for i in indices], policy), 1
        except (BatchTooLarge, InputTooLong) as exc:
            if len(indices) == 1:
                raise
            half = len(indices) // 2
            if isinstance(exc, BatchTooLarge):
                self._learn(len(indices), sum(tokens[i] for i in indices))
            log.info("%s refused %d texts (%s); sending them as %d + %d", self.transport.url,
                     len(indices), exc.message, half, len(indices) - half)
            first = self._split_send(texts, tokens, indices[:half], policy)
            second = self._split_send(texts, tokens, indices[half:], policy)
            return np.concatenate([first[0], second[0]]), first[1] + second[1]

    def _learn(self, refused_texts: int, refused_tokens: int) -> None:
        with self._lock:
            limits = self.limits
            if refused_texts <= limits.max_batch:
                limits = replace(limits, max_batch=max(1, refused_texts // 2))
            if refused_tokens <= limits.max_batch_tokens:
                limits = replace(limits, max_batch_tokens=max(1, refused_tokens // 2))
            self.limits = limits

    # --- one request ----------------------------------------------------------------------------
    def send(self, texts: Sequence[str], policy: RetryPolicy = DOCUMENTS) -> np.ndarray:
        """One request's vectors, retried while the server may recover."""
        attempt = 0
        while True:
            attempt += 1
            try:
                reply = self.transport.request("POST", self.api.path, self.api.body(texts, self.model),
                                               policy.timeout_s)
            except ServerUnavailable as exc:
                wait = self._backoff(attempt, None, policy)
                if attempt >= policy.attempts:
                    raise ServerUnavailable(exc.message, exc.hint, retry_in_s=wait) from exc
                self._wait(wait, exc.message)
                continue
            if reply.status == 200:
                return self._vectors(reply, len(texts))
            if reply.status in TRANSIENT or (reply.status >= 500 and not _says(reply, _TOO_LONG)):
                wait = self._backoff(attempt, retry_after_s(reply), policy)
                if attempt >= policy.attempts:
                    raise ServerUnavailable(self._status_line(reply), "qfinder keeps trying.", retry_in_s=wait)
                self._wait(wait, self._status_line(reply))
                continue
            raise self._refusal(reply)

    def _vectors(self, reply: Reply, count: int) -> np.ndarray:
        answered = self.api.model_of(reply.data)
        if self.model and answered and bare_model_name(answered) != bare_model_name(self.model):
            raise IdentityMismatch(f"{self.transport.url} answered with model '{answered}', not '{self.model}'.",
                                   "The server switched models: indexing stopped so no two models' vectors "
                                   "are mixed. Serve the original model again, or re-index for the new one.")
        return self.api.vectors(reply.data, count)

    def _backoff(self, attempt: int, retry_after: float | None, policy: RetryPolicy) -> float:
        if retry_after is not None:
            return min(retry_after, policy.max_s * 4)  # the server knows; a cap against nonsense
        exponential = min(policy.max_s, policy.base_s * 2 ** (attempt - 1))
        return exponential * (0.5 + self._rng.random() / 2)  # jitter: clients do not retry in step

    def _wait(self, seconds: float, why: str) -> None:
        with self._lock:
            self.retries += 1
        log.info("%s; retrying in %.1f s", why, seconds)
        self.transport._raise_if_cancelled()
        if self._sleep is not None:
            self._sleep(seconds)
        elif self.abort_wait(seconds):
            raise CancelledError("Embedding was cancelled.")

    def abort_wait(self, seconds: float) -> bool:
        """Wait `seconds`; True when cancel() or a failed parallel call ended the wait early."""
        return self._abort.wait(seconds)

    def cancel(self) -> None:
        """Any thread: end the waits between retries now (the transport ends the requests)."""
        self._abort.set()

    def reset_cancel(self) -> None:
        self._abort.clear()

    def _status_line(self, reply: Reply) -> str:
        said = reply.message()
        return f"{self.transport.url} answered {reply.status}" + (f": {said}" if said else "")

    def _refusal(self, reply: Reply) -> ServerRejected:
        status, line = reply.status, self._status_line(reply)
        if status in (401, 403):
            return ServerRejected(f"{self.transport.url} refused the API key ({status}).", KEY_HINT, status)
        if status == 404:
            return ServerRejected(f"{line} (404 for {self.api.path}).",
                                  f"Check the model name ('{self.model}') and the API kind ({self.api.name}).",
                                  status)
        if _says(reply, _TOO_LONG):
            return InputTooLong(line, status=status)
        if status == 413 or _says(reply, _TOO_BIG):
            return BatchTooLarge(line, status=status)
        return ServerRejected(line, "The server rejected the request; see its log for details.", status)

    def close(self) -> None:
        """Stop the request threads; the transport is its owner's to close."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)


def _says(reply: Reply, phrases: Sequence[str]) -> bool:
    said = reply.message().lower()
    return any(p in said for p in phrases)


def bare_model_name(model: str) -> str:
    """Ollama answers 'name:latest' for 'name'; compare names without that tag."""
    return model.removesuffix(":latest")
