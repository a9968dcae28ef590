"""Errors a person can act on: each carries what happened and what to do about it."""

from __future__ import annotations


class QfinderError(Exception):
    """Base of every error qfinder reports to a person instead of a traceback."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} {self.hint}".strip() if self.hint else self.message


class ModelError(QfinderError):
    """A model folder is missing, incomplete, broken or of an unsupported shape."""


class EmbeddingError(QfinderError):
    """Running the model failed or produced unusable vectors."""


class CancelledError(QfinderError):
    """A running batch was cancelled on purpose (shutdown, pause)."""


class DownloadError(QfinderError):
    """Fetching a model failed (offline, not found, disk full)."""


class IndexError_(QfinderError):
    """The catalog or a vector index is unusable; it is rebuilt where possible."""


class ExtractionError(QfinderError):
    """A file's text could not be extracted; the reason is recorded per file."""
