"""DOCX (python-docx), PPTX (python-pptx, one page per slide), XLSX (openpyxl read-only, one
page per sheet). Run inside the extractor child process only."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from qfinder.core.extract.builder import TextBuilder
from qfinder.core.extract.model import ExtractLimits
from qfinder.core.extract.ziputil import open_checked, refuse_dtds


def _prechecked(path: str, limits: ExtractLimits) -> None:
    with open_checked(path, limits) as archive:
        refuse_dtds(archive)


def extract_docx(path: str, limits: ExtractLimits, out: TextBuilder) -> None:
    import docx
    from docx.table import Table

    _prechecked(path, limits)
    document = docx.Document(path)
    for block in document.iter_inner_content():
        if isinstance(block, Table):
            out.add_block(_table_text(block.rows))
        else:
            out.add_block(block.text)
        if out.full:
            return


def _table_text(rows: Iterable[Any]) -> str:
    lines = []
    for row in rows:
        cells: list[str] = []
        for cell in row.cells:
            text = cell.text.strip()
            if text and (not cells or cells[-1] != text):  # merged cells repeat their text
                cells.append(text)
        if cells:
            lines.append("\t".join(cells))
    return "\n".join(lines)


def extract_pptx(path: str, limits: ExtractLimits, out: TextBuilder) -> None:
    import pptx

    _prechecked(path, limits)
    presentation = pptx.Presentation(path)
    for number, slide in enumerate(presentation.slides, start=1):
        texts = list(_shape_texts(slide.shapes))
        if slide.has_notes_slide and slide.notes_slide.notes_text_frame is not None:
            texts.append(slide.notes_slide.notes_text_frame.text)
        out.add_page("\n".join(t for t in texts if t.strip()), number)
        if out.full:
            return


def _shape_texts(shapes: Iterable[Any]) -> Iterable[str]:
    for shape in shapes:
        if hasattr(shape, "shapes"):  # a group shape: its children hold the text
            yield from _shape_texts(shape.shapes)  # group shape
        elif getattr(shape, "has_text_frame", False) and shape.has_text_frame:
            yield shape.text_frame.text
        elif getattr(shape, "has_table", False) and shape.has_table:
            yield _table_text(shape.table.rows)


def extract_xlsx(path: str, limits: ExtractLimits, out: TextBuilder) -> None:
    import openpyxl

    _prechecked(path, limits)
    workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        for number, sheet in enumerate(workbook.worksheets, start=1):
            out.add_page(_sheet_text(sheet, out.max_chars - out.length), number)
            if out.full:
                return
    finally:
        workbook.close()


def _sheet_text(sheet: Any, budget: int) -> str:
    lines = [f"# {sheet.title}"]
    used = len(lines[0])
    for row in sheet.iter_rows(values_only=True):
        cells = [str(value) for value in row if value is not None and str(value).strip()]
        if cells:
            line = "\t".join(cells)
            lines.append(line)
            used += len(line) + 1
            if used > budget:
                break  # the builder cuts exactly; stop reading rows we would drop
    return "\n".join(lines)
