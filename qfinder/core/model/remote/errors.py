"""What can go wrong with an embedding server, as errors a person (and the engine) can act on.

ServerUnavailable: try again later (unreachable, overloaded, timed out) — indexing pauses and
    retries in `retry_in_s`, search falls back. ServerRejected: the request is wrong and will
    stay wrong (bad key, unknown model, invalid input) — retrying cannot help. IdentityMismatch:
    the server now embeds differently from what this index holds — indexing stops rather than
    mix two models' vectors.
"""

from __future__ import annotations

from qfinder.core.errors import EmbeddingError


class ServerError(EmbeddingError):
    """Base of the embedding server's errors."""


class ServerUnavailable(ServerError):
    def __init__(self, message: str, hint: str = "", retry_in_s: float = 5.0) -> None:
        super().__init__(message, hint)
        self.retry_in_s = retry_in_s


class ServerRejected(ServerError):
    def __init__(self, message: str, hint: str = "", status: int = 0) -> None:
        super().__init__(message, hint)
        self.status = status


class InputTooLong(ServerRejected):
    """One input exceeded what the server can take (llama.cpp's physical batch, a context)."""


class BatchTooLarge(ServerRejected):
    """The request held more inputs or tokens than the server takes in one request."""


class IdentityMismatch(ServerError):
    """The server serves another model, or its vectors no longer agree with the index's."""
