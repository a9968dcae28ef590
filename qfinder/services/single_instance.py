"""One qfinder window per data folder: a second start hands its folders to the first.

    instance = SingleInstance(data_dir)
    if not instance.claim(folders):      # another window runs: it got our folders and comes forward
        return 0
    instance.activated.connect(window.bring_forward_and_add)   # tuple[str, ...] of folders

Who is first is decided by an OS file lock (`window.lock`, the same mechanism as the writer lock
of qfinder.core.library.writelock, which the engine itself takes), not by the socket: the lock is
dropped by the OS when a process dies, while a crashed server can leave a stale socket file. The lock holder removes any stale socket and listens; everyone else
connects and sends one line of JSON: {"folders": [...], "raise": true}.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import logging
import os
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket

from qfinder.core.library.writelock import WriteLock, WriterBusyError

log = logging.getLogger(__name__)

CONNECT_MS = 1000
INSTANCE_LOCK = "window.lock"


def server_name(data_dir: Path) -> str:
    """A per-user, per-data-folder socket name (short: Unix socket paths are limited)."""
    key = f"{getpass.getuser()}:{os.path.abspath(data_dir)}".encode()
    return "qfinder-" + hashlib.sha256(key).hexdigest()[:16]


class SingleInstance(QObject):
    activated = Signal(object)  # tuple[str, ...]: folders a second start asked to add

    def __init__(self, data_dir: Path, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.data_dir = Path(data_dir)
        self.name = server_name(self.data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.lock = WriteLock(self.data_dir)
        self.lock.path = self.data_dir / INSTANCE_LOCK  # not write.lock: the engine takes that one
        self._server: QLocalServer | None = None

    @property
    def primary(self) -> bool:
        return self._server is not None

    def claim(self, folders: Sequence[str] = ()) -> bool:
        """True: we are the one instance (we hold the writer lock and listen).

        False: another instance runs; it has been sent `folders` and asked to come forward.
        Raises WriterBusyError when another window holds the lock but does not answer. (A
        `qfinder-cli index` run holds write.lock instead: the engine reports that as an error.)
        """
        if self._send(folders):
            return False
        try:
            self.lock.acquire()
        except WriterBusyError:
            if self._send(folders):  # the other one was just starting its server
                return False
            raise
        self._listen()
        return True

    def _send(self, folders: Sequence[str]) -> bool:
        socket = QLocalSocket()
        socket.connectToServer(self.name)
        if not socket.waitForConnected(CONNECT_MS):
            return False
        message = json.dumps({"folders": [os.path.abspath(f) for f in folders], "raise": True})
        socket.write((message + "\n").encode())
        socket.waitForBytesWritten(CONNECT_MS)
        socket.disconnectFromServer()
        if socket.state() != QLocalSocket.LocalSocketState.UnconnectedState:
            socket.waitForDisconnected(CONNECT_MS)
        log.info("handed %d folder(s) to the running qfinder", len(folders))
        return True

    def _listen(self) -> None:
        QLocalServer.removeServer(self.name)  # a stale socket of a crashed instance
        server = QLocalServer(self)
        server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        if not server.listen(self.name):
            log.warning("cannot listen for other qfinder starts: %s", server.errorString())
            return
        server.newConnection.connect(self._accept)
        self._server = server

    def _accept(self) -> None:
        assert self._server is not None
        while self._server.hasPendingConnections():
            socket = self._server.nextPendingConnection()
            buffer = bytearray()

            def read(socket: QLocalSocket = socket, buffer: bytearray = buffer) -> None:
                buffer.extend(bytes(socket.readAll().data()))
                if b"\n" in buffer:
                    self._handle(bytes(buffer).split(b"\n", 1)[0])
                    socket.disconnectFromServer()

            socket.readyRead.connect(read)
            if socket.bytesAvailable():
                read()

    def _handle(self, line: bytes) -> None:
        try:
            message = json.loads(line)
            folders = tuple(str(f) for f in message.get("folders", ()))
        except (ValueError, AttributeError, TypeError):
            log.warning("ignoring a malformed message from another qfinder start")
            return
        self.activated.emit(folders)

    def close(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        self.lock.release()
