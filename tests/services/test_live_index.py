"""The engine keeps the index true while files change under a real watchdog observer."""

from __future__ import annotations

import os
import shutil

import pytest
from watchdog.events import FileSystemEventHandler

from qfinder.core.storage.catalog import Catalog


def _write(path, words: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"{words} " * 5 + "\n")


def test_every_kind_of_change_reaches_search(qtbot, make_engine, helpers, tmp_path):
    root = tmp_path / "root"
    outside = tmp_path / "outside"
    outside.mkdir()
    _write(root / "keep.txt", "aardvark")
    client = make_engine()
    client.add_roots([str(root)])
    found = helpers.wait_found
    found(qtbot, client, "aardvark", lambda p: str(root / "keep.txt") in p)
    latencies = {}

    new = root / "new.txt"
    _write(new, "bison")  # create
    latencies["create"] = found(qtbot, client, "bison", lambda p: str(new) in p)
    _write(new, "cheetah")  # modify
    latencies["modify"] = found(qtbot, client, "cheetah", lambda p: str(new) in p)
    tmp = root / ".new.txt.swp"  # an editor's atomic save: write a temp file, rename over
    _write(tmp, "dingo")
    os.replace(tmp, new)
    latencies["atomic save"] = found(qtbot, client, "dingo", lambda p: p == {str(new)})
    renamed = root / "renamed.txt"
    new.rename(renamed)
    latencies["rename"] = found(qtbot, client, "dingo", lambda p: p == {str(renamed)})
    _write(outside / "sub" / "a.txt", "elephant")
    shutil.move(str(outside / "sub"), str(root / "sub"))  # folder moved in
    latencies["move in"] = found(qtbot, client, "elephant", lambda p: str(root / "sub" / "a.txt") in p)
    shutil.move(str(root / "sub"), str(outside / "sub"))  # folder moved out
    latencies["move out"] = found(qtbot, client, "elephant", lambda p: not p)
    renamed.unlink()  # delete
    latencies["delete"] = found(qtbot, client, "dingo", lambda p: not p)
    for i in range(5):  # mkdir with files
        _write(root / "made" / f"{i}.txt", f"flamingo{i} flamingo")
    latencies["mkdir+files"] = found(qtbot, client, "flamingo", lambda p: len(p) == 5)
    shutil.rmtree(root / "made")  # rmtree
    latencies["rmtree"] = found(qtbot, client, "flamingo", lambda p: not p)
    print("change -> searchable (s):", {k: round(v, 2) for k, v in latencies.items()})


class _Exploding(FileSystemEventHandler):
    def dispatch(self, event):
        raise RuntimeError("injected: an exception in a watchdog handler")


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_a_killed_observer_is_restarted_and_nothing_is_lost(qtbot, make_engine, helpers, tmp_path):
    root = tmp_path / "root"
    _write(root / "a.txt", "gazelle")
    client = make_engine()
    client.add_roots([str(root)])
    helpers.wait_found(qtbot, client, "gazelle", lambda p: len(p) == 1)
    watcher = client.worker._bridge.watcher
    dying = watcher.observer
    dying.schedule(_Exploding(), str(root), recursive=True)
    _write(root / "lost.txt", "hyena")  # its event dies with the observer
    qtbot.waitUntil(lambda: watcher.restarts >= 1, timeout=5000)
    assert watcher.observer is not dying
    # the restart's reconcile recovers the lost event, and later events flow again
    helpers.wait_found(qtbot, client, "hyena", lambda p: str(root / "lost.txt") in p)
    _write(root / "later.txt", "ibex")
    helpers.wait_found(qtbot, client, "ibex", lambda p: str(root / "later.txt") in p)


def test_startup_reconcile_finds_what_happened_while_stopped(qtbot, make_engine, helpers, tmp_path):
    root = tmp_path / "root"
    data = tmp_path / "data"
    for name, word in (("same.txt", "jackal"), ("edit.txt", "koala"), ("gone.txt", "lemur"),
                       ("move.txt", "mongoose")):
        _write(root / name, word)
    first = make_engine(data_dir=data)
    first.add_roots([str(root)])
    helpers.wait_found(qtbot, first, "mongoose", lambda p: len(p) == 1)
    helpers.wait_found(qtbot, first, "koala", lambda p: len(p) == 1)
    assert first.shutdown(3.0)

    _write(root / "edit.txt", "narwhal")
    (root / "gone.txt").unlink()
    (root / "move.txt").rename(root / "moved.txt")
    _write(root / "added" / "x.txt", "ocelot")

    second = make_engine(data_dir=data)
    found = helpers.wait_found
    found(qtbot, second, "narwhal", lambda p: p == {str(root / "edit.txt")})
    found(qtbot, second, "koala", lambda p: not p)
    found(qtbot, second, "lemur", lambda p: not p)
    found(qtbot, second, "mongoose", lambda p: p == {str(root / "moved.txt")})
    found(qtbot, second, "ocelot", lambda p: p == {str(root / "added" / "x.txt")})
    found(qtbot, second, "jackal", lambda p: p == {str(root / "same.txt")})


def test_a_vanished_root_is_unavailable_and_kept(qtbot, make_engine, helpers, tmp_path):
    root = tmp_path / "root"
    _write(root / "a.txt", "penguin")
    client = make_engine()
    client.add_roots([str(root)])
    helpers.wait_found(qtbot, client, "penguin", lambda p: len(p) == 1)
    with qtbot.waitSignal(client.roots, timeout=5000,
                          check_params_cb=lambda s: s and s[0].availability == "unavailable"):
        root.rename(tmp_path / "unplugged")
    # entries are kept while the drive is away
    assert helpers.paths_of(helpers.ask(qtbot, client, "penguin")) == {str(root / "a.txt")}
    (tmp_path / "unplugged").rename(root)
    with qtbot.waitSignal(client.roots, timeout=5000,
                          check_params_cb=lambda s: s and s[0].availability == "watching"):
        pass


def test_a_data_folder_inside_a_root_does_not_feed_itself(qtbot, make_engine, helpers, tmp_path):
    root = tmp_path / "root"
    _write(root / "a.txt", "quokka")
    client = make_engine(data_dir=root / "qfinder-data")
    client.add_roots([str(root)])
    helpers.wait_found(qtbot, client, "quokka", lambda p: len(p) == 1)
    _write(root / "b.txt", "raccoon")  # a commit follows, writing to catalog.db inside the root
    helpers.wait_found(qtbot, client, "raccoon", lambda p: len(p) == 1)
    steps: list[object] = []
    client.progress.connect(steps.append)
    # Events reach the engine in order: once a file written after b's commit is indexed, any
    # work that commit's own catalog writes caused has been done too (no waiting for silence).
    _write(root / "c.txt", "sloth")
    helpers.wait_found(qtbot, client, "sloth", lambda p: len(p) == 1)
    qtbot.waitUntil(lambda: not steps[-1].files_pending if steps else False, timeout=10_000)
    assert len(steps) == 1, steps  # c.txt's step, and no loop of steps after commits
    catalog = Catalog(root / "qfinder-data" / "catalog.db", readonly=True)  # a reader beside it
    try:
        assert catalog.counts().files == 3  # a, b, c: nothing of the data folder
    finally:
        catalog.close()
