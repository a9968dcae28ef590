"""Text-like formats read in this process: text, Markdown, code, CSV, JSON, HTML, EML.

All reads are bounded by ``ExtractLimits.max_text_bytes``; files are opened non-blocking and
checked with ``fstat`` so a FIFO or device is never read.
"""

from __future__ import annotations

import email
import email.policy
import os
import stat
from email.message import EmailMessage, Message

from qfinder.core.errors import ExtractionError
from qfinder.core.extract.html_text import declared_charset, html_to_text
from qfinder.core.extract.model import ExtractLimits
from qfinder.core.extract.textdecode import decode_bytes

_HEADERS = ("Subject", "From", "To", "Cc", "Date")


def open_regular(path: str) -> int:
    """Open for reading without blocking (FIFOs) and refuse anything but a regular file."""
    flags = (
        os.O_RDONLY
        | getattr(os, "O_NONBLOCK", 0)
        | getattr(os, "O_BINARY", 0)
        | getattr(os, "O_CLOEXEC", 0)
    )
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise ExtractionError(_os_reason(exc)) from exc
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise ExtractionError("not a regular file (FIFO, socket or device)")
    return fd


def _os_reason(exc: OSError) -> str:
    if isinstance(exc, PermissionError):
        return "permission denied"
    if isinstance(exc, FileNotFoundError):
        return "file not found"
    return f"cannot open: {exc.strerror or exc}"


def read_bounded(path: str, limit: int) -> tuple[bytes, bool]:
    """Up to ``limit`` bytes of the file and whether that was the whole file."""
    fd = open_regular(path)
    with os.fdopen(fd, "rb") as handle:
        data = handle.read(limit + 1)
    return data[:limit], len(data) <= limit


def extract_plain(path: str, kind: str, limits: ExtractLimits) -> tuple[str, str | None]:
    """(text, encoding) of a text-like file."""
    data, complete = read_bounded(path, limits.max_text_bytes)
    if kind == "eml":
        return eml_to_text(data), None
    declared = declared_charset(data) if kind == "html" else None
    text, encoding = decode_bytes(data, complete, declared)
    if kind == "html":
        text = html_to_text(text)
    return text, encoding


def eml_to_text(data: bytes) -> str:
    """Subject/From/To/Cc/Date headers, then the text parts (HTML parts when there is no plain)."""
    message = email.message_from_bytes(data, policy=email.policy.default)
    header_lines = [f"{name}: {message[name]}" for name in _HEADERS if message[name]]
    plain, html = [], []
    for part in message.walk():
        if part.is_multipart() or part.is_attachment():
            continue
        content_type = part.get_content_type()
        if content_type == "text/plain":
            plain.append(_part_text(part))
        elif content_type == "text/html":
            html.append(html_to_text(_part_text(part)))
    body = plain or html
    return "\n".join(header_lines) + "\n\n" + "\n\n".join(p.strip() for p in body)


def _part_text(part: Message) -> str:
    try:
        if isinstance(part, EmailMessage):
            content = part.get_content()
            if isinstance(content, str):
                return content
    except (LookupError, UnicodeError, ValueError):
        pass  # unknown or lying charset: fall back to detection below
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    try:
        return decode_bytes(payload)[0]
    except ExtractionError:
        return ""
