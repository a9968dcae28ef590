"""PDF, DOCX, PPTX, XLSX, ODT and EPUB through the child process, pages where they exist."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import docx
import openpyxl
import pptx
import pypdfium2
import pytest
from pptx.util import Inches

from qfinder.core.errors import ExtractionError
from qfinder.core.extract import ChildExtractor, ExtractLimits, extract_text


def test_pdf_pages_and_offsets(
    tmp_path: Path, child: ChildExtractor, build: SimpleNamespace
) -> None:
    path = tmp_path / "report.pdf"
    path.write_bytes(
        build.pdf_bytes(["Hello from page one", "Budget (draft) on page two", "The end"])
    )
    result = extract_text(path, extractor=child)
    assert result.text == "Hello from page one\n\nBudget (draft) on page two\n\nThe end"
    assert result.pages == ((0, 1), (21, 2), (49, 3))
    assert [result.text[start:].split("\n")[0] for start, _ in result.pages][
        1
    ] == "Budget (draft) on page two"
    assert (result.kind, result.encoding) == ("pdf", None)


def test_encrypted_pdf_is_refused_with_reason(
    tmp_path: Path, child: ChildExtractor, build: SimpleNamespace
) -> None:
    path = tmp_path / "locked.pdf"
    path.write_bytes(build.pdf_bytes(["Top secret numbers"], user_password="s3cret"))
    with pypdfium2.PdfDocument(
        str(path), password="s3cret"
    ) as opened:  # really encrypted, really valid
        assert opened[0].get_textpage().get_text_range() == "Top secret numbers"
    with pytest.raises(ExtractionError) as caught:
        extract_text(path, extractor=child)
    assert caught.value.message == "encrypted PDF (password required)"


def test_corrupt_and_empty_pdf(tmp_path: Path, child: ChildExtractor) -> None:
    (tmp_path / "bad.pdf").write_bytes(b"%PDF-1.4\nthis is not really a pdf")
    with pytest.raises(ExtractionError, match="unreadable PDF"):
        extract_text(tmp_path / "bad.pdf", extractor=child)
    (tmp_path / "empty.pdf").write_bytes(b"")
    with pytest.raises(ExtractionError, match="empty pdf file"):
        extract_text(tmp_path / "empty.pdf", extractor=child)


def test_docx_paragraphs_and_tables_in_order(tmp_path: Path, child: ChildExtractor) -> None:
    document = docx.Document()
    document.add_heading("Annual Plan", level=1)
    document.add_paragraph("We will plant 40 olive trees.")
    table = document.add_table(rows=2, cols=2)
    for (r, c), value in {(0, 0): "Crop", (0, 1): "Acres", (1, 0): "Olives", (1, 1): "12"}.items():
        table.cell(r, c).text = value
    document.add_paragraph("Signed, the cooperative.")
    document.save(str(tmp_path / "plan.docx"))
    result = extract_text(tmp_path / "plan.docx", extractor=child)
    assert (
        result.text
        == "Annual Plan\nWe will plant 40 olive trees.\nCrop\tAcres\nOlives\t12\nSigned, the cooperative."
    )
    assert (result.kind, result.pages) == ("docx", None)


def test_pptx_slides_are_pages(tmp_path: Path, child: ChildExtractor) -> None:
    deck = pptx.Presentation()
    for title, body in (("Roadmap", "Ship search in May"), ("Risks", "Hostile PDFs")):
        slide = deck.slides.add_slide(deck.slide_layouts[1])
        slide.shapes.title.text = title
        slide.placeholders[1].text = body
    deck.slides[1].shapes.add_textbox(
        Inches(1), Inches(5), Inches(3), Inches(1)
    ).text_frame.text = "Mitigate"
    deck.slides[0].notes_slide.notes_text_frame.text = "Speaker note here"
    deck.save(str(tmp_path / "deck.pptx"))
    result = extract_text(tmp_path / "deck.pptx", extractor=child)
    assert (
        result.text
        == "Roadmap\nShip search in May\nSpeaker note here\n\nRisks\nHostile PDFs\nMitigate"
    )
    assert result.pages == ((0, 1), (len("Roadmap\nShip search in May\nSpeaker note here\n\n"), 2))


def test_xlsx_sheets_are_pages(tmp_path: Path, child: ChildExtractor) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Sales"
    sheet.append(["Region", "Total"])
    sheet.append(["North", 1200])
    sheet.append([None, None])
    second = book.create_sheet("Notes")
    second["B3"] = "Numbers are provisional"
    book.save(tmp_path / "book.xlsx")
    result = extract_text(tmp_path / "book.xlsx", extractor=child)
    assert result.text == "# Sales\nRegion\tTotal\nNorth\t1200\n\n# Notes\nNumbers are provisional"
    assert result.pages == ((0, 1), (len("# Sales\nRegion\tTotal\nNorth\t1200\n\n"), 2))


def test_odt_text_with_spaces_tabs_breaks(
    tmp_path: Path, child: ChildExtractor, build: SimpleNamespace
) -> None:
    result = extract_text(build.make_odt(tmp_path / "report.odt"), extractor=child)
    assert result.text == "Quarterly Report\nRevenue grew  strongly\tthis year.\nSecond\nline"
    assert result.kind == "odt"


def test_epub_follows_spine_order(
    tmp_path: Path, child: ChildExtractor, build: SimpleNamespace
) -> None:
    path = build.make_epub(
        tmp_path / "book.epub", ["Chapter one: the harbour.", "Chapter two: the storm &amp; after."]
    )
    result = extract_text(path, extractor=child)
    assert result.text == "Chapter two: the storm & after.\nChapter one: the harbour."


def test_text_limit_applies_to_documents(
    tmp_path: Path, child: ChildExtractor, build: SimpleNamespace
) -> None:
    path = tmp_path / "long.pdf"
    path.write_bytes(build.pdf_bytes(["A" * 50, "B" * 50]))
    result = extract_text(path, ExtractLimits(max_text_chars=60), extractor=child)
    assert result.text == "A" * 50 + "\n\n" + "B" * 8
    assert result.truncated and result.pages == ((0, 1), (52, 2))


def test_corrupt_docx_and_encrypted_office(tmp_path: Path, child: ChildExtractor) -> None:
    (tmp_path / "broken.docx").write_bytes(b"PK\x03\x04 definitely not a zip")
    with pytest.raises(ExtractionError, match="not a valid zip-based document"):
        extract_text(tmp_path / "broken.docx", extractor=child)
    # Password-protected OOXML is an OLE compound file (EncryptedPackage), not a zip.
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)
    (tmp_path / "locked.xlsx").write_bytes(ole)
    with pytest.raises(ExtractionError, match="encrypted"):
        extract_text(tmp_path / "locked.xlsx", extractor=child)


def test_too_large_document_is_refused_before_the_child(
    tmp_path: Path, build: SimpleNamespace
) -> None:
    path = tmp_path / "big.pdf"
    path.write_bytes(build.pdf_bytes(["x" * 3000]))
    unused = ChildExtractor()
    with pytest.raises(ExtractionError) as caught:
        extract_text(path, ExtractLimits(max_file_bytes=2048), extractor=unused)
    assert caught.value.message == "file too large (4 KiB > 2 KiB)"
    assert unused.started == 0


def test_child_process_is_reused(tmp_path: Path, build: SimpleNamespace) -> None:
    extractor = ChildExtractor()
    try:
        for i in range(3):
            (tmp_path / f"{i}.pdf").write_bytes(build.pdf_bytes([f"page {i}"]))
            assert extract_text(tmp_path / f"{i}.pdf", extractor=extractor).text == f"page {i}"
        build.make_odt(tmp_path / "x.odt")
        extract_text(tmp_path / "x.odt", extractor=extractor)
        assert extractor.started == 1
    finally:
        extractor.close()
