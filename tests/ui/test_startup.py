"""Starting the desktop app: a data folder held by a window that does not answer is explained."""

from __future__ import annotations

from qfinder.services.single_instance import SingleInstance


def test_a_silent_window_lock_holder_is_explained(qtbot, tmp_path, monkeypatch):
    from qfinder import desktop as main

    shown: list[tuple[str, str]] = []
    monkeypatch.setattr(main.QMessageBox, "critical",
                        lambda _parent, title, text: shown.append((title, text)))
    data = tmp_path / "data"
    holder = SingleInstance(data)
    holder.lock.acquire()  # holds window.lock but never listens (a hung window)
    try:
        assert main._claim_single_instance(data, []) is None
    finally:
        holder.lock.release()
    assert len(shown) == 1
    title, text = shown[0]
    assert "already running" in title and str(data) in text and "does not respond" in text
    instance = main._claim_single_instance(data, [])  # once it is gone, we are the window
    try:
        assert isinstance(instance, SingleInstance) and instance.primary
    finally:
        instance.close()
