"""Checks on zip-based documents (OOXML, ODF, EPUB) before anything is inflated.

Zip bombs: too many members, too much declared uncompressed data, or a compression ratio no
real document has. Python's ``zipfile`` never inflates past a member's declared size, so
checking declared sizes bounds what the parsers can read. Entity bombs: OOXML and ODF never
carry a DTD, so any ``<!DOCTYPE``/``<!ENTITY`` in their XML parts is refused outright. EPUB 2
chapters do carry a public XHTML DOCTYPE, so there only entity declarations and internal DTD
subsets (``<!DOCTYPE html [ … ]>``, where declarations live) are refused.
"""

from __future__ import annotations

import re
import zipfile

from qfinder.core.errors import ExtractionError
from qfinder.core.extract.model import ExtractLimits, human_size

_MiB = 1024 * 1024
_RATIO_FLOOR_BYTES = _MiB  # small members may compress extremely well; judge ratios above this
_XML_SUFFIXES = (".xml", ".rels", ".xhtml", ".opf", ".ncx", ".html", ".htm")
_PROLOG_BYTES = 64 * 1024
ENTITY_REASON = "XML with entity declarations refused (possible entity bomb)"
_ANY_DTD = re.compile(rb"<!ENTITY|<!DOCTYPE")
_DECLARATIONS = re.compile(rb"<!ENTITY|<!DOCTYPE[^>\[]*\[")  # an internal subset opens with "["


def open_checked(path: str, limits: ExtractLimits) -> zipfile.ZipFile:
    """Open a zip-based document after the bomb checks; raise ExtractionError otherwise."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise ExtractionError(f"not a valid zip-based document ({exc})") from exc
    try:
        check_members(archive, limits)
    except ExtractionError:
        archive.close()
        raise
    return archive


def check_members(archive: zipfile.ZipFile, limits: ExtractLimits) -> None:
    infos = archive.infolist()
    if len(infos) > limits.max_zip_members:
        raise ExtractionError(
            f"zip bomb suspected: {len(infos)} members (limit {limits.max_zip_members})"
        )
    total = sum(info.file_size for info in infos)
    packed = sum(info.compress_size for info in infos)
    if total > limits.max_zip_uncompressed:
        limit = limits.max_zip_uncompressed
        raise ExtractionError(
            f"zip bomb suspected: {human_size(total)} uncompressed (limit {human_size(limit)})"
        )
    for info in infos:
        if info.flag_bits & 0x1:
            raise ExtractionError("encrypted (password-protected) document")
        if info.file_size > _RATIO_FLOOR_BYTES and info.file_size > limits.max_zip_ratio * max(
            info.compress_size, 1
        ):
            raise ExtractionError(
                f"zip bomb suspected: {info.filename} expands {info.file_size // max(info.compress_size, 1)}x"
            )
    if total > _RATIO_FLOOR_BYTES and total > limits.max_zip_ratio * max(packed, 1):
        raise ExtractionError(f"zip bomb suspected: archive expands {total // max(packed, 1)}x")


def refuse_dtds(archive: zipfile.ZipFile, public_doctype_ok: bool = False) -> None:
    """Refuse packages whose XML parts declare a DTD or entities (OOXML/ODF), or, with
    `public_doctype_ok` (EPUB), entities or an internal DTD subset."""
    refused = _DECLARATIONS if public_doctype_ok else _ANY_DTD
    for info in archive.infolist():
        if info.filename.lower().endswith(_XML_SUFFIXES):
            with archive.open(info) as member:
                prolog = member.read(_PROLOG_BYTES)
            if refused.search(prolog):
                raise ExtractionError(ENTITY_REASON)
