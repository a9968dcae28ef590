"""Small pure helpers behind the results rows and the preview."""

from __future__ import annotations

import os
import sys

import pytest
from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices

from qfinder.core.results import ChunkHit
from qfinder.ui import opener as opener_module
from qfinder.ui.dim_slider import allowed_dims
from qfinder.ui.opener import Opener
from qfinder.ui.preview_context import context_of
from qfinder.ui.results_delegate import snippet_runs
from qfinder.ui.status_bar import format_eta


def _hit(snippet: str, highlight, span=(0, 0), chunk_highlight=None) -> ChunkHit:
    return ChunkHit(1, 1.0, snippet, span, highlight, chunk_highlight=chunk_highlight)


def test_snippet_runs_keep_the_match_visible():
    text = "word " * 100 + "needle in the haystack"
    start = text.index("needle")
    before, match, after = snippet_runs(_hit(text, (start, start + 6)), limit=80)
    assert match == "needle" and after.startswith(" in the")
    assert before.startswith("…") and len(before) <= 21
    assert snippet_runs(_hit("a\n\nb", None)) == ("a b", "", "")
    assert snippet_runs(None) == ("", "", "")


def test_preview_context_surrounds_the_chunk_and_finds_the_match():
    text = "intro. " * 50 + "The Budget for 2024 is here." + " outro." * 50
    start = text.index("The Budget")
    chunk = _hit("…budget for 2024…", (1, 7), span=(start, start + 28))
    context = context_of(text, chunk)
    assert context is not None and context.match == "Budget"
    assert context.chunk_before == "The " and context.after.startswith(" outro.")
    assert context_of("short", _hit("x", None, span=(10, 20))) is None


def test_preview_marks_the_snippets_match_not_an_earlier_one():
    body = "Budget talk first. Later: the budget for 2024 is here."
    text = "intro. " + body
    start, second = len("intro. "), body.index("budget for")
    chunk = _hit("…budget for 2024…", (1, 7), span=(start, start + len(body)),
                 chunk_highlight=(second, second + 6))
    context = context_of(text, chunk)
    assert context is not None and context.match == "budget"
    assert context.chunk_before == "Budget talk first. Later: the "
    stale = _hit("…budget for 2024…", (1, 7), span=(start, start + len(body)), chunk_highlight=(2, 8))
    assert context_of(text, stale).chunk_before == ""  # file changed since: first occurrence


def test_dims_sizes_and_eta():
    assert allowed_dims(32, 2560) == (32, 64, 128, 256, 512, 1024, 2048, 2560)
    assert allowed_dims(384, 384) == (384,)
    assert format_eta(None) == "estimating…" and format_eta(45) == "45 s left"
    assert format_eta(3600) == "60 min left" and format_eta(7200) == "2.0 h left"


def test_file_names_are_bold_from_the_first_row_painted(qapp):
    """The delegate's font cache once started from the default font and so never made the bold
    copy for a view using that same font: every file name was painted in the regular weight."""
    from PySide6.QtGui import QFont

    from qfinder.ui.results_delegate import ResultsDelegate

    bold, italic = ResultsDelegate()._variants(QFont())
    assert bold.bold() and not italic.bold() and italic.italic()


def test_trimmed_snippet_starts_on_a_whole_word():
    text = "They then beat the defending Super Bowl XLIX champion New England Patriots " * 2
    start = text.rindex("Super Bowl")
    before, match, _ = snippet_runs(_hit(text, (start, start + 10)), limit=80)
    assert match == "Super Bowl" and before.startswith("…")
    first_word = before[1:].split(" ")[0]
    assert first_word in text.split(" "), f"cut mid-word: {before!r}"


@pytest.mark.skipif(os.name != "posix", reason="POSIX names are bytes")
def test_opener_hands_the_desktop_the_real_bytes_of_an_undecodable_name(qapp, monkeypatch):
    asked: list[bytes] = []
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: asked.append(bytes(url.toEncoded())) or True)
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setattr(opener_module, "_show_items_dbus", lambda url: False)  # no file manager here
    path = os.fsdecode(b"/archive/old/bad\xff\xfename.pdf")
    assert Opener().open_file(path) and Opener().open_file(path, page=3) and Opener().reveal(path)
    assert asked == [b"file:///archive/old/bad%FF%FEname.pdf",
                     b"file:///archive/old/bad%FF%FEname.pdf#page=3", b"file:///archive/old"]
    plain = "/plain/my notes.txt"
    assert opener_module.file_url(plain).toEncoded() == QUrl.fromLocalFile(plain).toEncoded()


COPY_THEN_EXIT = """
import sys
from PySide6.QtWidgets import QApplication
from qfinder.ui.opener import Opener
app = QApplication([])
Opener().copy_path(sys.argv[1])
data = app.clipboard().mimeData()
print(data.text(), data.urls()[0].toEncoded().data().decode())
"""


def test_copying_an_undecodable_name_keeps_its_url_and_the_process_exits_cleanly(tmp_path):
    # Mime data made in Python and still on the clipboard when the process exits crashed it
    # (SIGSEGV in Qt's exit handlers, after the interpreter was gone).
    import os
    import subprocess
    import sys

    odd = os.fsdecode(os.fsencode(str(tmp_path)) + b"/bad\xff\xfename.txt")
    done = subprocess.run([sys.executable, "-c", COPY_THEN_EXIT, odd], capture_output=True,
                          env={**os.environ, "QT_QPA_PLATFORM": "offscreen"}, timeout=60,
                          errors="surrogateescape", text=True)
    assert done.returncode == 0, done.stderr
    text, url = done.stdout.split()
    assert text.endswith("bad\ufffd\ufffdname.txt") and url.endswith("/bad%FF%FEname.txt")
