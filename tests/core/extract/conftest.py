"""Document builders for the extraction tests: every fixture is made at run time, nothing binary
is committed. PDFs (plain and RC4-encrypted, PDF 1.4 standard security handler R2) are written
by hand; Office files with python-docx/python-pptx/openpyxl; ODT and EPUB as hand-made zips."""

from __future__ import annotations

import hashlib
import struct
import zipfile
from pathlib import Path
from types import SimpleNamespace

import pytest

from qfinder.core.extract import ChildExtractor

_PAD = bytes.fromhex("28BF4E5E4E758A4164004E56FFFA01082E2E00B6D0683E802F0CA9FE6453697A")
_DOC_ID = bytes.fromhex("00112233445566778899aabbccddeeff")


def rc4(key: bytes, data: bytes) -> bytes:
    box = list(range(256))
    j = 0
    for i in range(256):
        j = (j + box[i] + key[i % len(key)]) % 256
        box[i], box[j] = box[j], box[i]
    out, i, j = bytearray(), 0, 0
    for byte in data:
        i = (i + 1) % 256
        j = (j + box[i]) % 256
        box[i], box[j] = box[j], box[i]
        out.append(byte ^ box[(box[i] + box[j]) % 256])
    return bytes(out)


def _padded(password: str) -> bytes:
    return (password.encode("latin-1") + _PAD)[:32]


def _security(user: str, owner: str) -> tuple[bytes, bytes, bytes, int]:
    """(file key, /O, /U, /P) of the standard security handler, revision 2, 40-bit RC4."""
    permissions = -4
    owner_entry = rc4(hashlib.md5(_padded(owner)).digest()[:5], _padded(user))
    digest = hashlib.md5(_padded(user) + owner_entry + struct.pack("<i", permissions) + _DOC_ID)
    key = digest.digest()[:5]
    return key, owner_entry, rc4(key, _PAD), permissions


def pdf_bytes(pages: list[str], user_password: str | None = None) -> bytes:
    """A valid PDF with one line of Helvetica text per page, optionally RC4-encrypted."""
    key = None
    objects: dict[int, bytes] = {}
    n = len(pages)
    kids = " ".join(f"{4 + 2 * i} 0 R" for i in range(n))
    objects[1] = b"<< /Type /Catalog /Pages 2 0 R >>"
    objects[2] = f"<< /Type /Pages /Kids [{kids}] /Count {n} >>".encode()
    objects[3] = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"
    trailer_extra = b""
    if user_password is not None:
        key, owner_entry, user_entry, perms = _security(user_password, "owner-secret")
        enc = n * 2 + 4
        objects[enc] = (
            f"<< /Filter /Standard /V 1 /R 2 /Length 40 /O <{owner_entry.hex()}> "
            f"/U <{user_entry.hex()}> /P {perms} >>"
        ).encode()
        trailer_extra = f" /Encrypt {enc} 0 R".encode()
    for i, text in enumerate(pages):
        page_no, content_no = 4 + 2 * i, 5 + 2 * i
        objects[page_no] = (
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
            f"/Resources << /Font << /F1 3 0 R >> >> /Contents {content_no} 0 R >>"
        ).encode()
        safe = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        stream = f"BT /F1 12 Tf 72 712 Td ({safe}) Tj ET".encode("latin-1")
        if key is not None:
            object_key = hashlib.md5(key + struct.pack("<I", content_no)[:3] + b"\0\0").digest()[
                :10
            ]
            stream = rc4(object_key, stream)
        objects[content_no] = b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream"
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = {}
    for number in sorted(objects):
        offsets[number] = len(out)
        out += b"%d 0 obj\n" % number + objects[number] + b"\nendobj\n"
    xref_at = len(out)
    size = max(objects) + 1
    out += b"xref\n0 %d\n0000000000 65535 f \n" % size
    for number in range(1, size):
        out += b"%010d 00000 n \n" % offsets[number]
    ids = f"/ID [<{_DOC_ID.hex()}> <{_DOC_ID.hex()}>]".encode()
    out += b"trailer\n<< /Size %d /Root 1 0 R " % size + ids + trailer_extra + b" >>\n"
    out += b"startxref\n%d\n%%%%EOF\n" % xref_at
    return bytes(out)


def write_zip(path: Path, members: dict[str, bytes | str], stored_first: str | None = None) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        if stored_first:
            archive.writestr(
                zipfile.ZipInfo(stored_first), members.pop(stored_first), zipfile.ZIP_STORED
            )
        for name, data in members.items():
            archive.writestr(name, data)
    return path


ODT_CONTENT = """<?xml version="1.0" encoding="UTF-8"?>
<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"
  xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">
<office:body><office:text>
<text:h text:outline-level="1">Quarterly Report</text:h>
<text:p>Revenue grew<text:s text:c="2"/>strongly<text:tab/>this year.</text:p>
<text:p>Second<text:line-break/>line</text:p>
</office:text></office:body></office:document-content>"""


def make_odt(path: Path, content: str = ODT_CONTENT) -> Path:
    return write_zip(
        path,
        {"mimetype": "application/vnd.oasis.opendocument.text", "content.xml": content},
        stored_first="mimetype",
    )


def make_epub(path: Path, chapters: list[str]) -> Path:
    container = """<?xml version="1.0"?>
<container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">
<rootfiles><rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/></rootfiles>
</container>"""
    items = "".join(
        f'<item id="c{i}" href="chap%20{i}.xhtml" media-type="application/xhtml+xml"/>'
        for i in range(len(chapters))
    )
    spine = "".join(f'<itemref idref="c{i}"/>' for i in reversed(range(len(chapters))))
    opf = f"""<?xml version="1.0"?>
<package xmlns="http://www.idpf.org/2007/opf" version="3.0" unique-identifier="id">
<metadata/><manifest>{items}</manifest><spine>{spine}</spine></package>"""
    members: dict[str, bytes | str] = {
        "mimetype": "application/epub+zip",
        "META-INF/container.xml": container,
        "OEBPS/content.opf": opf,
    }
    for i, body in enumerate(chapters):
        members[f"OEBPS/chap {i}.xhtml"] = (
            '<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE html>\n'
            f'<html xmlns="http://www.w3.org/1999/xhtml"><head><title>t</title>'
            f"<style>p {{color: red}}</style></head><body><p>{body}</p></body></html>"
        )
    return write_zip(path, members, stored_first="mimetype")


@pytest.fixture(scope="module")
def child() -> ChildExtractor:
    """One extractor process per test module (as the indexer reuses one)."""
    extractor = ChildExtractor()
    yield extractor
    extractor.close()


@pytest.fixture(scope="session")
def build() -> SimpleNamespace:
    """The builders above, for test modules (a conftest cannot be imported by name)."""
    return SimpleNamespace(
        pdf_bytes=pdf_bytes,
        make_odt=make_odt,
        make_epub=make_epub,
        write_zip=write_zip,
    )
