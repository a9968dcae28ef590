"""Real HTTP embedding servers on 127.0.0.1 for tests, one per API qfinder speaks, each with the
documented behaviour and quirks of the server it stands for, embedding with qfinder's own ONNX
engine (so their vectors can be compared with the local engine's).

    with EmbedServer(engine, "tei", max_batch=4) as server:     # port 0: a free port
        server.url; server.requests; server.quirks.status_storm = [429, 429]
        server.stop(); server.start()                          # killed and restarted, same port
    quiet_backoff(library, sleeps)                             # its backoff records, never waits

Kinds: "tei" (text-embeddings-inference: GET /info, POST /embed, 422 past max_client_batch_size
or max_input_length), "openai" (vLLM/llama.cpp: GET /v1/models, POST /v1/embeddings, base64 on
request, llama.cpp's 500 past its physical batch and POST /tokenize), "ollama" (GET /api/tags,
POST /api/embed, silent truncation at num_ctx unless truncate is false). Every server checks a
Bearer key when given one (401), and stops by itself after `lifetime_s`.
"""

from __future__ import annotations

import base64
import contextlib
import json
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from qfinder.core.config import LibraryConfig
from qfinder.core.model.embedder import Embedder
from qfinder.core.model.remote.fallback import QueryFallback

if TYPE_CHECKING:
    from qfinder.core.library.library import Library


@dataclass
class Quirks:
    status_storm: list[int] = field(default_factory=list)  # statuses answered to the next embed requests
    retry_after: str | None = "1"  # Retry-After sent with 429/503
    served: str = "Qwen/Qwen3-Embedding-tiny"  # the model the server says it serves
    answered: str | None = None  # the model named in embed answers (None: served)
    perturb: bool = False  # other weights under the same name: vectors of another model
    missing_eos: bool = False  # an old Qwen3 GGUF: the end-of-text token is not appended
    force_base64: bool = False  # answer base64 whatever was asked
    block: threading.Event | None = None  # embed requests wait for it (a slow server)
    gpu_tokens_per_s: float | None = None  # benchmarks: each batch also takes tokens / rate (a GPU's time)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"  # keep-alive, as real servers

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet tests
        return

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # as real servers
        self.server.owner.connections.add(self.connection)

    def finish(self) -> None:
        self.server.owner.connections.discard(self.connection)
        super().finish()

    def _send(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        body = json.dumps(payload).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _authorised(self) -> bool:
        key = self.server.owner.api_key
        if key and self.headers.get("Authorization") != f"Bearer {key}":
            self._send(401, {"error": "Unauthorized", "error_type": "Unauthorized"})
            return False
        return True

    def do_GET(self) -> None:  # noqa: N802
        owner = self.server.owner
        if not self._authorised():
            return
        route = owner.routes_get.get(self.path)
        if route is None:
            self._send(404, {"error": f"no route {self.path}"})
            return
        self._send(200, route())

    def do_POST(self) -> None:  # noqa: N802
        owner = self.server.owner
        length = int(self.headers.get("Content-Length") or 0)
        payload = json.loads(self.rfile.read(length) or b"null")
        if not self._authorised():
            return
        route = owner.routes_post.get(self.path)
        if route is None:
            self._send(404, {"error": f"no route {self.path}"})
            return
        if self.path != "/tokenize":
            owner.count_request()
            if owner.quirks.block is not None:
                owner.quirks.block.wait(30)
            storm = owner.take_storm()
            if storm is not None:
                retry = {"Retry-After": owner.quirks.retry_after} if owner.quirks.retry_after else {}
                self._send(storm, {"error": "Model is overloaded", "error_type": "Overloaded"}, retry)
                return
        status, answer = route(payload)
        if status != 200:
            owner.refused += 1
        self._send(status, answer)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    owner: EmbedServer


class EmbedServer:
    def __init__(self, engine: Embedder, kind: str, *, api_key: str | None = None, max_batch: int = 32,
                 max_input: int = 512, ubatch: int = 512, num_ctx: int = 2048, lifetime_s: float = 900.0,
                 quirks: Quirks | None = None) -> None:
        self.engine = engine
        self.kind = kind
        self.api_key = api_key
        self.max_batch = max_batch
        self.max_input = max_input
        self.ubatch = ubatch
        self.num_ctx = num_ctx
        self.lifetime_s = lifetime_s
        self.quirks = quirks or Quirks()
        self.requests = 0  # embed requests received (storm answers included)
        self.texts = 0  # texts embedded
        self.refused = 0  # embed requests answered 4xx/5xx (storms not counted)
        self.busy_s = 0.0  # time spent embedding: the server's own rate is tokens_embedded / busy_s
        self.tokens_embedded = 0
        self._lock = threading.Lock()  # one model: requests take turns, as on one GPU
        self._port = 0
        self._httpd: _Server | None = None
        self._timer: threading.Timer | None = None
        self.connections: set[socket.socket] = set()  # open client connections (a kill drops them)
        self.routes_get, self.routes_post = _ROUTES[kind](self)

    # --- lifetime -------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    def start(self) -> EmbedServer:
        httpd = _Server(("127.0.0.1", self._port), _Handler)
        httpd.owner = self
        self._port = httpd.server_address[1]
        self._httpd = httpd
        threading.Thread(target=httpd.serve_forever, args=(0.05,), name=f"fake-{self.kind}", daemon=True).start()
        self._timer = threading.Timer(self.lifetime_s, self.stop)
        self._timer.daemon = True
        self._timer.start()
        return self

    def stop(self) -> None:
        """Shut down and close every connection, as a killed server does."""
        httpd, self._httpd = self._httpd, None
        if self._timer is not None:
            self._timer.cancel()
        if httpd is not None:
            httpd.shutdown()
            httpd.server_close()
        for conn in list(self.connections):
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)

    def __enter__(self) -> EmbedServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- behaviour ------------------------------------------------------------------------------
    def count_request(self) -> None:
        with self._lock:
            self.requests += 1

    def take_storm(self) -> int | None:
        with self._lock:
            return self.quirks.status_storm.pop(0) if self.quirks.status_storm else None

    def tokens(self, text: str) -> list[int]:
        ids = list(self.engine.tokenizer.encode(text).ids)
        eos = self.engine.tokenizer.token_to_id("<|endoftext|>")
        return ids[:-1] if self.quirks.missing_eos and ids and ids[-1] == eos else ids

    def embed(self, texts: list[str], cut_at: int | None = None) -> np.ndarray:
        """Vectors as the served model gives them: the engine on the server's own token ids."""
        rows = [self.tokens(t)[:cut_at] if cut_at else self.tokens(t) for t in texts]
        with self._lock:
            started = time.perf_counter()
            vectors = np.asarray(self.engine._run_rows(rows), dtype=np.float32)
            rate = self.quirks.gpu_tokens_per_s
            if rate:  # the rest of the batch's time on the emulated GPU (the CPU is free meanwhile)
                time.sleep(max(0.0, sum(map(len, rows)) / rate - (time.perf_counter() - started)))
            self.busy_s += time.perf_counter() - started
            self.tokens_embedded += sum(map(len, rows))
            self.texts += len(texts)
        vectors = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors[:, ::-1].copy() if self.quirks.perturb else vectors

    @property
    def answered(self) -> str:
        return self.quirks.answered or self.quirks.served


def _tei(server: EmbedServer) -> tuple[dict[str, Any], dict[str, Any]]:
    def info() -> dict[str, Any]:
        return {"model_id": server.quirks.served, "max_client_batch_size": server.max_batch,
                "max_batch_tokens": 16384, "max_input_length": server.max_input, "auto_truncate": False}

    def embed(payload: dict[str, Any]) -> tuple[int, Any]:
        inputs = payload["inputs"] if isinstance(payload["inputs"], list) else [payload["inputs"]]
        if len(inputs) > server.max_batch:
            return 422, {"error": f"batch size {len(inputs)} > maximum allowed batch size {server.max_batch}",
                         "error_type": "Validation"}
        for text in inputs:
            count = len(server.tokens(text))
            if count > server.max_input and not payload.get("truncate"):
                return 422, {"error": f"Input validation error: `inputs` must have less than "
                                      f"{server.max_input} tokens. Given: {count}", "error_type": "Validation"}
        return 200, server.embed(inputs, server.max_input).tolist()

    return {"/info": info}, {"/embed": embed}


def _openai(server: EmbedServer) -> tuple[dict[str, Any], dict[str, Any]]:
    def models() -> dict[str, Any]:
        return {"object": "list", "data": [{"id": server.quirks.served, "object": "model"}]}

    def embeddings(payload: dict[str, Any]) -> tuple[int, Any]:
        inputs = payload["input"] if isinstance(payload["input"], list) else [payload["input"]]
        if any(len(server.tokens(t)) > server.ubatch for t in inputs):  # llama.cpp
            return 500, {"error": {"code": 500, "type": "server_error",
                                   "message": "input is too large to process. increase the physical batch size"}}
        vectors = server.embed(inputs)
        as_base64 = server.quirks.force_base64 or payload.get("encoding_format") == "base64"
        data = [{"object": "embedding", "index": i,
                 "embedding": base64.b64encode(v.astype("<f4").tobytes()).decode() if as_base64 else v.tolist()}
                for i, v in enumerate(vectors)]
        return 200, {"object": "list", "data": data[::-1], "model": server.answered,  # any order: index says
                     "usage": {"prompt_tokens": 0, "total_tokens": 0}}

    def tokenize(payload: dict[str, Any]) -> tuple[int, Any]:
        ids = server.tokens(payload["content"]) if payload.get("add_special") else list(
            server.engine.tokenizer.encode(payload["content"], add_special_tokens=False).ids)
        return 200, {"tokens": ids}

    return {"/v1/models": models}, {"/v1/embeddings": embeddings, "/tokenize": tokenize}


def _ollama(server: EmbedServer) -> tuple[dict[str, Any], dict[str, Any]]:
    def tags() -> dict[str, Any]:
        return {"models": [{"name": server.quirks.served, "model": server.quirks.served}]}

    def embed(payload: dict[str, Any]) -> tuple[int, Any]:
        if payload.get("model", "").removesuffix(":latest") != server.quirks.served.removesuffix(":latest"):
            return 404, {"error": f"model \"{payload.get('model')}\" not found, try pulling it first"}
        inputs = payload["input"] if isinstance(payload["input"], list) else [payload["input"]]
        counts = [len(server.tokens(t)) for t in inputs]
        if payload.get("truncate") is False and max(counts) > server.num_ctx:
            return 400, {"error": "the input length exceeds the context length"}
        vectors = server.embed(inputs, server.num_ctx)  # silently cut at num_ctx otherwise
        return 200, {"model": server.answered, "embeddings": vectors.tolist(),
                     "prompt_eval_count": sum(min(c, server.num_ctx) for c in counts)}

    return {"/api/tags": tags}, {"/api/embed": embed}


_ROUTES = {"tei": _tei, "openai": _openai, "ollama": _ollama}


class Sleeps(list):
    """A backoff sleeper that records the waits it was asked for and returns at once."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def quiet_backoff(library: Library, sleeps: Sleeps | None = None) -> None:
    """A library that embeds on a server backs off into `sleeps` (a new recorder when None):
    retries come at once, and a test can read how long they would have waited."""
    if isinstance(library.embedder, QueryFallback):
        library.embedder.remote.sleep = sleeps if sleeps is not None else Sleeps()


def server_config(url: str, local_copy: Path | None, **changes: object) -> LibraryConfig:
    """A data folder's configuration that embeds on `url`, with `local_copy` as the model here."""
    return LibraryConfig(model_folder=str(local_copy) if local_copy else None, embed_on="server",
                         server_url=url).with_changes(**changes)
