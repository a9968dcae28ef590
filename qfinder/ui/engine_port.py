"""What the window uses of the engine: `EngineLike`, met by services.engine.EngineClient (the
real engine thread) and by the tests' FakeEngine. The window knows nothing else of it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from PySide6.QtCore import SignalInstance

from qfinder.core.results import SearchRequest


class SearchEngine(Protocol):
    def search(self, request: SearchRequest) -> int:
        """Queue a search; its response echoes the returned id (ids only increase)."""
        ...


class EngineLike(SearchEngine, Protocol):
    """Every request returns at once with an increasing id; answers come as signals.

    Signals (each arrives on the GUI thread):
        results(object): SearchResponse; response.request.request_id is the id search() gave
        progress(object): IndexProgress
        status(object): EngineStatus
        roots(object): tuple[RootState, ...], every folder indexed and its state
        file_failed(object): FileFailure
        error(str): a message for people
    """

    @property
    def results(self) -> SignalInstance: ...
    @property
    def progress(self) -> SignalInstance: ...
    @property
    def status(self) -> SignalInstance: ...
    @property
    def roots(self) -> SignalInstance: ...
    @property
    def file_failed(self) -> SignalInstance: ...
    @property
    def error(self) -> SignalInstance: ...

    def add_roots(self, paths: Iterable[str]) -> int: ...
    def remove_root(self, path: str) -> int: ...
    def rescan(self, path: str | None = None) -> int: ...
    def retry_failed(self, paths: Iterable[str] = ()) -> int: ...
    def pause(self) -> int: ...
    def resume(self) -> int: ...
    def set_dim(self, dim: int) -> int: ...
    def set_model(self, folder: str) -> int: ...
