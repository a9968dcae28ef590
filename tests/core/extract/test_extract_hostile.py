"""Hostile and awkward files: zip bombs, entity bombs, hangs, crashes, memory blow-ups, FIFOs,
unreadable files, files changing while read. Each asserts the recorded reason."""

from __future__ import annotations

import io
import json
import os
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import docx
import pytest

import qfinder.core.extract as extract_api
from qfinder.core.errors import ExtractionError
from qfinder.core.extract import ChildExtractor, ExtractLimits, FileChangedError, extract_text
from qfinder.core.extract.child import TEST_KINDS_ENV
from qfinder.core.extract.ziputil import ENTITY_REASON

LAUGHS = (
    '<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'
        for i in range(1, 10)
    )
    + "]>\n"
)


def reason_of(path: Path, child: ChildExtractor, limits: ExtractLimits | None = None) -> str:
    with pytest.raises(ExtractionError) as caught:
        extract_text(path, limits or ExtractLimits(), extractor=child)
    return caught.value.message


def test_zip_bomb_by_ratio(tmp_path: Path, child: ChildExtractor, build: SimpleNamespace) -> None:
    path = build.write_zip(
        tmp_path / "bomb.docx",
        {"[Content_Types].xml": "<Types/>", "word/document.xml": bytes(40 * 2**20)},
    )
    assert os.path.getsize(path) < 100_000
    assert reason_of(path, child).startswith("zip bomb suspected: word/document.xml expands")


def test_zip_bomb_by_size_and_member_count(
    tmp_path: Path, child: ChildExtractor, build: SimpleNamespace
) -> None:
    members = {f"OEBPS/{i}.xhtml": os.urandom(2000) for i in range(30)}
    path = build.write_zip(tmp_path / "many.epub", members)
    assert (
        reason_of(path, child, ExtractLimits(max_zip_members=20))
        == "zip bomb suspected: 30 members (limit 20)"
    )
    limits = ExtractLimits(max_zip_uncompressed=50_000)
    assert (
        reason_of(path, child, limits) == "zip bomb suspected: 59 KiB uncompressed (limit 49 KiB)"
    )


def _docx_with_document_xml(tmp_path: Path, transform) -> Path:
    source = tmp_path / "source.docx"
    document = docx.Document()
    document.add_paragraph("harmless")
    document.save(str(source))
    target = tmp_path / "bomb.docx"
    with (
        zipfile.ZipFile(source) as original,
        zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as rewritten,
    ):
        for info in original.infolist():
            data = original.read(info)
            rewritten.writestr(
                info.filename, transform(data) if info.filename == "word/document.xml" else data
            )
    return target


def test_billion_laughs_in_docx(tmp_path: Path, child: ChildExtractor) -> None:
    def add_bomb(xml: bytes) -> bytes:
        body = xml.split(b"?>", 1)[1].replace(b"harmless", b"&lol9;")
        return LAUGHS.encode() + body

    assert reason_of(_docx_with_document_xml(tmp_path, add_bomb), child) == ENTITY_REASON


def test_billion_laughs_and_external_entity_in_odt(
    tmp_path: Path, child: ChildExtractor, build: SimpleNamespace
) -> None:
    bomb = LAUGHS + '<office:document-content xmlns:office="o">&lol9;</office:document-content>'
    assert reason_of(build.make_odt(tmp_path / "bomb.odt", bomb), child) == ENTITY_REASON
    xxe = '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY e SYSTEM "file:///etc/passwd">]><d>&e;</d>'
    assert reason_of(build.make_odt(tmp_path / "xxe.odt", xxe), child) == ENTITY_REASON


def test_entity_bomb_in_epub_package_refused_by_defusedxml(
    tmp_path: Path, child: ChildExtractor, build: SimpleNamespace
) -> None:
    path = build.make_epub(tmp_path / "book.epub", ["fine"])
    with zipfile.ZipFile(path) as archive:
        members = {info.filename: archive.read(info) for info in archive.infolist()}
    container = members["META-INF/container.xml"].decode()
    members["META-INF/container.xml"] = LAUGHS + container.split("?>", 1)[1].replace(
        "<rootfiles>", "<rootfiles>&lol9;"
    )
    assert reason_of(build.write_zip(tmp_path / "bad.epub", members), child) == ENTITY_REASON


def _epub_with_chapter_prolog(tmp_path: Path, build: SimpleNamespace, name: str, doctype: str) -> Path:
    path = build.make_epub(tmp_path / "src.epub", ["Chapter text &x;"])
    with zipfile.ZipFile(path) as archive:
        members = {info.filename: archive.read(info) for info in archive.infolist()}
    chapter = members["OEBPS/chap 0.xhtml"].decode()
    members["OEBPS/chap 0.xhtml"] = chapter.replace("<!DOCTYPE html>", doctype)
    return build.write_zip(tmp_path / name, members, stored_first="mimetype")


@pytest.mark.parametrize(
    "doctype",
    [
        '<!DOCTYPE html [<!ENTITY x "DTD TEXT">]>',
        LAUGHS.split("\n", 1)[1].replace("lolz", "html"),  # the billion laughs, as in the ODT test
        # declarations past the prolog window, behind a long comment in the internal subset
        f'<!DOCTYPE html [<!-- {"pad " * 20_000} --><!ENTITY x "DTD TEXT">]>',
    ],
    ids=["entity", "laughs", "padded"],
)
def test_entity_declarations_in_an_epub_chapter_are_refused_like_odt(
    tmp_path: Path, child: ChildExtractor, build: SimpleNamespace, doctype: str
) -> None:
    path = _epub_with_chapter_prolog(tmp_path, build, "entities.epub", doctype)
    assert reason_of(path, child) == ENTITY_REASON


def test_epub2_chapters_with_a_public_xhtml_doctype_are_still_read(
    tmp_path: Path, child: ChildExtractor, build: SimpleNamespace
) -> None:
    xhtml11 = ('<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.1//EN" '
               '"http://www.w3.org/TR/xhtml11/DTD/xhtml11.dtd">')
    path = _epub_with_chapter_prolog(tmp_path, build, "epub2.epub", xhtml11)
    assert extract_text(path, extractor=child).text == "Chapter text &x;"


@pytest.fixture
def test_child(monkeypatch: pytest.MonkeyPatch) -> ChildExtractor:
    """A private extractor whose process also knows the _test_* kinds (hang, crash, hog)."""
    monkeypatch.setenv(TEST_KINDS_ENV, "1")
    extractor = ChildExtractor()
    yield extractor
    extractor.close()


def test_hang_is_killed_after_the_time_limit_and_worker_restarts(
    tmp_path: Path, test_child: ChildExtractor, build: SimpleNamespace
) -> None:
    (tmp_path / "ok.pdf").write_bytes(build.pdf_bytes(["still fine"]))
    with pytest.raises(ExtractionError, match=r"^extraction timed out after 0.5 s$"):
        test_child.extract(str(tmp_path / "ok.pdf"), "_test_sleep", ExtractLimits(time_limit_s=0.5))
    assert test_child.pid is None
    assert extract_text(tmp_path / "ok.pdf", extractor=test_child).text == "still fine"
    assert test_child.started == 2


@pytest.mark.skipif(sys.platform == "win32", reason="signals")
def test_crash_is_charged_to_the_file(
    tmp_path: Path, test_child: ChildExtractor, build: SimpleNamespace
) -> None:
    (tmp_path / "ok.pdf").write_bytes(build.pdf_bytes(["after the crash"]))
    with pytest.raises(ExtractionError, match=r"^extractor crashed \(SIGABRT\)"):
        test_child.extract(str(tmp_path / "ok.pdf"), "_test_crash", ExtractLimits())
    assert extract_text(tmp_path / "ok.pdf", extractor=test_child).text == "after the crash"


@pytest.mark.skipif(sys.platform == "win32", reason="RLIMIT_AS is POSIX only")
def test_memory_cap_stops_a_hog(tmp_path: Path, test_child: ChildExtractor) -> None:
    limits = ExtractLimits(memory_limit_bytes=768 * 2**20)
    with pytest.raises(ExtractionError, match=r"^out of memory \(cap 768 MiB\)$"):
        test_child.extract(str(tmp_path), "_test_alloc", limits)


def test_fifo_is_never_opened(tmp_path: Path, child: ChildExtractor) -> None:
    for name in ("pipe.txt", "pipe.pdf"):
        os.mkfifo(tmp_path / name)
        assert reason_of(tmp_path / name, child) == "not a regular file (FIFO, socket or device)"


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions")
def test_permission_denied(tmp_path: Path, run_unprivileged: Callable[..., str]) -> None:
    locked = tmp_path / "locked.txt"
    locked.write_text("private")
    locked.chmod(0)
    tmp_path.chmod(0o755)
    code = (
        "import json, sys\nfrom qfinder.core.extract import extract_text, ExtractionError\n"
        "try:\n    extract_text(sys.argv[1]); print(json.dumps('read it'))\n"
        "except ExtractionError as e:\n    print(json.dumps(e.message))"
    )
    assert json.loads(run_unprivileged(code, str(locked))) == "permission denied"


def test_file_changing_while_read_is_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "growing.log"
    path.write_text("first line\n")
    real = extract_api.extract_plain

    def read_then_append(*args, **kwargs):
        result = real(*args, **kwargs)
        with open(path, "a") as handle:
            handle.write("second line\n")
        return result

    monkeypatch.setattr(extract_api, "extract_plain", read_then_append)
    with pytest.raises(FileChangedError):
        extract_text(path)


def test_stat_signature_tracks_size_mtime_inode(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_text("one")
    first = extract_api.stat_signature(path)
    assert extract_text(path).signature == first
    replacement = tmp_path / "b.txt"
    replacement.write_text("one")
    os.replace(replacement, path)  # an editor's atomic save: same size, new inode
    assert extract_api.stat_signature(path).inode != first.inode


def test_utf8_decoding_does_not_read_unbounded(tmp_path: Path) -> None:
    big = tmp_path / "big.txt"
    with open(big, "wb") as handle:
        handle.write(b"word " * 400_000)
    result = extract_text(big, ExtractLimits(max_text_bytes=1000))
    assert len(result.text) == 1000 and not io.StringIO(result.text).read().endswith("\x00")
