"""Empty and binary files are found by name (the CLI's "name only"), not listed as failures."""

from __future__ import annotations

from qfinder.core.state import FileFailure
from qfinder.core.storage.catalog import Catalog


def test_the_catalog_tells_name_only_files_from_failures(tmp_path):
    catalog = Catalog(tmp_path / "catalog.db")
    root = catalog.add_root(str(tmp_path))
    for name, status, reason in (("empty.txt", "name-only", "no text found in the file"),
                                 ("broken.pdf", "failed", "the PDF is damaged")):
        file_id, _changed = catalog.upsert_file(str(tmp_path / name), root_id=root, size=1,
                                                mtime_ns=1, inode=1, kind="txt")
        catalog.mark_file(file_id, status, reason)
    found = {f.path.rsplit("/", 1)[-1]: f.name_only for f in catalog.failures()}
    assert found == {"empty.txt": True, "broken.pdf": False}


def _report(window, tmp_path):
    window.engine.file_failed.emit(FileFailure(str(tmp_path / "empty.txt"), "no text found in the file",
                                               name_only=True))
    window.engine.file_failed.emit(FileFailure(str(tmp_path / "blob.txt"), "binary file", name_only=True))
    window.engine.file_failed.emit(FileFailure(str(tmp_path / "broken.pdf"), "the PDF is damaged"))


def test_the_status_bar_counts_only_real_failures(qtbot, window, tmp_path):
    _report(window, tmp_path)
    link = window.ui.status.failed_link.text()
    assert "1 file failed" in link and "2 found by name only" in link


def test_the_failed_files_list_shows_name_only_files_as_found_by_name(qtbot, window, tmp_path):
    from qfinder.ui.failures_dialog import FailuresDialog

    _report(window, tmp_path)
    window.show_failures()
    dialog = window.findChild(FailuresDialog)
    rows = {dialog.table.item(r, 0).text().rsplit("/", 1)[-1]: dialog.table.item(r, 1).text()
            for r in range(dialog.table.rowCount())}
    assert rows["empty.txt"].startswith("Found by name only") and "no text" in rows["empty.txt"]
    assert rows["broken.pdf"].startswith("Failed")
