"""PDF text per page with pypdfium2. Runs inside the extractor child process only."""

from __future__ import annotations

from qfinder.core.errors import ExtractionError
from qfinder.core.extract.builder import TextBuilder
from qfinder.core.extract.model import ExtractLimits

ENCRYPTED_REASON = "encrypted PDF (password required)"


def extract_pdf(path: str, limits: ExtractLimits, out: TextBuilder) -> None:
    import pypdfium2 as pdfium

    try:
        document = pdfium.PdfDocument(path)
    except pdfium.PdfiumError as exc:
        if "password" in str(exc).lower():
            raise ExtractionError(ENCRYPTED_REASON) from exc
        raise ExtractionError(f"unreadable PDF ({exc})") from exc
    try:
        for index in range(len(document)):
            out.add_page(_page_text(document, index), index + 1)
            if out.full:
                return
    finally:
        document.close()


def _page_text(document: object, index: int) -> str:
    page = document[index]  # type: ignore[index]
    try:
        textpage = page.get_textpage()
        try:
            text: str = textpage.get_text_range()
        finally:
            textpage.close()
    finally:
        page.close()
    # pdfium ends lines with CRLF and marks soft hyphens with U+0002 / U+FFFE.
    return (
        text.replace("\r\n", "\n").replace("\r", "\n").replace("\x02", "-").replace("\ufffe", "-")
    )
