"""What a server is: its API kind, the model it serves and its limits, asked from the server.

    found = discover(transport, api="auto", model=None)   # Discovered(api, model, limits, appends_eos)

`auto` asks, in this order, TEI's `GET /info` (model_id and limits), Ollama's `GET /api/tags`
(its pulled models) and the OpenAI-compatible `GET /v1/models`; the first that answers decides
(Ollama also speaks /v1, so it is asked before). The model is the one named, else the only one
served. llama.cpp's `POST /tokenize` tells whether the server's tokenizer appends
`<|endoftext|>` (old Qwen3 GGUFs did not, and pooled the wrong token): when it does not, the
client appends it to every text itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from qfinder.core.model.remote.apis import API_CHOICES, API_KINDS, Api
from qfinder.core.model.remote.client import KEY_HINT, ServerLimits, bare_model_name
from qfinder.core.model.remote.errors import ServerRejected, ServerUnavailable
from qfinder.core.model.remote.transport import Reply, Transport

DISCOVERY_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class Discovered:
    api: Api
    model: str | None  # what requests name (None: TEI, which serves one model)
    served: str  # the model's id as the server reports it
    limits: ServerLimits
    appends_eos: bool | None  # None: the server cannot say (only llama.cpp's /tokenize can)


def discover(transport: Transport, api: str = "auto", model: str | None = None,
             eos_id: int | None = None) -> Discovered:
    """`eos_id`: the model's end-of-text id (Qwen3), to check that the server appends it."""
    if api not in API_CHOICES:
        raise ServerRejected(f"Unknown API kind '{api}'.", "Use auto, tei, openai or ollama.")
    order = ("tei", "ollama", "openai") if api == "auto" else (api,)
    for kind in order:
        found = _ASK[kind](transport, model, eos_id)
        if found is not None:
            return found
    raise ServerRejected(f"{transport.url} answers none of /info, /api/tags and /v1/models.",
                         "Check the address (an OpenAI-compatible base URL is given without /v1), "
                         "or choose the API kind.")


def _get(transport: Transport, path: str) -> Reply | None:
    reply = transport.request("GET", path, timeout_s=DISCOVERY_TIMEOUT_S)
    if reply.status in (401, 403):
        raise ServerRejected(f"{transport.url} refused the API key ({reply.status}).", KEY_HINT, reply.status)
    if reply.status in (429, 502, 503, 504):
        raise ServerUnavailable(f"{transport.url} is busy or starting ({reply.status}).",
                                "Try again in a moment.", retry_in_s=5.0)
    return reply if reply.status == 200 and reply.data is not None else None


def _ask_tei(transport: Transport, model: str | None, eos_id: int | None) -> Discovered | None:
    reply = _get(transport, "/info")
    info = reply.data if reply is not None else None
    if not isinstance(info, dict) or "model_id" not in info:
        return None
    served = str(info["model_id"])
    _check_named(transport, model, [served])
    limits = ServerLimits(max_batch=_positive(info.get("max_client_batch_size"), 32),
                          max_batch_tokens=_positive(info.get("max_batch_tokens"), 16_384),
                          max_input_tokens=_positive(info.get("max_input_length"), 0) or None)
    return Discovered(API_KINDS["tei"], None, served, limits, None)


def _ask_ollama(transport: Transport, model: str | None, eos_id: int | None) -> Discovered | None:
    reply = _get(transport, "/api/tags")
    data = reply.data if reply is not None else None
    if not isinstance(data, dict) or not isinstance(data.get("models"), list):
        return None
    names = [str(m.get("name") or m.get("model")) for m in data["models"] if isinstance(m, dict)]
    chosen = _chosen(transport, model, names)
    return Discovered(API_KINDS["ollama"], chosen, chosen, ServerLimits(), None)


def _ask_openai(transport: Transport, model: str | None, eos_id: int | None) -> Discovered | None:
    reply = _get(transport, "/v1/models")
    data = reply.data if reply is not None else None
    if not isinstance(data, dict) or not isinstance(data.get("data"), list):
        return None
    names = [str(m.get("id")) for m in data["data"] if isinstance(m, dict) and m.get("id")]
    chosen = _chosen(transport, model, names)
    return Discovered(API_KINDS["openai"], chosen, chosen, ServerLimits(),
                      _tokenizer_appends_eos(transport, eos_id) if eos_id is not None else None)


_ASK = {"tei": _ask_tei, "ollama": _ask_ollama, "openai": _ask_openai}


def _chosen(transport: Transport, model: str | None, names: list[str]) -> str:
    if model:
        _check_named(transport, model, names)
        return model
    if len(names) == 1:
        return names[0]
    listed = ", ".join(names[:8]) or "none"
    raise ServerRejected(f"{transport.url} serves {len(names)} models ({listed}).",
                         "Name the embedding model to use (--server-model, or the model field in Settings).")


def _check_named(transport: Transport, model: str | None, names: list[str]) -> None:
    bare = {bare_model_name(n) for n in names}
    if model and bare_model_name(model) not in bare:
        raise ServerRejected(f"{transport.url} does not serve '{model}' (it serves {', '.join(names) or 'nothing'}).",
                             "Correct the model name, or load that model on the server.")


def _tokenizer_appends_eos(transport: Transport, eos_id: int) -> bool | None:
    """llama.cpp's /tokenize with the special tokens the server adds; None elsewhere."""
    try:
        reply = transport.request("POST", "/tokenize", {"content": "a", "add_special": True},
                                  timeout_s=DISCOVERY_TIMEOUT_S)
    except ServerUnavailable:
        return None
    tokens: Any = reply.data.get("tokens") if reply.status == 200 and isinstance(reply.data, dict) else None
    if not isinstance(tokens, list) or not tokens:
        return None
    last = tokens[-1]
    last_id = last.get("id") if isinstance(last, dict) else last
    return bool(last_id == eos_id)


def _positive(value: Any, default: int) -> int:
    return int(value) if isinstance(value, int) and value > 0 else default
