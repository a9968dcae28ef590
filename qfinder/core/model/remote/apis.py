"""The three embedding APIs qfinder speaks, as request bodies and response readers.

    api = API_KINDS["tei"]                  # "tei" | "openai" | "ollama"
    api.path, api.body(texts, model)        # what to POST
    api.vectors(reply.data, len(texts))     # float32 [n, d], in input order
    api.model_of(reply.data)                # the model the server says answered (None: not said)

TEI native `POST /embed` (text-embeddings-inference): a bare list of vectors; `truncate` false
so an over-long input is an error, never cut silently. OpenAI-compatible `POST /v1/embeddings`
(vLLM, llama.cpp, Ollama, Infinity, LM Studio, TEI): floats asked for explicitly, base64
(little-endian float32, the `openai` package's default) read too; `data` re-ordered by
`index`. Ollama native `POST /api/embed`: `truncate` false for the same reason as TEI (Ollama
otherwise truncates at its context length without a word). None is sent `dimensions`: full-size
vectors always, cut locally (vLLM rejects it unless started as Matryoshka).
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from qfinder.core.model.remote.errors import ServerRejected


class Api(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def path(self) -> str: ...

    def body(self, texts: Sequence[str], model: str | None) -> dict[str, Any] | list[Any]: ...

    def vectors(self, data: Any, count: int) -> np.ndarray: ...

    def model_of(self, data: Any) -> str | None: ...


def _matrix(rows: Any, count: int, where: str) -> np.ndarray:
    try:
        matrix = np.asarray(rows, dtype=np.float32)
    except (TypeError, ValueError) as exc:
        raise ServerRejected(f"The server's {where} holds something other than vectors ({exc}).") from exc
    if matrix.ndim != 2 or matrix.shape[0] != count or matrix.shape[1] < 1:
        raise ServerRejected(f"The server returned vectors of shape {matrix.shape} for {count} texts.",
                             "Check that the server runs an embedding model.")
    if not np.isfinite(matrix).all():
        raise ServerRejected("The server returned vectors with NaN or infinite values.",
                             "The server's model or precision setting is broken (fp16 overflow?).")
    return matrix


@dataclass(frozen=True)
class TeiApi:
    name: str = "tei"
    path: str = "/embed"

    def body(self, texts: Sequence[str], model: str | None) -> dict[str, Any]:
        return {"inputs": list(texts), "normalize": True, "truncate": False}

    def vectors(self, data: Any, count: int) -> np.ndarray:
        return _matrix(data, count, "/embed answer")

    def model_of(self, data: Any) -> str | None:
        return None


@dataclass(frozen=True)
class OpenAiApi:
    name: str = "openai"
    path: str = "/v1/embeddings"

    def body(self, texts: Sequence[str], model: str | None) -> dict[str, Any]:
        return {"model": model or "", "input": list(texts), "encoding_format": "float"}

    def vectors(self, data: Any, count: int) -> np.ndarray:
        items = data.get("data") if isinstance(data, dict) else None
        if not isinstance(items, list):
            raise ServerRejected("The server's /v1/embeddings answer has no 'data' list.")
        ordered = sorted(items, key=lambda item: int(item.get("index", 0)))
        return _matrix([_embedding(item.get("embedding")) for item in ordered], count, "/v1/embeddings answer")

    def model_of(self, data: Any) -> str | None:
        return _answering_model(data)


def _answering_model(data: Any) -> str | None:
    model = data.get("model") if isinstance(data, dict) else None
    return str(model) if model else None


def _embedding(value: Any) -> Any:
    if isinstance(value, str):  # base64 of little-endian float32
        return np.frombuffer(base64.b64decode(value), dtype="<f4")
    return value


@dataclass(frozen=True)
class OllamaApi:
    name: str = "ollama"
    path: str = "/api/embed"

    def body(self, texts: Sequence[str], model: str | None) -> dict[str, Any]:
        return {"model": model or "", "input": list(texts), "truncate": False}

    def vectors(self, data: Any, count: int) -> np.ndarray:
        rows = data.get("embeddings") if isinstance(data, dict) else None
        return _matrix(rows, count, "/api/embed answer")

    def model_of(self, data: Any) -> str | None:
        return _answering_model(data)


API_KINDS: dict[str, Api] = {"tei": TeiApi(), "openai": OpenAiApi(), "ollama": OllamaApi()}
API_CHOICES = ("auto", *API_KINDS)  # what settings and flags accept: "auto" detects the kind
