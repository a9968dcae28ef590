"""A stand-in engine for widget-level tests and screenshots: it meets the window's EngineLike
(qfinder.ui.engine_port), as EngineClient does.

It answers searches asynchronously (next event-loop turn) from an in-memory list of files,
scoring by shared words, so the window's real asynchronous paths are exercised.
"""

from __future__ import annotations

import dataclasses
import itertools
import os
import re
import time
from collections.abc import Iterable

from PySide6.QtCore import QObject, QTimer, Signal

from qfinder.core.config import LibraryConfig
from qfinder.core.results import ChunkHit, FileResult, SearchRequest, SearchResponse
from qfinder.core.state import (
    EngineStatus,
    ModelSummary,
    ProviderReport,
    ReembedEstimate,
    RootState,
)


@dataclasses.dataclass(frozen=True)
class FakeModelInfo:
    name: str = "Qwen3-Embedding-0.6B"
    min_dim: int = 32
    full_dim: int = 1024
    default_dim: int = 512
    instruction_aware: bool = True


class FakeEngine(QObject):
    results = Signal(object)
    progress = Signal(object)
    status = Signal(object)
    roots = Signal(object)
    file_failed = Signal(object)
    reembed_estimate = Signal(object)
    index_changed = Signal(object)
    error = Signal(str)
    stopped = Signal()

    def __init__(self, docs: dict[str, str] | None = None, info: FakeModelInfo | None = None) -> None:
        super().__init__()
        self.docs = docs or {}
        self.model_info = info
        self.index_memory_bytes = 3_400_000
        self.calls: list[tuple[str, object]] = []
        self.requests: list[SearchRequest] = []
        self.answer = True
        self.config = LibraryConfig()  # what status reports as the data folder's configuration
        self.estimate = ReembedEstimate(files=120, tokens=2_400_000)  # what estimate_reembed answers
        self._ids = itertools.count(1)
        self._roots: list[str] = []

    def _record(self, name: str, value: object = None) -> int:
        self.calls.append((name, value))
        return next(self._ids)

    def start(self) -> None:
        self.announce()

    def announce(self) -> None:
        name = self.model_info.name if self.model_info else None
        provider = ProviderReport("auto", "CPUExecutionProvider") if name else None
        info = self.model_info
        dim = info.default_dim if info else None
        summary = (ModelSummary(info.name, info.full_dim, info.min_dim, info.default_dim,
                                info.instruction_aware) if info else None)
        self.status.emit(EngineStatus("idle", name, provider, dim, model=summary,
                                      index_memory_bytes=self.index_memory_bytes if info else None,
                                      config=self.config))

    def shutdown(self, timeout_s: float = 3.0) -> bool:
        return True

    def search(self, request: SearchRequest) -> int:
        request_id = self._record("search", request)
        request = dataclasses.replace(request, request_id=request_id)
        self.requests.append(request)
        if self.answer:
            QTimer.singleShot(0, lambda: self.results.emit(self.respond(request)))
        return request_id

    def respond(self, request: SearchRequest) -> SearchResponse:
        words = _words(request.text)
        if request.like_paths:
            words = _words(" ".join(self.docs.get(p, "") for p in request.like_paths))
        found = []
        for path, text in self.docs.items():
            if path in request.like_paths:
                continue
            score = len(words & _words(text)) / max(1, len(words))
            if score > 0:
                found.append(_result(path, text, score, words))
        found.sort(key=lambda r: -r.score)
        return SearchResponse(request, tuple(found[: request.k]), 4.2, request.dim, request.rerank, True)

    def add_roots(self, paths: Iterable[str]) -> int:
        paths = list(paths)
        self._roots.extend(p for p in paths if p not in self._roots)
        self.roots.emit(tuple(RootState(p, "indexing", 0, 3, 0) for p in self._roots))
        return self._record("add_roots", tuple(paths))

    def remove_root(self, path: str) -> int:
        self._roots = [p for p in self._roots if p != path]
        self.roots.emit(tuple(RootState(p, "watching", 3, 0, 0) for p in self._roots))
        return self._record("remove_root", path)

    def pause(self) -> int:
        return self._record("pause")

    def resume(self) -> int:
        return self._record("resume")

    def rescan(self, path: str | None = None) -> int:
        return self._record("rescan", path)

    def set_dim(self, dim: int) -> int:
        return self._record("set_dim", dim)

    def set_model(self, folder: str) -> int:
        return self._record("set_model", folder)

    def configure(self, config) -> int:
        return self._record("configure", config)

    def estimate_reembed(self) -> int:
        request_id = self._record("estimate_reembed")
        self.reembed_estimate.emit(self.estimate)
        return request_id

    def retry_failed(self, paths: Iterable[str] = ()) -> int:
        return self._record("retry_failed", tuple(paths))


def _words(text: str) -> set[str]:
    return set(re.findall(r"\w+", text.lower()))


def _result(path: str, text: str, score: float, words: set[str]) -> FileResult:
    lowered = text.lower()
    hit = next((lowered.find(w) for w in words if lowered.find(w) >= 0), -1)
    word = next((w for w in words if lowered.find(w) == hit), "")
    highlight = (hit, hit + len(word)) if hit >= 0 else None
    chunk = ChunkHit(abs(hash(path)) % 10_000, score, text, (0, len(text)), highlight, None, 1)
    extra = ChunkHit(chunk.chunk_id + 1, score * 0.7, text[::-1][:80], (0, 80), None, 2, 12)
    found = tuple(w for w in words if w in lowered)
    return FileResult(path, score, len(text), time.time() - 3600 * 24, (chunk, extra), relevance=score,
                      matched_by=("words",), matched_words=found)


def sample_docs(folder: str) -> dict[str, str]:
    texts = {
        "budget-2024.txt": "The annual budget for 2024 allocates funds to research and travel.",
        "holiday-notes.md": "Notes on the summer holiday: train tickets, hotel booking, budget.",
        "recipe.txt": "A recipe for lemon cake with butter, sugar and eggs.",
    }
    return {os.path.join(folder, name): text for name, text in texts.items()}
