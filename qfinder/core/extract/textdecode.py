"""Bytes to text: BOMs, strict UTF-8, a declared charset, then charset-normalizer.

Binary files that pretend to be text (NUL bytes, many control characters, no plausible
encoding) raise ``ExtractionError("binary file")``; their names stay searchable.
"""

from __future__ import annotations

import codecs

import charset_normalizer

from qfinder.core.errors import ExtractionError
from qfinder.core.extract.model import BinaryFileError

_BOMS = (  # UTF-32 first: its little-endian BOM begins with UTF-16's
    (codecs.BOM_UTF32_LE, "utf-32-le", "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32-be", "utf-32"),
    (codecs.BOM_UTF8, "utf-8", "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16-le", "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16-be", "utf-16"),
)
_SNIFF_BYTES = 1024 * 1024  # charset-normalizer reads a sample, then the whole file is decoded
_ALLOWED_CONTROLS = frozenset("\t\n\r\f\v\x1b")
_MAX_CONTROL_RATIO = 0.05
BINARY = "binary file"
_PREFERRED = "cp1252"


def decode_bytes(
    data: bytes, complete: bool = True, declared: str | None = None
) -> tuple[str, str]:
    """Decode ``data`` and return (text, encoding name). ``complete=False``: data was cut short,
    so a multi-byte character split at the end is dropped instead of failing strict UTF-8."""
    for bom, codec, name in _BOMS:
        if data.startswith(bom):
            return _decode(data[len(bom) :], codec, complete, "replace"), name
    if b"\x00" in data:
        utf16 = _utf16_without_bom(data, complete)
        if utf16 is None:
            raise BinaryFileError(BINARY)
        return utf16
    for codec in ("utf-8", declared or ""):
        if codec:
            try:
                return _checked(_decode(data, codec, complete, "strict")), _normal(codec)
            except (UnicodeDecodeError, LookupError):
                continue
    return _detect(data, complete)


def _decode(data: bytes, codec: str, complete: bool, errors: str) -> str:
    decoder = codecs.getincrementaldecoder(codec)(errors=errors)
    return decoder.decode(data, final=complete)


def _normal(codec: str) -> str:
    return codecs.lookup(codec).name


def _checked(text: str) -> str:
    """Reject text whose sample is full of control characters (a binary format in disguise)."""
    sample = text[:65536]
    if sample:
        controls = sum(1 for ch in sample if _is_control(ch))
        if controls / len(sample) > _MAX_CONTROL_RATIO:
            raise BinaryFileError(BINARY)
    return text


def _is_control(ch: str) -> bool:
    """C0 controls other than whitespace/escape, DEL and the C1 block: never in real text."""
    return (ch < " " and ch not in _ALLOWED_CONTROLS) or "\x7f" <= ch <= "\x9f"


def _utf16_without_bom(data: bytes, complete: bool) -> tuple[str, str] | None:
    """Plain ASCII-range text in UTF-16 without a BOM has every other byte NUL."""
    head = data[:4096]
    if len(head) < 4:
        return None
    for codec, zeros in (("utf-16-le", head[1::2]), ("utf-16-be", head[0::2])):
        if zeros.count(0) >= 0.9 * len(zeros):
            try:
                return _checked(_decode(data, codec, complete, "strict")), codec
            except (UnicodeDecodeError, ExtractionError):
                return None
    return None


def _detect(data: bytes, complete: bool) -> tuple[str, str]:
    matches = charset_normalizer.from_bytes(data[:_SNIFF_BYTES])
    best = matches.best()
    if best is None:
        raise BinaryFileError(BINARY)
    codec = best.encoding
    # Single-byte Western texts often score the same in cp1250/cp1252/cp1257: prefer the
    # commonest (Windows-1252, a superset of printable Latin-1) when it ties with the winner.
    for match in matches:
        tie = (match.chaos, match.coherence) == (best.chaos, best.coherence)
        if tie and _PREFERRED in match.could_be_from_charset:
            codec = _PREFERRED
            break
    return _checked(_decode(data, codec, complete, "replace")), _normal(codec)
