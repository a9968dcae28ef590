"""Parent side of the extractor child process: reuse one process, enforce the time limit.

A ``ChildExtractor`` keeps one ``python -m qfinder.core.extract.child`` process alive between
files (start-up and imports are paid once). A request that outlives ``time_limit_s`` gets the
process killed; a process that dies mid-request (segfault, abort, kernel OOM kill) is reaped.
Either way the file gets an ``ExtractionError`` with the reason, and the next request starts a
fresh process. Requests on one instance are serialised by a lock; create several instances to
extract in parallel.
"""

from __future__ import annotations

import atexit
import json
import queue
import signal
import subprocess
import sys
import threading
from typing import IO, Any

from qfinder.core.errors import ExtractionError
from qfinder.core.extract.model import ExtractLimits, Pages

_EOF = b""
STARTUP_TIMEOUT_S = 60.0


class ChildExtractor:
    """One reusable extractor process (started lazily, restarted after a kill or crash)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._proc: subprocess.Popen[bytes] | None = None
        self._replies: queue.Queue[bytes] = queue.Queue()
        self._memory_bytes = -1
        self.started = 0  # processes started so far (tests and diagnostics)

    def extract(
        self, path: str, kind: str, limits: ExtractLimits
    ) -> tuple[str, Pages | None, bool]:
        """(text, pages, truncated) of ``path`` extracted as ``kind`` in the child process."""
        request = json.dumps({"path": path, "kind": kind, "limits": limits.as_dict()}) + "\n"
        with self._lock:
            proc = self._ensure(limits.memory_limit_bytes)
            try:
                assert proc.stdin is not None
                proc.stdin.write(request.encode("ascii"))
                proc.stdin.flush()
            except OSError:
                raise ExtractionError(self._crash_reason(limits)) from None
            try:
                line = self._replies.get(timeout=limits.time_limit_s)
            except queue.Empty:
                self._stop()
                raise ExtractionError(
                    f"extraction timed out after {limits.time_limit_s:g} s"
                ) from None
            if line == _EOF:
                raise ExtractionError(self._crash_reason(limits))
        return _decode_reply(line)

    @property
    def pid(self) -> int | None:
        """The live child's process id, if one is running."""
        return self._proc.pid if self._proc is not None and self._proc.poll() is None else None

    def close(self) -> None:
        with self._lock:
            self._stop()

    def _ensure(self, memory_bytes: int) -> subprocess.Popen[bytes]:
        alive = self._proc is not None and self._proc.poll() is None
        if alive and memory_bytes == self._memory_bytes:
            assert self._proc is not None
            return self._proc
        self._stop()
        command = [
            sys.executable,
            "-m",
            "qfinder.core.extract.child",
            "--memory-bytes",
            str(memory_bytes),
        ]
        proc = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, close_fds=True
        )
        self._proc, self._memory_bytes = proc, memory_bytes
        self._replies = queue.Queue()  # a fresh queue: nothing of a dead process can leak in
        assert proc.stdout is not None
        reader = threading.Thread(
            target=_pump,
            args=(proc.stdout, self._replies),
            daemon=True,
            name="qfinder-extract-reader",
        )
        reader.start()
        self.started += 1
        self._await_ready()
        return proc

    def _await_ready(self) -> None:
        """Wait for the child's imports, so start-up time is not charged to a file's time limit."""
        try:
            line = self._replies.get(timeout=STARTUP_TIMEOUT_S)
        except queue.Empty:
            line = _EOF
        if line == _EOF or not json.loads(line).get("ready"):
            self._stop()
            raise ExtractionError("the extractor process failed to start")

    def _stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        for stream in (proc.stdin, proc.stdout):
            if stream is not None:
                stream.close()

    def _crash_reason(self, limits: ExtractLimits) -> str:
        proc, code = self._proc, None
        if proc is not None:
            code = proc.wait()
        self._stop()
        if code is not None and code < 0:
            name = _signal_name(-code)
            if -code in (signal.SIGABRT, signal.SIGKILL) or name == "SIGBUS":
                cap = limits.memory_limit_bytes // 2**20
                return f"extractor crashed ({name}); it may have hit the {cap} MiB memory cap"
            return f"extractor crashed ({name})"
        return f"extractor exited unexpectedly (code {code})"


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def _pump(stream: IO[bytes], replies: queue.Queue[bytes]) -> None:
    """Reader thread: child stdout lines to the queue, then EOF."""
    try:
        for line in stream:
            replies.put(line)
    except (OSError, ValueError):
        pass  # stream closed under us by _stop()
    replies.put(_EOF)


def _decode_reply(line: bytes) -> tuple[str, Pages | None, bool]:
    reply: dict[str, Any] = json.loads(line)
    if not reply.get("ok"):
        raise ExtractionError(str(reply.get("reason") or "extraction failed"))
    pages = tuple((int(offset), int(number)) for offset, number in reply["pages"]) or None
    return reply["text"], pages, bool(reply["truncated"])


_default: ChildExtractor | None = None
_default_lock = threading.Lock()


def default_extractor() -> ChildExtractor:
    """The process-wide shared extractor (closed at exit)."""
    global _default
    with _default_lock:
        if _default is None:
            _default = ChildExtractor()
            atexit.register(_default.close)
        return _default
