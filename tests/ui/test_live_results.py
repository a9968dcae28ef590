"""The result list follows the index and says how close its matches are, on a REAL engine
(SQLite, hnswlib, watchdog, ONNX): files created or deleted under an open query, a folder
removed, "no close matches", weaker matches folded behind a row, why each file matched."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from support.gate import ManualClock
from support.shared import shared_path

from qfinder.ui.live_results import RefreshPacer
from qfinder.ui.result_labels import matched_label

LONG = 30_000  # ms: a loaded 2-core machine indexes slowly; every wait ends on an event


def _write(folder: Path, names_texts: dict[str, str]) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = {}
    for name, text in names_texts.items():
        (folder / name).write_text(text, encoding="utf-8")
        written[name] = folder / name
    return written


NOTES = {"lemon-cake.txt": "A lemon cake recipe with butter, sugar and eggs. " * 5,
         "train-booking.txt": "Holiday train booking to Lisbon in May. " * 5,
         "kernel-panic.txt": "The kernel driver panic happened at boot. " * 5}


def _indexed(qtbot, window, root: Path, files: int) -> None:
    qtbot.waitUntil(lambda: any(r.path == str(root) and r.files_indexed >= files and not r.files_pending
                                for r in window.root_states), timeout=LONG)


def _search(qtbot, window, text: str):
    window.ui.search_bar.clear()
    with qtbot.waitSignal(window.search.response_ready, timeout=LONG) as blocker:
        qtbot.keyClicks(window.ui.search_bar, text)
    return blocker.args[0]


def _shown(window) -> set[str]:
    model = window.ui.model
    return {f.path for f in (model.file_at(model.index(r, 0)) for r in range(model.rowCount())) if f}


def test_a_new_matching_file_appears_and_the_selection_stays(qtbot, live, tmp_path):
    docs = tmp_path / "docs"
    paths = _write(docs, NOTES)
    window, _engine = live()
    window.add_folders([str(docs)])
    _indexed(qtbot, window, docs, 3)
    _search(qtbot, window, "lemon cake recipe")
    view, model = window.ui.results, window.ui.model
    lemon_row = model.row_of(str(paths["lemon-cake.txt"]))
    assert lemon_row is not None
    view.setCurrentIndex(model.index(lemon_row, 0))
    fresh = docs / "lemon-pie-recipe.txt"
    fresh.write_text("Another lemon cake recipe: lemon pie with a cake base. " * 5, encoding="utf-8")
    qtbot.waitUntil(lambda: str(fresh) in _shown(window), timeout=LONG)  # nothing typed
    assert view.current_path() == str(paths["lemon-cake.txt"]), "the reader's place is kept"
    assert window.ui.search_bar.text() == "lemon cake recipe"


def test_a_deleted_file_goes_at_once_and_nothing_acts_on_it(qtbot, live, tmp_path, recording_opener):
    docs = tmp_path / "docs"
    paths = _write(docs, NOTES)
    window, _engine = live()
    window.add_folders([str(docs)])
    _indexed(qtbot, window, docs, 3)
    _search(qtbot, window, "lemon cake recipe")
    doomed = str(paths["lemon-cake.txt"])
    view, model = window.ui.results, window.ui.model
    view.setCurrentIndex(model.index(model.row_of(doomed), 0))
    paths["lemon-cake.txt"].unlink()
    qtbot.waitUntil(lambda: doomed not in _shown(window), timeout=LONG)
    shown = window.ui.preview._result  # the preview's file, as its Open button would use it
    assert view.current_path() != doomed and (shown is None or shown.path != doomed)
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_Return)
    assert all(path != doomed for _, path in recording_opener.calls)


def test_removing_a_folder_clears_its_results_and_its_failures(qtbot, live, tmp_path):
    kept, gone = tmp_path / "kept", tmp_path / "gone"
    _write(kept, {"lemon-notes.txt": "lemon cake recipe notes " * 5})
    _write(gone, {"lemon-cake.txt": NOTES["lemon-cake.txt"]})
    (gone / "broken.pdf").write_bytes(b"%PDF-1.7 this is not really a pdf")
    window, _engine = live()
    window.add_folders([str(kept), str(gone)])
    _indexed(qtbot, window, kept, 1)
    _indexed(qtbot, window, gone, 1)
    qtbot.waitUntil(lambda: any(p.endswith("broken.pdf") for p in window.failures), timeout=LONG)
    _search(qtbot, window, "lemon cake recipe")
    assert any(p.startswith(str(gone)) for p in _shown(window))
    window.ui.folders.remove_requested.emit(str(gone))
    qtbot.waitUntil(lambda: not any(p.startswith(str(gone)) for p in _shown(window)), timeout=LONG)
    assert _shown(window) and not window.failures
    assert not window.ui.status.failed_link.isVisibleTo(window)


@pytest.fixture
def e5() -> Path:
    return shared_path("models", "multilingual-e5-small-q4")


@pytest.mark.shared
def test_no_close_matches_weaker_ones_folded_and_why_each_matched(qtbot, live, tmp_path, e5):
    from qfinder.devtools.ir_eval import load_collection, write_corpus

    coll = load_collection(shared_path("data", "xquad", "en"), max_docs=60)
    docs = tmp_path / "xquad"
    write_corpus(coll, docs)
    window, _engine = live(model_dir=e5)
    window.add_folders([str(docs)])
    _indexed(qtbot, window, docs, 60)
    view, model = window.ui.results, window.ui.model
    _search(qtbot, window, "zebra migration kilimanjaro")
    assert model.marker_at(model.index(0, 0)).kind == "no-close"
    nearest = [model.file_at(model.index(r, 0)) for r in (1, 2, 3)]
    assert all(nearest), "the nearest few are listed under it"
    qid, question = next(iter(coll.queries.items()))
    _search(qtbot, window, question)
    top = model.file_at(model.index(0, 0))
    assert top is not None and top.relevance >= 0.5 and "meaning" in top.matched_by
    assert matched_label(top) and "words: " in matched_label(top)
    folded = model.row_of_marker("weaker")
    assert folded is not None
    hidden = model.marker_at(model.index(folded, 0)).count
    rows = model.rowCount()
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=view.visualRect(model.index(folded, 0)).center())
    assert model.rowCount() == rows + hidden and model.marker_at(model.index(folded, 0)).expanded


def test_refreshes_come_at_most_once_per_interval(qtbot):
    clock = ManualClock()
    pacer = RefreshPacer(interval_s=1.0, clock=clock)
    fired: list[float] = []
    pacer.due.connect(lambda: fired.append(clock.now))
    pacer.request()
    assert fired == [1000.0], "the first change refreshes at once"
    clock.advance(0.3)
    pacer.request()
    pacer.request()
    assert len(fired) == 1 and pacer.waiting, "changes within the interval wait"
    with qtbot.waitSignal(pacer.due, timeout=5000):
        clock.advance(0.7)
    assert len(fired) == 2 and not pacer.waiting, "…and go as one"
    clock.advance(5.0)
    pacer.request()
    assert len(fired) == 3
