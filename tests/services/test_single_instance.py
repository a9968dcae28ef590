"""A second start hands its folders to the first and never becomes a second writer."""

from __future__ import annotations

import pytest

from qfinder.core.library.writelock import WriteLock, WriterBusyError
from qfinder.services.single_instance import SingleInstance


def test_second_start_forwards_folders_to_the_first(qtbot, tmp_path):
    first = SingleInstance(tmp_path / "data")
    second = SingleInstance(tmp_path / "data")
    try:
        assert first.claim()
        with qtbot.waitSignal(first.activated, timeout=5000) as blocker:
            assert not second.claim([str(tmp_path / "docs")])
        assert blocker.args[0] == (str(tmp_path / "docs"),)
        assert not second.primary
    finally:
        first.close()
        second.close()
    third = SingleInstance(tmp_path / "data")  # the first is gone: the next start is primary
    try:
        assert third.claim()
    finally:
        third.close()


def test_the_window_lock_is_not_the_engine_writer_lock(tmp_path):
    instance = SingleInstance(tmp_path / "data")
    try:
        assert instance.claim()
        with WriteLock(tmp_path / "data") as writer:  # the engine in the same process
            assert writer.held
            with pytest.raises(WriterBusyError):  # but a second writer is refused
                WriteLock(tmp_path / "data").acquire()
    finally:
        instance.close()


def test_a_silent_lock_holder_is_reported(tmp_path):
    data = tmp_path / "data"
    holder = SingleInstance(data)
    holder.lock.acquire()  # holds the window lock but never listens (a hung start)
    try:
        with pytest.raises(WriterBusyError):
            SingleInstance(data).claim()
    finally:
        holder.lock.release()
