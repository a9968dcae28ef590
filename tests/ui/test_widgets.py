"""Widget-level tests against a stand-in engine: typing, instructions, slider, drops, keys."""

from __future__ import annotations

import os
import time
import warnings
from pathlib import Path

from PySide6.QtCore import QEvent, QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragMoveEvent, QDropEvent
from PySide6.QtTest import QAbstractItemModelTester
from PySide6.QtWidgets import QApplication

from qfinder.core.instructions import CODE_TASK
from qfinder.core.results import ChunkHit, FileResult, SearchRequest, SearchResponse
from qfinder.ui.dim_slider import allowed_dims
from qfinder.ui.instruction_picker import UNAWARE_TIP
from qfinder.ui.results_model import ResultsModel


def _type_query(qtbot, window, text: str) -> None:
    with qtbot.waitSignal(window.search.response_ready, timeout=3000):
        qtbot.keyClicks(window.ui.search_bar, text)


def test_typing_shows_ranked_results(qtbot, window, fake_engine):
    _type_query(qtbot, window, "budget 2024")
    model = window.ui.model
    names = [model.index(r, 0).data() for r in range(model.rowCount())]
    assert names[0] == "budget-2024.txt"
    assert "holiday-notes.md" in names and "recipe.txt" not in names
    assert len(fake_engine.requests) == 1, "typing is debounced into one request"
    assert window.ui.preview.title.text().endswith("budget-2024.txt</b>")


def test_stale_response_never_overwrites_newer(qtbot, window, fake_engine):
    fake_engine.answer = False
    window.search.search_text("recipe")
    old_request = fake_engine.requests[-1]
    window.search.search_text("budget")
    new_request = fake_engine.requests[-1]
    window.search.on_results(fake_engine.respond(new_request))
    window.search.on_results(fake_engine.respond(old_request))  # arrives late
    assert window.ui.model.index(0, 0).data() == "budget-2024.txt"
    assert window.search.dropped_stale == 1


def test_escape_clears_and_enter_searches_now(qtbot, window, fake_engine):
    bar = window.ui.search_bar
    qtbot.keyClicks(bar, "lemon")
    qtbot.keyClick(bar, Qt.Key.Key_Return)
    assert fake_engine.requests[-1].text == "lemon"
    assert not bar.pending()
    qtbot.waitUntil(lambda: window.ui.model.rowCount() == 1, timeout=2000)
    qtbot.keyClick(bar, Qt.Key.Key_Escape)
    assert bar.text() == "" and window.ui.model.rowCount() == 0


def test_instruction_and_dimension_change_the_request(qtbot, window, fake_engine):
    assert window.ui.dim.dims() == allowed_dims(32, 1024) == (32, 64, 128, 256, 512, 1024)
    _type_query(qtbot, window, "budget")
    picker = window.ui.instructions
    code_index = picker.findText("Find code")
    with qtbot.waitSignal(window.search.response_ready, timeout=2000):
        picker.setCurrentIndex(code_index)
        picker.activated.emit(code_index)
    assert fake_engine.requests[-1].instruction == CODE_TASK
    with qtbot.waitSignal(window.search.response_ready, timeout=2000) as blocker:
        window.ui.dim.set_dim(64)
    assert fake_engine.requests[-1].dim == 64 and ("set_dim", 64) in fake_engine.calls
    assert blocker.args[0].dim == 64 and window.ui.model.rowCount() > 0
    assert window.ui.dim.dim_label.text() == "64 / 1024"
    window.ui.dim.set_dim(1000)  # snaps
    assert fake_engine.requests[-1].dim == 1024
    picker.set_custom("Find invoices from suppliers")
    assert fake_engine.requests[-1].instruction == "Find invoices from suppliers"
    assert window.settings.recent_instructions[0] == "Find invoices from suppliers"


def test_not_instruction_aware_model_greys_out_picker(qtbot, window, fake_engine):
    fake_engine.model_info = type(fake_engine.model_info)(instruction_aware=False, min_dim=384,
                                                          full_dim=384, default_dim=384)
    fake_engine.announce()
    assert not window.ui.instructions.isEnabled()
    assert window.ui.instructions.toolTip() == UNAWARE_TIP
    assert not window.ui.dim.slider.isEnabled()
    _type_query(qtbot, window, "cake")
    assert fake_engine.requests[-1].instruction is None
    fake_engine.model_info = type(fake_engine.model_info)()
    fake_engine.announce()
    assert "Active: the model's default task" in window.ui.instructions.toolTip()


def _drop(widget, paths: list[Path]) -> None:
    """Drag in and drop on `widget` the way the window system does: through its QWindow."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    top = widget.window()
    pos = widget.mapTo(top, QPoint(widget.width() // 2, widget.height() // 2))
    args = (Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    handle = top.windowHandle()
    with warnings.catch_warnings():  # PySide marks the only QPoint constructors deprecated
        warnings.simplefilter("ignore", DeprecationWarning)
        enter = QDragMoveEvent(pos, *args, QEvent.Type.DragEnter)
    assert QApplication.sendEvent(handle, enter) and enter.isAccepted()
    QApplication.sendEvent(handle, QDropEvent(QPointF(pos), *args))


def test_dropping_folders_adds_roots_anywhere(qtbot, window, fake_engine, tmp_path):
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir()
    second.mkdir()
    _drop(window.ui.search_bar, [first, second])  # a line edit would swallow URLs as text
    assert ("add_roots", (str(first), str(second))) in fake_engine.calls
    assert window.ui.folders.roots() == [str(first), str(second)]
    assert "indexing · 3 files queued" in window.ui.folders.list.item(0).text()
    assert window.ui.search_bar.text() == ""


def test_dropping_files_runs_find_similar(qtbot, window, fake_engine, docs_folder):
    target = docs_folder / "budget-2024.txt"
    with qtbot.waitSignal(window.search.response_ready, timeout=2000):
        _drop(window.ui.results.viewport(), [target])
    request = fake_engine.requests[-1]
    assert request.like_paths == (str(target),) and request.text == ""
    assert os.path.basename(window.ui.model.files()[0].path) == "holiday-notes.md"


def test_keyboard_open_reveal_copy_go_through_the_opener(qtbot, window, recording_opener):
    _type_query(qtbot, window, "budget")
    view = window.ui.results
    qtbot.keyClick(window.ui.search_bar, Qt.Key.Key_Down)  # from the query into the results
    assert view.hasFocus() or QApplication.focusWidget() is view
    qtbot.keyClick(view, Qt.Key.Key_Down)
    second = window.ui.model.file_at(view.currentIndex())
    qtbot.keyClick(view, Qt.Key.Key_Return)
    qtbot.keyClick(view, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(view, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    assert recording_opener.calls == [("open", second.path), ("reveal", second.path),
                                      ("copy", second.path)]
    assert QApplication.clipboard().text() == second.path
    menu = view.build_menu()
    assert [a.text() for a in menu.actions()][-1] == "Find similar files"


def test_ctrl_l_focuses_search(qtbot, window):
    window.ui.results.setFocus()
    window.focus_action.trigger()
    assert window.ui.search_bar.hasFocus() or QApplication.focusWidget() is window.ui.search_bar


def test_results_model_passes_model_tester(qtbot):
    model = ResultsModel()
    tester = QAbstractItemModelTester(model, QAbstractItemModelTester.FailureReportingMode.Fatal)
    chunk = [ChunkHit(i, 1.0 / i, f"chunk {i} text", (0, 10), (0, 5), page=i) for i in range(1, 5)]
    files = (FileResult("/x/a.pdf", 0.9, 10, 1.0, tuple(chunk), relevance=0.9),
             FileResult("/x/b.txt", 0.2, 3, 1.0, (), relevance=0.6))
    model.set_response(SearchResponse(SearchRequest("q"), files, 1.0, 64, True, False))
    assert model.rowCount() == 2 and model.rowCount(model.index(0, 0)) == 3
    child = model.index(1, 0, model.index(0, 0))
    assert model.chunk_at(child) == chunk[2] and model.parent(child) == model.index(0, 0)
    assert model.rowCount(model.index(1, 0)) == 0
    weaker = (*files, FileResult("/x/c.txt", 0.1, 3, 1.0, (), relevance=0.2))
    model.set_response(SearchResponse(SearchRequest("q"), weaker, 1.0, 64, True, False))
    assert model.rowCount() == 3 and model.marker_at(model.index(2, 0)).count == 1
    model.toggle_weaker()
    assert model.rowCount() == 4 and model.file_at(model.index(3, 0)).path == "/x/c.txt"
    assert model.drop_gone(lambda path: path == "/x/a.pdf") == 1 and model.rowCount() == 3
    model.clear()
    assert model.rowCount() == 0
    del tester


def test_empty_states(qtbot, window, fake_engine, tmp_path):
    assert "Drop a folder" in window.ui.results.empty_text
    fake_engine.add_roots([str(tmp_path)])
    assert "Type to search" in window.ui.results.empty_text
    _type_query(qtbot, window, "zebra")
    assert "No results" in window.ui.results.empty_text


def test_remove_folder_asks_and_says_data_is_deleted(qtbot, window, fake_engine, tmp_path):
    fake_engine.add_roots([str(tmp_path)])
    panel = window.ui.folders
    panel.list.setCurrentRow(0)
    asked: list[str] = []
    panel.confirm_remove = lambda _parent, path: asked.append(path) or False
    panel.remove_button.click()
    assert asked == [str(tmp_path)] and ("remove_root", str(tmp_path)) not in fake_engine.calls
    panel.confirm_remove = lambda _parent, _path: True
    panel.remove_button.click()
    assert ("remove_root", str(tmp_path)) in fake_engine.calls
    from qfinder.ui.folders_panel import REMOVE_WARNING

    assert "delete its index data" in REMOVE_WARNING


def test_pause_and_failed_files(qtbot, window, fake_engine):
    from qfinder.core.state import FileFailure

    window.ui.status.pause_button.setChecked(True)
    assert ("pause", None) in fake_engine.calls and window.ui.folders.pause_button.text() == "Resume"
    fake_engine.file_failed.emit(FileFailure("/x/broken.pdf", "encrypted PDF"))
    assert window.ui.status.failed_link.text().startswith('<a href="failures">1 file failed')
    window._retry(["/x/broken.pdf"])
    assert ("retry_failed", ("/x/broken.pdf",)) in fake_engine.calls


def test_filters_change_the_request(qtbot, window, fake_engine, tmp_path):
    _type_query(qtbot, window, "budget")
    filters = window.ui.filters
    with qtbot.waitSignal(window.search.response_ready, timeout=2000):
        filters.mode_box.setCurrentIndex(filters.mode_box.findData("keyword"))
    assert fake_engine.requests[-1].mode == "keyword"
    filters.kind_box.setCurrentIndex(filters.kind_box.findText("PDF"))
    assert fake_engine.requests[-1].filters.kinds == ("pdf",)
    before = time.time()
    filters.date_box.setCurrentIndex(filters.date_box.findText("Past week"))
    week_ago = fake_engine.requests[-1].filters.modified_after
    assert week_ago is not None and before - 7 * 86400 <= week_ago <= time.time() - 7 * 86400
    fake_engine.add_roots([str(tmp_path)])
    filters.folder_box.setCurrentIndex(filters.folder_box.findData(str(tmp_path)))
    assert fake_engine.requests[-1].filters.folders == (str(tmp_path),)


def test_controls_have_accessible_names_and_a_tab_order(window):
    from PySide6.QtWidgets import QAbstractButton, QAbstractSlider, QComboBox, QLineEdit

    controls = [w for kind in (QLineEdit, QComboBox, QAbstractSlider, QAbstractButton)
                for w in window.findChildren(kind) if w.isVisibleTo(window)]
    unnamed = [w for w in controls if not (w.accessibleName() or getattr(w, "text", lambda: "")())]
    assert not unnamed, f"controls without an accessible name: {unnamed}"
    seen, widget = [], window.ui.search_bar
    while len(seen) < 6:  # the tab stops: the focus chain holds untabbable children too
        if widget.focusPolicy() & Qt.FocusPolicy.TabFocus:
            seen.append(widget)
        widget = widget.nextInFocusChain()
    assert window.ui.instructions in seen[:3]


def test_gpu_fallback_is_visible_in_the_status_bar(window, fake_engine):
    from qfinder.core.state import EngineStatus, ProviderReport

    report = ProviderReport("cuda", "CPUExecutionProvider", "CUDA libraries not found")
    fake_engine.status.emit(EngineStatus("idle", "Qwen3-Embedding-0.6B", report, 512))
    label = window.ui.status.model_label
    assert label.text().startswith("⚠") and "GPU not used" in label.text()
    assert "CUDA libraries not found" in label.toolTip()


def test_window_geometry_and_splitter_persist(qtbot, fake_engine):
    from qfinder.ui.main_window import MainWindow

    first = MainWindow(fake_engine)
    qtbot.addWidget(first)
    first.resize(760, 560)  # inside the offscreen screen (800x600): restoreGeometry clamps
    first.show()
    first.ui.splitter.setSizes([150, 350, 240])
    sizes = first.ui.splitter.sizes()
    first.close()
    second = MainWindow(fake_engine)
    qtbot.addWidget(second)
    second.show()
    # offscreen frame margins may shift a few pixels; the layout itself must come back
    assert abs(second.size().width() - 760) <= 16 and abs(second.size().height() - 560) <= 16
    assert all(abs(a - b) <= 16 for a, b in zip(second.ui.splitter.sizes(), sizes, strict=True))


def test_narrow_window_stacks_the_dimension_controls(qtbot, window):
    window.resize(700, 500)
    qtbot.waitUntil(lambda: window.ui.extra_row.indexOf(window.ui.dim) >= 0, timeout=2000)
    assert window.width() <= 720, "the window can be made narrow"
    from qfinder.ui.window_layout import fit_rows

    fit_rows(window.ui, 3000)
    assert window.ui.filter_row.indexOf(window.ui.dim) >= 0


def test_an_undecodable_name_shows_readably_and_opens_by_its_real_bytes(
        qtbot, window, fake_engine, docs_folder, recording_opener):
    real = f"{docs_folder}/bad\udcff\udcfename.txt"  # os.fsdecode(b".../bad\xff\xfename.txt")
    fake_engine.docs = {real: "The walrus sleeps on the drifting ice floe."}
    _type_query(qtbot, window, "walrus")
    view, model = window.ui.results, window.ui.model
    assert model.index(0, 0).data() == "bad\ufffd\ufffdname.txt"
    assert model.index(0, 0).data(Qt.ItemDataRole.ToolTipRole) == f"{docs_folder}/bad\ufffd\ufffdname.txt"
    assert "bad\ufffd\ufffdname.txt" in window.ui.preview.title.text()
    view.setFocus()
    view.setCurrentIndex(model.index(0, 0))
    qtbot.keyClick(view, Qt.Key.Key_Return)
    qtbot.keyClick(view, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.mouseClick(window.ui.preview.open_button, Qt.MouseButton.LeftButton)
    assert recording_opener.calls == [("open", real), ("reveal", real), ("open", real)]


def test_failed_files_dialog_shows_undecodable_names_readably_and_retries_them_exactly(qtbot):
    from qfinder.core.state import FileFailure
    from qfinder.ui.failures_dialog import FailuresDialog

    locked = "/archive/caf\udce9"  # os.fsdecode(b"/archive/caf\xe9")
    dialog = FailuresDialog()
    qtbot.addWidget(dialog)
    dialog.set_failures([FileFailure(locked, "folder could not be read: permission denied")])
    assert dialog.table.item(0, 0).text() == "/archive/caf\ufffd"
    with qtbot.waitSignal(dialog.retry_requested) as retried:
        dialog.retry_all.click()
    assert retried.args == [[locked]]
