"""One writer per data folder: an OS file lock on ``<data dir>/write.lock``.

The lock is advisory and held by an open file descriptor, so the OS drops it when the holder
exits or is killed (no stale lock files to clean up after a crash). Readers never take it:
SQLite WAL lets `search`/`status` read while another process writes.

Public API::

    lock = WriteLock(data_dir)
    lock.acquire()            # raises WriterBusyError at once when another process holds it
    lock.held -> bool
    lock.release()
    with WriteLock(data_dir): ...
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from types import TracebackType

from qfinder.core.errors import QfinderError

log = logging.getLogger(__name__)

LOCK_NAME = "write.lock"


class WriterBusyError(QfinderError):
    """Another process is writing to the same data folder."""


def _try_lock(fd: int) -> bool:
    if os.name == "nt":  # pragma: no cover - exercised on Windows only
        import msvcrt

        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)  # type: ignore[attr-defined]
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


def _unlock(fd: int) -> None:
    if os.name == "nt":  # pragma: no cover
        import msvcrt

        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)  # type: ignore[attr-defined]
        return
    import fcntl

    fcntl.flock(fd, fcntl.LOCK_UN)


class WriteLock:
    def __init__(self, data_dir: Path) -> None:
        self.path = Path(data_dir) / LOCK_NAME
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> None:
        if self._fd is not None:
            return
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        if not _try_lock(fd):
            os.close(fd)
            raise WriterBusyError(
                f"another qfinder process is indexing {self.path.parent}",
                "Wait for it to finish or close the desktop app; searching still works meanwhile.",
            )
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())  # for people who look; not used to decide
        self._fd = fd
        log.debug("write lock taken: %s", self.path)

    def release(self) -> None:
        if self._fd is None:
            return
        try:
            _unlock(self._fd)
        finally:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> WriteLock:
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()
