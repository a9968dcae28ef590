"""HTTP/1.1 to one embedding server: keep-alive connections, one per thread, cancellable.

    transport = Transport("https://gpu.lan:8080", api_key="…", timeout_s=60)
    reply = transport.request("POST", "/embed", {"inputs": ["…"]})   # Reply(status, headers, json)
    transport.cancel()   # any thread: every request in flight fails at once (CancelledError)

Built on the standard library's http.client rather than httpx or requests: the client needs
exactly keep-alive, per-request timeouts, TLS with certificate verification (ssl's default
context, which also reads SSL_CERT_FILE) and a few requests in flight from a small thread pool
— all of which http.client gives with one connection per thread — and nothing of an async
stack. httpx itself is not installed by qfinder's dependencies (huggingface_hub 2.x ships its
own fork, `httpx2`, an implementation detail that may change), so depending on either would
add a dependency, or lean on someone else's. Proxies are not used: an embedding server is
normally on the same network.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import logging
import socket
import ssl
import threading
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from qfinder.core.errors import CancelledError
from qfinder.core.model.remote.errors import ServerRejected, ServerUnavailable
from qfinder.core.model.remote.urls import server_address

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Reply:
    status: int
    headers: dict[str, str]  # lower-case names
    body: bytes
    data: Any = field(default=None)  # the JSON body, None when it is not JSON

    def message(self) -> str:
        """The server's own words about an error, one line (TEI/OpenAI/Ollama error shapes)."""
        data = self.data
        if isinstance(data, dict):
            error = data.get("error", data.get("message", data.get("detail")))
            if isinstance(error, dict):
                error = error.get("message", error)
            if error:
                return str(error).splitlines()[0][:300]
        return self.body.decode("utf-8", "replace").strip().splitlines()[0][:300] if self.body.strip() else ""


def _decoded(body: bytes) -> Any:
    try:
        return json.loads(body) if body else None
    except ValueError:
        return None


class Transport:
    def __init__(self, url: str, api_key: str | None = None, timeout_s: float = 60.0,
                 context: ssl.SSLContext | None = None) -> None:
        parts = urlsplit(url.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ServerRejected(f"'{url}' is not a server address.",
                                 "Use http://host:port or https://host:port.")
        self.url = server_address(url)
        self._https = parts.scheme == "https"
        self._host = parts.hostname
        self._port = parts.port
        self._base = parts.path.rstrip("/")
        self._api_key = api_key
        self.timeout_s = timeout_s
        self._context = context or ssl.create_default_context()
        self._local = threading.local()
        self._open: set[http.client.HTTPConnection] = set()
        self._lock = threading.Lock()
        self._cancelled = threading.Event()
        # TCP connections opened so far: a new one may reach a server restarted with another
        # model, so the embedder checks its probe again when this moved (qfinder.core.model.remote.embedder)
        self.opened = 0

    def request(self, method: str, path: str, payload: Any = None, timeout_s: float | None = None) -> Reply:
        """One request; a kept-alive connection the server closed meanwhile is retried once on a
        fresh one. Connection failures and timeouts raise ServerUnavailable."""
        body = None if payload is None else json.dumps(payload).encode("utf-8")
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        for fresh in (False, True):
            self._raise_if_cancelled()
            conn, reused = self._connection(timeout_s or self.timeout_s, fresh)
            try:
                conn.request(method, self._base + path, body=body, headers=headers)
                response = conn.getresponse()
                data = response.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError) as exc:
                self._drop(conn)
                if reused and not fresh:
                    continue  # closed while idle, or the server restarted: one more try
                raise self._unreachable(exc) from exc
            except (OSError, http.client.HTTPException) as exc:
                self._drop(conn)
                raise self._unreachable(exc) from exc
            if response.will_close:
                self._drop(conn)
            reply_headers = {k.lower(): v for k, v in response.getheaders()}
            return Reply(response.status, reply_headers, data, _decoded(data))
        raise AssertionError("unreachable")  # the loop returns or raises

    def _connection(self, timeout_s: float, fresh: bool) -> tuple[http.client.HTTPConnection, bool]:
        conn: http.client.HTTPConnection | None = getattr(self._local, "conn", None)
        if conn is not None and not fresh:
            conn.timeout = timeout_s
            if conn.sock is not None:
                conn.sock.settimeout(timeout_s)
            return conn, True
        if conn is not None:
            self._drop(conn)
        if self._https:
            conn = http.client.HTTPSConnection(self._host, self._port, timeout=timeout_s, context=self._context)
        else:
            conn = http.client.HTTPConnection(self._host, self._port, timeout=timeout_s)
        try:
            conn.connect()
        except OSError as exc:
            conn.close()
            raise self._unreachable(exc) from exc
        if conn.sock is not None:  # small requests go out at once (no Nagle + delayed-ACK 40 ms)
            conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._local.conn = conn
        with self._lock:
            self._open.add(conn)
            self.opened += 1
        return conn, False

    def _drop(self, conn: http.client.HTTPConnection) -> None:
        with self._lock:
            self._open.discard(conn)
        if getattr(self._local, "conn", None) is conn:
            self._local.conn = None
        conn.close()

    def _unreachable(self, exc: BaseException) -> Exception:
        if self._cancelled.is_set():
            return CancelledError("Embedding was cancelled.")
        if isinstance(exc, ssl.SSLCertVerificationError):
            return ServerRejected(f"The certificate of {self.url} could not be verified ({exc.verify_message}).",
                                  "Install the server's certificate authority (SSL_CERT_FILE) or fix its certificate.")
        what = "timed out" if isinstance(exc, (socket.timeout, TimeoutError)) else (str(exc) or type(exc).__name__)
        return ServerUnavailable(f"The embedding server at {self.url} is unreachable ({what}).",
                                 "Check that it is running and reachable from this computer.")

    def cancel(self) -> None:
        """Any thread: fail the requests in flight now and every later one until reset()."""
        self._cancelled.set()
        with self._lock:
            conns = list(self._open)
        for conn in conns:
            sock = conn.sock
            if sock is not None:
                with contextlib.suppress(OSError):  # already closed
                    sock.shutdown(socket.SHUT_RDWR)  # wakes a thread blocked in recv at once

    def reset(self) -> None:
        self._cancelled.clear()

    def _raise_if_cancelled(self) -> None:
        if self._cancelled.is_set():
            raise CancelledError("Embedding was cancelled.")

    def close(self) -> None:
        with self._lock:
            conns, self._open = list(self._open), set()
        for conn in conns:
            conn.close()
