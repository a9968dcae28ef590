"""Another process holds the data folder's write lock: the engine searches, then takes over."""

from __future__ import annotations

from pathlib import Path

from qfinder.core.library.writelock import WriteLock
from qfinder.services.settings import EngineSettings

FAST = EngineSettings(quiet_s=0.15, max_delay_s=1.0, watch_check_s=0.1, polling_interval_s=0.2,
                      reconcile_interval_s=0, nice=5, writer_poll_s=0.1)


def _indexed(qtbot, client, count: int, root: str) -> None:
    with qtbot.waitSignal(client.roots, timeout=30_000,
                          check_params_cb=lambda states: any(
                              s.path == root and s.files_indexed == count and s.files_pending == 0
                              for s in states)):
        client.rescan(root)


def test_engine_searches_read_only_while_another_process_indexes(qtbot, make_engine, helpers,
                                                                  tmp_path: Path):
    data, root = tmp_path / "data", tmp_path / "docs"
    root.mkdir()
    (root / "first.txt").write_text("alpha orchard notes\n")
    first = make_engine(data_dir=data, settings=FAST)
    first.add_roots([str(root)])
    _indexed(qtbot, first, 1, str(root))
    assert first.shutdown(3.0)

    other = WriteLock(data)  # "another process" (a separate lock file descriptor)
    other.acquire()
    try:
        (root / "second.txt").write_text("bravo harbour notes\n")
        engine = make_engine(data_dir=data, settings=FAST, start=False)
        with qtbot.waitSignal(engine.status, timeout=20_000,
                              check_params_cb=lambda s: s.state != "starting") as blocker:
            engine.start()
        assert blocker.args[0].state == "idle", blocker.args[0]
        assert blocker.args[0].message == ("Another qfinder process is indexing this data folder; "
                                           "indexing resumes when it finishes.")
        assert helpers.paths_of(helpers.ask(qtbot, engine, "orchard")) == {str(root / "first.txt")}
        with qtbot.waitSignal(engine.error, timeout=5000) as refused:
            engine.add_roots([str(tmp_path)])
        assert "cannot be changed now" in refused.args[0]
    finally:
        other.release()
    # the lock is free: the engine reopens as the writer and catches up with the folder
    helpers.wait_found(qtbot, engine, "harbour", lambda paths: str(root / "second.txt") in paths)


def test_engine_waits_while_another_process_creates_the_index(qtbot, make_engine, helpers,
                                                              tmp_path: Path):
    from qfinder.services.worker import CREATING_ELSEWHERE

    data = tmp_path / "data"
    data.mkdir()
    other = WriteLock(data)
    other.acquire()  # holds the lock before any catalog exists
    try:
        engine = make_engine(data_dir=data, settings=FAST, start=False)
        with qtbot.waitSignal(engine.status, timeout=20_000,
                              check_params_cb=lambda s: s.state != "starting") as blocker:
            engine.start()
        assert blocker.args[0].state == "idle" and blocker.args[0].message == CREATING_ELSEWHERE
    finally:
        other.release()
    with qtbot.waitSignal(engine.status, timeout=10_000,
                          check_params_cb=lambda s: s.model is not None):
        pass  # the next poll takes the lock and opens the index as its writer
    assert helpers.ask(qtbot, engine, "anything").results == ()
