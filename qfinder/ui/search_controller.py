"""Builds search requests from the widgets, sends them, and drops stale responses.

Every request the engine accepts gets an increasing id; only responses for the latest id are
shown (a keyword pass and a later semantic refinement of the same id both count as current).
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable

from PySide6.QtCore import QObject, Signal, Slot

from qfinder.core.results import SearchFilters, SearchMode, SearchRequest, SearchResponse
from qfinder.ui.engine_port import SearchEngine

log = logging.getLogger(__name__)


@dataclasses.dataclass
class QueryState:
    """What the next request is made of; each widget updates its part."""

    text: str = ""
    instruction: str | None = None
    dim: int | None = None
    rerank: bool = True
    mode: SearchMode = "hybrid"
    filters: SearchFilters = dataclasses.field(default_factory=SearchFilters)
    like_paths: tuple[str, ...] = ()
    k: int = 50


class SearchController(QObject):
    response_ready = Signal(object)  # SearchResponse for the latest request
    cleared = Signal()
    request_sent = Signal(object)  # SearchRequest, for status text and tests

    def __init__(self, engine: SearchEngine, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._engine = engine
        self.state = QueryState()
        self.latest_id = 0
        self.last_request: SearchRequest | None = None
        self.last_response: SearchResponse | None = None
        self.dropped_stale = 0
        self._refresh_id: int | None = None  # the request that asks the shown query again
        self.clock: Callable[[], float] = time.monotonic

    def build_request(self) -> SearchRequest:
        s = self.state
        return SearchRequest(
            text=s.text, instruction=s.instruction, dim=s.dim, k=s.k, rerank=s.rerank,
            mode=s.mode, filters=s.filters, like_paths=s.like_paths,
        )

    def has_query(self) -> bool:
        return bool(self.state.text.strip() or self.state.like_paths)

    @Slot(str)
    def search_text(self, text: str) -> int | None:
        self.state.text = text
        self.state.like_paths = ()
        return self.rerun()

    def find_similar(self, paths: list[str] | tuple[str, ...]) -> int | None:
        self.state.like_paths = tuple(paths)
        self.state.text = ""
        return self.rerun()

    def rerun(self) -> int | None:
        """Send the current query again (after a change of instruction, dim, mode or filter)."""
        if not self.has_query():
            return None
        request = self.build_request()
        request_id = self._engine.search(request)
        self.latest_id = request_id
        self.last_request = dataclasses.replace(request, request_id=request_id)
        self.request_sent.emit(self.last_request)
        return request_id

    def refresh(self) -> int | None:
        """The shown query again, as the index changed under it: its answer keeps the place."""
        self._refresh_id = self.rerun()
        return self._refresh_id

    def is_refresh(self, response: SearchResponse) -> bool:
        return self._refresh_id is not None and response.request.request_id == self._refresh_id

    @Slot()
    def clear(self) -> None:
        self.state.text = ""
        self.state.like_paths = ()
        self.last_request = None  # responses still in flight are dropped from now on
        self.last_response = None
        self.cleared.emit()

    @Slot(object)
    def on_results(self, response: SearchResponse) -> None:
        """Slot for the engine's `results` signal."""
        request_id = response.request.request_id
        if self.last_request is None or request_id != self.latest_id:
            self.dropped_stale += 1
            log.debug("dropping stale response %s (latest %s)", request_id, self.latest_id)
            return
        self.last_response = response
        self.response_ready.emit(response)
