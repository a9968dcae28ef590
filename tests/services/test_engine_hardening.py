"""The engine on a catalog that goes bad under it, and on a disk that filled up: it rebuilds a
damaged catalog by itself and gives the WAL's space back whenever it has caught up."""

from __future__ import annotations

from pathlib import Path

from support.damage import flip_page_of

from qfinder.core.results import SearchRequest


def _indexed_until_idle(qtbot, make_engine, tmp_path: Path, n: int):
    """An engine that indexed n files under tmp_path/root and then reported "idle"."""
    root = tmp_path / "root"
    root.mkdir()
    for i in range(n):
        (root / f"doc{i:03d}.txt").write_text(f"marker{i} " + " ".join(f"w{i}x{j}" for j in range(40)))
    client = make_engine()
    states: list[str] = []
    client.status.connect(lambda status: states.append(status.state))
    client.add_roots([str(root)])
    qtbot.waitUntil(lambda: "indexing" in states and states[-1] == "idle", timeout=30_000)
    return client


def test_the_wal_is_empty_once_the_engine_is_up_to_date(qtbot, make_engine, tmp_path):
    client = _indexed_until_idle(qtbot, make_engine, tmp_path, 6)
    wal = tmp_path / "data" / "catalog.db-wal"
    assert client.running and wal.exists() and wal.stat().st_size == 0


def test_a_page_damaged_while_running_is_set_aside_and_rebuilt(qtbot, make_engine, helpers, tmp_path):
    client = _indexed_until_idle(qtbot, make_engine, tmp_path, 6)
    flip_page_of(tmp_path / "data" / "catalog.db", "chunks_fts_idx")
    with qtbot.waitSignal(client.error, timeout=20_000, check_params_cb=lambda m: "catalog.db.corrupt-" in m) as notice:
        client.search(SearchRequest("marker3", mode="keyword"))
    assert "damaged" in notice.args[0] and "indexed again" in notice.args[0]
    wanted = str(tmp_path / "root" / "doc003.txt")
    helpers.wait_found(qtbot, client, "marker3", lambda paths: wanted in paths)
