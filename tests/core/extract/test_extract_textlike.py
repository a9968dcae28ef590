"""Text-like formats read in-process: encodings, BOMs, binary detection, HTML, EML, limits, kinds."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from qfinder.core.errors import ExtractionError
from qfinder.core.extract import BinaryFileError, ExtractLimits, extract_text, is_supported, kind_of

FRENCH_GERMAN = (
    "Le café naïve à la façade. Über große Straßen fährt ein Müller nach Köln, très élégant."
)
JAPANESE = "日本語のテキストです。これはシフトJISでエンコードされたファイルの例です。東京都の天気は晴れです。"


def write(tmp_path: Path, name: str, data: bytes | str) -> Path:
    path = tmp_path / name
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


@pytest.mark.parametrize(
    ("raw", "encoding"),
    [
        (FRENCH_GERMAN.encode("utf-8"), "utf-8"),
        (codecs.BOM_UTF8 + FRENCH_GERMAN.encode("utf-8"), "utf-8-sig"),
        (FRENCH_GERMAN.encode("utf-16"), "utf-16"),
        (codecs.BOM_UTF16_BE + FRENCH_GERMAN.encode("utf-16-be"), "utf-16"),
        (FRENCH_GERMAN.encode("utf-32"), "utf-32"),
        (FRENCH_GERMAN.encode("utf-16-le"), "utf-16-le"),  # no BOM
        (FRENCH_GERMAN.encode("cp1252"), "cp1252"),
        (FRENCH_GERMAN.encode("latin-1"), "cp1252"),  # the printable Latin-1 range is cp1252's
        (JAPANESE.encode("shift_jis"), "cp932"),
    ],
    ids=[
        "utf8",
        "utf8-bom",
        "utf16-bom-le",
        "utf16-bom-be",
        "utf32-bom",
        "utf16-no-bom",
        "cp1252",
        "latin1",
        "shift-jis",
    ],
)
def test_encodings_and_boms(tmp_path: Path, raw: bytes, encoding: str) -> None:
    result = extract_text(write(tmp_path, "doc.txt", raw))
    expected = JAPANESE if "日本" in result.text else FRENCH_GERMAN
    assert result.text == expected
    assert result.encoding == encoding
    assert (result.kind, result.pages, result.truncated) == ("text", None, False)


def test_empty_file_gives_empty_text(tmp_path: Path) -> None:
    result = extract_text(write(tmp_path, "empty.md", b""))
    assert (result.text, result.kind) == ("", "markdown")


@pytest.mark.parametrize(
    "payload",
    [
        b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)) * 8,
        bytes(range(1, 32)) * 50,
        b"PK\x03\x04" + b"\x00\x8f" * 500,
    ],
    ids=["elf", "control-chars", "zip-bytes"],
)
def test_binary_pretending_to_be_text_is_refused(tmp_path: Path, payload: bytes) -> None:
    with pytest.raises(BinaryFileError) as caught:
        extract_text(write(tmp_path, "notes.txt", payload))
    assert caught.value.message == "binary file"


def test_source_code_is_kept_as_is(tmp_path: Path) -> None:
    source = "def área(r):\n    return 3.14 * r ** 2  # <b>not html</b>\n"
    result = extract_text(write(tmp_path, "geometry.py", source))
    assert (result.text, result.kind, result.encoding) == (source, "code", "utf-8")


def test_csv_and_json_as_text(tmp_path: Path) -> None:
    assert (
        extract_text(write(tmp_path, "t.csv", "name,city\nAda,London\n")).text
        == "name,city\nAda,London\n"
    )
    assert extract_text(write(tmp_path, "d.json", '{"k": "värde"}')).text == '{"k": "värde"}'
    assert kind_of("t.csv") == "csv" and kind_of("d.json") == "json"


def test_html_drops_scripts_and_styles_keeps_blocks(tmp_path: Path) -> None:
    markup = (
        "<html><head><title>Trip notes</title><style>body{color:red}</style>"
        "<script>var secret = 'x';</script></head><body><h1>Lisbon&nbsp;&amp; Porto</h1>"
        "<p>Trams   are <b>yellow</b>.</p><ul><li>Day one</li><li>Day two</li></ul></body></html>"
    )
    result = extract_text(write(tmp_path, "trip.html", markup))
    assert result.text == "Trip notes\n\nLisbon & Porto\n\nTrams are yellow.\n\nDay one\n\nDay two"
    assert "secret" not in result.text and "color" not in result.text


def test_html_meta_charset_is_honoured(tmp_path: Path) -> None:
    markup = f'<html><head><meta charset="windows-1252"></head><body><p>{FRENCH_GERMAN}</p></body></html>'
    result = extract_text(write(tmp_path, "old.htm", markup.encode("cp1252")))
    assert result.text == FRENCH_GERMAN
    assert result.encoding == "cp1252"


def test_eml_headers_and_text_parts(tmp_path: Path) -> None:
    message = (
        "From: Ada <ada@example.org>\nTo: Bob <bob@example.org>\nSubject: =?utf-8?q?Caf=C3=A9_plans?=\n"
        'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="b"\n\n'
        '--b\nContent-Type: text/plain; charset="iso-8859-1"\nContent-Transfer-Encoding: quoted-printable\n\n'
        "Meet at the caf=E9 at noon.\n"
        '--b\nContent-Type: application/octet-stream\nContent-Disposition: attachment; filename="x.bin"\n'
        "Content-Transfer-Encoding: base64\n\nAAECAw==\n--b--\n"
    )
    result = extract_text(write(tmp_path, "mail.eml", message))
    assert result.kind == "eml"
    assert result.text.splitlines()[:3] == [
        "Subject: Café plans",
        "From: Ada <ada@example.org>",
        "To: Bob <bob@example.org>",
    ]
    assert result.text.rstrip().endswith("Meet at the café at noon.")


def test_eml_html_only_body(tmp_path: Path) -> None:
    message = (
        "Subject: hi\nContent-Type: text/html\n\n<p>Hello <i>there</i></p><script>x()</script>\n"
    )
    assert extract_text(write(tmp_path, "h.eml", message)).text == "Subject: hi\n\nHello there"


def test_limits_cut_text_and_bytes(tmp_path: Path) -> None:
    path = write(tmp_path, "long.txt", "é" * 1000)
    by_chars = extract_text(path, ExtractLimits(max_text_chars=10))
    assert (by_chars.text, by_chars.truncated) == ("é" * 10, True)
    by_bytes = extract_text(path, ExtractLimits(max_text_bytes=21))  # 10.5 characters of UTF-8
    assert by_bytes.text == "é" * 10 and by_bytes.encoding == "utf-8"


def test_unsupported_and_kinds(tmp_path: Path) -> None:
    with pytest.raises(ExtractionError, match="unsupported file type"):
        extract_text(write(tmp_path, "photo.jpg", b"\xff\xd8\xff"))
    assert [
        kind_of(n) for n in ("a.PDF", "b.docx", "Makefile", "README", "x.tsx", "y.unknown")
    ] == [
        "pdf",
        "docx",
        "code",
        "text",
        "code",
        "other",
    ]
    assert is_supported("slides.pptx") and not is_supported("movie.mkv")


def test_odd_names_extract(tmp_path: Path) -> None:
    for name in ("with space.txt", "ünï 日本.md", "new\nline.txt"):
        assert extract_text(write(tmp_path, name, "odd but fine")).text == "odd but fine"
