"""Assemble extracted text page by page, with page offsets and a character budget."""

from __future__ import annotations

from qfinder.core.extract.model import Pages

PAGE_SEPARATOR = "\n\n"


class TextBuilder:
    """Collects pages (or blocks) until ``max_chars``; later content is dropped and flagged."""

    def __init__(self, max_chars: int) -> None:
        self.max_chars = max_chars
        self.parts: list[str] = []
        self.pages: list[tuple[int, int]] = []
        self.length = 0
        self.truncated = False

    @property
    def full(self) -> bool:
        return self.truncated

    def add_page(self, text: str, page_no: int) -> None:
        """Start page ``page_no`` (1-based) at the current offset and append its text."""
        if self.truncated:
            return
        if self.parts:
            self._append(PAGE_SEPARATOR)
        self.pages.append((self.length, page_no))
        self._append(text)

    def add_block(self, text: str) -> None:
        """Append a paragraph-like block (no page mark)."""
        if not text or self.truncated:
            return
        if self.parts:
            self._append("\n")
        self._append(text)

    def _append(self, text: str) -> None:
        room = self.max_chars - self.length
        if len(text) > room:
            text = text[: max(room, 0)]
            self.truncated = True
        self.parts.append(text)
        self.length += len(text)

    def text(self) -> str:
        return "".join(self.parts)

    def page_marks(self) -> Pages:
        return tuple(self.pages)
