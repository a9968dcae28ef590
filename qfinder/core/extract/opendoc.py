"""ODT and EPUB through zipfile + defusedxml (no entity expansion, no external references).
Run inside the extractor child process only."""

from __future__ import annotations

import posixpath
import zipfile
from typing import Any
from urllib.parse import unquote

import defusedxml
import defusedxml.ElementTree as SafeET

from qfinder.core.errors import ExtractionError
from qfinder.core.extract.builder import TextBuilder
from qfinder.core.extract.html_text import html_to_text
from qfinder.core.extract.model import ExtractLimits
from qfinder.core.extract.textdecode import decode_bytes
from qfinder.core.extract.ziputil import ENTITY_REASON, open_checked, refuse_dtds

_TEXT_NS = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"
_PARAGRAPHS = {f"{{{_TEXT_NS}}}p", f"{{{_TEXT_NS}}}h"}
_SPACE, _TAB, _BREAK = (f"{{{_TEXT_NS}}}{name}" for name in ("s", "tab", "line-break"))
_CONTAINER_NS = "{urn:oasis:names:tc:opendocument:xmlns:container}"
_OPF_NS = "{http://www.idpf.org/2007/opf}"


def _parse_xml(data: bytes) -> Any:
    try:
        return SafeET.fromstring(data)
    except defusedxml.DefusedXmlException as exc:
        raise ExtractionError(ENTITY_REASON) from exc
    except SafeET.ParseError as exc:
        raise ExtractionError(f"corrupt XML ({exc})") from exc


def _member(archive: zipfile.ZipFile, name: str) -> bytes:
    try:
        return archive.read(name)
    except KeyError as exc:
        raise ExtractionError(f"not a valid document: {name} is missing") from exc


def extract_odt(path: str, limits: ExtractLimits, out: TextBuilder) -> None:
    with open_checked(path, limits) as archive:
        refuse_dtds(archive)
        root = _parse_xml(_member(archive, "content.xml"))
    parts: list[str] = []
    _odf_text(root, parts)
    for paragraph in "".join(parts).split("\n"):
        out.add_block(paragraph)
        if out.full:
            return


def _odf_text(element: Any, parts: list[str]) -> None:
    """Text of an ODF element: spaces, tabs and breaks expanded; a newline after each paragraph."""
    tag = element.tag
    if tag == _SPACE:
        parts.append(" " * int(element.get(f"{{{_TEXT_NS}}}c", "1") or 1))
    elif tag == _TAB:
        parts.append("\t")
    elif tag == _BREAK:
        parts.append("\n")
    if element.text:
        parts.append(element.text)
    for child in element:
        _odf_text(child, parts)
        if child.tail:
            parts.append(child.tail)
    if tag in _PARAGRAPHS:
        parts.append("\n")


def extract_epub(path: str, limits: ExtractLimits, out: TextBuilder) -> None:
    with open_checked(path, limits) as archive:
        refuse_dtds(archive, public_doctype_ok=True)  # as for ODT: html.parser would read a DTD as text
        for name in _spine(archive):
            try:
                markup, _ = decode_bytes(archive.read(name))
            except (KeyError, ExtractionError):
                continue  # a missing or binary spine item: skip it, keep the rest of the book
            out.add_block(html_to_text(markup, with_head=False))
            if out.full:
                return


def _spine(archive: zipfile.ZipFile) -> list[str]:
    """Content documents in reading order, from META-INF/container.xml and the OPF."""
    container = _parse_xml(_member(archive, "META-INF/container.xml"))
    rootfile = container.find(f".//{_CONTAINER_NS}rootfile")
    if rootfile is None or not rootfile.get("full-path"):
        raise ExtractionError("not a valid EPUB: no package document")
    opf_path = rootfile.get("full-path")
    opf = _parse_xml(_member(archive, opf_path))
    base = posixpath.dirname(opf_path)
    hrefs = {item.get("id"): item.get("href") for item in opf.iter(f"{_OPF_NS}item")}
    order = [hrefs.get(ref.get("idref")) for ref in opf.iter(f"{_OPF_NS}itemref")]
    return [posixpath.normpath(posixpath.join(base, unquote(href))) for href in order if href]
