"""FolderWatcher on real folders with real watchdog observers."""

from __future__ import annotations

import errno
import os
import shutil

import pytest
from watchdog.events import FileSystemEventHandler

from qfinder.watch import WATCH_LIMIT_HINT, FolderWatcher


def _root(tmp_path, name="root"):
    root = tmp_path / name
    root.mkdir()
    return root


def test_create_modify_delete(watcher: FolderWatcher, collector, tmp_path):
    root = _root(tmp_path)
    watcher.set_roots([str(root)])
    f = root / "a.txt"
    f.write_text("one")
    collector.wait(lambda: str(f) in collector.field("changed"))
    collector.clear()
    f.write_text("two")
    collector.wait(lambda: str(f) in collector.field("changed"))
    collector.clear()
    f.unlink()
    collector.wait(lambda: str(f) in collector.field("removed"))


def test_atomic_save_becomes_a_change_of_the_target(watcher, collector, tmp_path):
    root = _root(tmp_path)
    target = root / "notes.md"
    target.write_text("old")
    watcher.set_roots([str(root)])
    tmp = root / ".notes.md.swp"
    tmp.write_text("new")
    os.replace(tmp, target)
    collector.wait(lambda: str(target) in collector.field("changed"))
    assert str(target) not in collector.field("removed")


def test_rename_removes_the_old_name_and_adds_the_new(watcher, collector, tmp_path):
    root = _root(tmp_path)
    old = root / "old.txt"
    old.write_text("x")
    watcher.set_roots([str(root)])
    new = root / "new.txt"
    old.rename(new)
    collector.wait(lambda: str(new) in collector.field("changed")
                   and str(old) in collector.field("removed"))


def test_folder_moved_out_and_in_and_rmtree(watcher, collector, tmp_path):
    root = _root(tmp_path)
    outside = _root(tmp_path, "outside")
    inner = root / "inner"
    inner.mkdir()
    (inner / "x.txt").write_text("x")
    watcher.set_roots([str(root)])
    shutil.move(str(inner), str(outside / "inner"))
    collector.wait(lambda: str(inner) in collector.field("removed_prefixes"))
    collector.clear()
    shutil.move(str(outside / "inner"), str(root / "back"))
    collector.wait(lambda: str(root / "back") in collector.field("scan_folders"))
    collector.clear()
    shutil.rmtree(root / "back")
    collector.wait(lambda: str(root / "back") in collector.field("removed_prefixes"))


def test_mkdir_with_files_is_a_folder_scan(watcher, collector, tmp_path):
    root = _root(tmp_path)
    watcher.set_roots([str(root)])
    sub = root / "new"
    sub.mkdir()
    for i in range(20):
        (sub / f"{i}.txt").write_text(str(i))
    collector.wait(lambda: str(sub) in collector.field("scan_folders"))
    # files below a folder to scan are not listed again one by one in the batch that scans it
    # (a file created after that batch went out is a change of its own, on a slow machine too)
    with collector.cond:
        scanning = [b for b in collector.batches if str(sub) in b.scan_folders]
    assert scanning and not any(p.startswith(str(sub) + os.sep) for b in scanning for p in b.changed)


def test_a_handler_failure_is_swallowed(watcher, collector, tmp_path, monkeypatch):
    root = _root(tmp_path)
    watcher.set_roots([str(root)])
    original = watcher.handler._translate
    calls = {"n": 0}

    def flaky(event):
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("injected")
        original(event)

    monkeypatch.setattr(watcher.handler, "_translate", flaky)
    (root / "first.txt").write_text("1")
    (root / "second.txt").write_text("2")
    collector.wait(lambda: str(root / "second.txt") in collector.field("changed"))
    assert watcher.handler.failures >= 1
    assert watcher.observer.is_alive()


class _Exploding(FileSystemEventHandler):
    def dispatch(self, event):
        raise RuntimeError("injected: kills the observer thread")


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_a_dead_observer_is_restarted_and_reconciled(watcher, collector, tmp_path):
    root = _root(tmp_path)
    watcher.set_roots([str(root)])
    dying = watcher.observer
    dying.schedule(_Exploding(), str(root), recursive=True)
    (root / "boom.txt").write_text("x")
    collector.wait(lambda: any(n.kind == "restarted" for n in collector.notices))
    restart = next(n for n in collector.notices if n.kind == "restarted")
    assert restart.reconcile == (str(root),)
    assert watcher.observer is not dying and watcher.observer.is_alive()
    later = root / "later.txt"
    later.write_text("y")
    collector.wait(lambda: str(later) in collector.field("changed"))


def test_watch_limit_falls_back_to_polling_and_tells_once(collector, tmp_path, monkeypatch):
    roots = [_root(tmp_path, "r1"), _root(tmp_path, "r2")]
    w = FolderWatcher(collector.on_batch, collector.on_notice, quiet_s=0.1,
                      check_interval_s=0.1, polling_interval_s=0.1)
    w.start()
    try:
        def refuse(*_a, **_k):
            raise OSError(errno.ENOSPC, "inotify watch limit reached")

        monkeypatch.setattr(w.observer, "schedule", refuse)
        w.set_roots([str(r) for r in roots])
        assert set(w.modes().values()) == {"polling"}
        limit = [n for n in collector.notices if n.kind == "watch-limit"]
        assert len(limit) == 1 and "max_user_watches=524288" in limit[0].hint
        assert limit[0].hint == WATCH_LIMIT_HINT
        f = roots[1] / "polled.txt"
        f.write_text("p")
        collector.wait(lambda: str(f) in collector.field("changed"))
    finally:
        w.stop()


def test_a_vanished_root_is_unavailable_not_purged(watcher, collector, tmp_path):
    root = _root(tmp_path)
    (root / "keep.txt").write_text("k")
    watcher.set_roots([str(root)])
    aside = tmp_path / "aside"
    root.rename(aside)
    collector.wait(lambda: any(n.kind == "unavailable" for n in collector.notices))
    assert watcher.modes()[str(root)] == "unavailable"
    assert str(root) not in collector.field("removed_prefixes")
    aside.rename(root)
    collector.wait(lambda: any(n.kind == "available" for n in collector.notices))
    back = next(n for n in collector.notices if n.kind == "available")
    assert back.reconcile == (str(root),)
    assert watcher.modes()[str(root)] == "watching"


def test_filter_drops_excluded_paths(collector, tmp_path):
    root = _root(tmp_path)
    w = FolderWatcher(collector.on_batch, collector.on_notice, quiet_s=0.1,
                      accept=lambda path, is_dir: not path.endswith(".tmp"))
    w.start()
    try:
        w.set_roots([str(root)])
        (root / "skip.tmp").write_text("x")
        (root / "keep.txt").write_text("x")
        collector.wait(lambda: str(root / "keep.txt") in collector.field("changed"))
        assert str(root / "skip.tmp") not in collector.field("changed")
    finally:
        w.stop()
