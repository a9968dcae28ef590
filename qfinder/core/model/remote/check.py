"""Test a server before indexing with it: what it serves, how big its vectors are, how fast it is.

    report = check_server("http://gpu.lan:8080", api_key=None, tokenizer=tok)   # ServerReport
    report.lines()   # the human summary `qfinder server check` and Settings' Test connection show

Latency is one short text's round trip (the time a query waits for the server); the rate is
tokens per second over a batch of realistic passages sent as indexing sends them (several
requests in flight). Tokens are counted with the model's tokenizer when one is given, else
estimated (4 characters a token) and said so.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from tokenizers import Tokenizer

from qfinder.core.model.remote.client import DOCUMENTS, RemoteClient
from qfinder.core.model.remote.discover import discover
from qfinder.core.model.remote.transport import Transport

SAMPLE = ("Invoices from March were paid late because the supplier changed its bank account details "
          "without telling the accounts team, so every transfer bounced and had to be sent again. ") * 3
SAMPLE_TEXTS = 64
LATENCY_TRIES = 3


@dataclass(frozen=True)
class ServerReport:
    url: str
    api: str
    served: str
    full_dim: int
    latency_ms: float  # the fastest of a few one-text round trips
    tokens_per_s: float
    counted: bool  # tokens counted with the model's tokenizer (else estimated)
    max_batch: int
    max_input_tokens: int | None

    def lines(self) -> list[str]:
        rate = f"{self.tokens_per_s:,.0f} tokens/s" + ("" if self.counted else " (tokens estimated)")
        limit = f", inputs up to {self.max_input_tokens} tokens" if self.max_input_tokens else ""
        return [f"server:     {self.url} ({self.api})",
                f"model:      {self.served}",
                f"vectors:    {self.full_dim} dimensions",
                f"round trip: {self.latency_ms:.0f} ms",
                f"speed:      {rate} (batches of up to {self.max_batch} texts{limit})"]


def check_server(url: str, api: str = "auto", model: str | None = None, api_key: str | None = None,
                 tokenizer: Tokenizer | None = None) -> ServerReport:
    transport = Transport(url, api_key)
    client: RemoteClient | None = None
    try:
        found = discover(transport, api, model)
        client = RemoteClient(transport, found.api, found.model, found.limits)
        latency, dim = _round_trip(client)
        texts = [f"{i}. {SAMPLE}" for i in range(SAMPLE_TEXTS)]
        tokens = _token_counts(texts, tokenizer)
        started = time.perf_counter()
        client.embed(texts, tokens, DOCUMENTS)
        rate = sum(tokens) / max(time.perf_counter() - started, 1e-9)
    finally:
        if client is not None:  # its request threads, also when the check failed halfway
            client.close()
        transport.close()
    return ServerReport(url, found.api.name, found.served, dim, latency * 1000, rate, tokenizer is not None,
                        found.limits.max_batch, found.limits.max_input_tokens)


def _round_trip(client: RemoteClient) -> tuple[float, int]:
    best, dim = float("inf"), 0
    for _ in range(LATENCY_TRIES):  # the first also opens the connection
        started = time.perf_counter()
        vectors = client.send(["what is qfinder"], DOCUMENTS)
        best = min(best, time.perf_counter() - started)
        dim = int(vectors.shape[1])
    return best, dim


def _token_counts(texts: list[str], tokenizer: Tokenizer | None) -> list[int]:
    if tokenizer is None:
        return [max(1, len(t) // 4) for t in texts]
    return [len(e.ids) for e in tokenizer.encode_batch(texts)]
