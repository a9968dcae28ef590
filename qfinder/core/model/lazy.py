"""A `TextEmbedder` that opens its model only when something is embedded or tokenized.

    embedder = open_lazily(folder, "auto", None, EmbedOptions(), cache_dir)
    embedder.info        # from the facts cache: no onnxruntime, no onnx, no session
    embedder.loaded      # False until the first embed_* / count_tokens / token_spans
    embedder.opening     # ModelOpening: how long the model took to open (here or last time), where
                         # the optimized graph came from, whether it is open now
    embedder.release()   # close the opened model (its memory back); the next use opens it again

Most runs need the model's facts only — an unchanged re-index stamps and diffs, a keyword search
resolves nothing, `qfinder status` shows the name — and opening the model is most of their time.
The facts (`ModelInfo`, the provider it ran on, how long it took to open) are remembered per
model folder in `<cache_dir>/facts.json`, keyed by the folder's files (names, sizes, mtimes),
the variant and the MRL override: a changed model misses and is opened at once, which measures
its true size (Embedder.from_folder's probe), so a stamp built from the facts is the one the
model itself would give. A cancel that arrives before the model is open is kept for it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, cast, get_args

from qfinder.core.model.info import EmbedOptions, ModelInfo
from qfinder.core.model.protocol import Embedded
from qfinder.core.paths import read_json_object, write_atomic
from qfinder.core.state import GraphOrigin, ModelOpening, ProviderReport

if TYPE_CHECKING:
    from qfinder.core.model.protocol import TextEmbedder

log = logging.getLogger(__name__)

FACTS = "facts.json"
FACTS_KEPT = 8  # model folders remembered (a few variants and switches)
_WATCHED = ("", "onnx", "1_Pooling")  # where a model folder's files that shape ModelInfo live


@dataclass(frozen=True)
class ModelFacts:
    info: ModelInfo
    provider: ProviderReport
    open_s: float  # wall time of the last open: session, tokenizer and the size probe
    graph: GraphOrigin = "unknown"  # where onnxruntime's optimized graph came from then


class LazyEmbedder:
    def __init__(self, facts: ModelFacts, open_model: Callable[[], TextEmbedder],
                 on_open: Callable[[ModelFacts], None] = lambda facts: None) -> None:
        self._facts = facts
        self._open_model = open_model
        self._on_open = on_open
        self._model: TextEmbedder | None = None
        self._cancelled = threading.Event()
        self._lock = threading.Lock()  # cancel() from another thread meets a model being opened

    @property
    def loaded(self) -> bool:
        return self._model is not None

    @property
    def info(self) -> ModelInfo:
        model = self._model  # read once: release() may drop it from another thread meanwhile
        return model.info if model is not None else self._facts.info

    @property
    def provider(self) -> ProviderReport:
        model = self._model
        return model.provider if model is not None else self._facts.provider

    @property
    def opening(self) -> ModelOpening:
        return ModelOpening(self._facts.open_s, self._facts.graph, self.loaded)

    def load(self) -> TextEmbedder:
        """The model, opened now if it is not yet."""
        model = self._model
        if model is None:
            model, seconds = _timed_open(self._open_model)
            self._set_model(model, seconds)
        return model

    def _set_model(self, model: TextEmbedder, seconds: float) -> None:
        if model.info != self._facts.info:
            log.warning("%s changed since it was last opened: its facts are updated", model.info.name)
        self._facts = _facts_of(model, seconds)
        with self._lock:
            self._model = model
            if self._cancelled.is_set():
                model.cancel()
        self._on_open(self._facts)

    def release(self) -> bool:
        """Close the opened model, session and tokenizer, so their memory goes back (the next
        embed or tokenize opens it again, from the optimized-graph cache). Whether one was open."""
        with self._lock:
            model, self._model = self._model, None
        if model is None:
            return False
        model.close()
        return True

    def count_tokens(self, text: str) -> int:
        return self.load().count_tokens(text)

    def token_spans(self, texts: Sequence[str]) -> list[list[tuple[int, int]]]:
        return self.load().token_spans(texts)

    def embed_documents_with_stats(self, texts: Sequence[str], dim: int | None = None) -> Embedded:
        return self.load().embed_documents_with_stats(texts, dim)

    def embed_queries_with_stats(self, texts: Sequence[str], instruction: str | None = None,
                                 dim: int | None = None) -> Embedded:
        return self.load().embed_queries_with_stats(texts, instruction, dim)

    def cancel(self) -> None:
        with self._lock:
            self._cancelled.set()
            if self._model is not None:
                self._model.cancel()

    def reset_cancel(self) -> None:
        with self._lock:
            self._cancelled.clear()
            if self._model is not None:
                self._model.reset_cancel()

    def close(self) -> None:
        if self._model is not None:
            self._model.close()


def open_lazily(folder: Path, provider: str, variant: str | None, options: EmbedOptions,
                cache_dir: Path) -> TextEmbedder:
    """The model of `folder` as a LazyEmbedder; opened now when its facts are not known yet."""
    key = folder_key(folder, variant, options)

    def open_model() -> TextEmbedder:
        from qfinder.core.model.embedder import Embedder  # onnxruntime only now

        return Embedder.from_folder(folder, provider, variant, options, cache_dir / "graphs")

    def remember(facts: ModelFacts) -> None:
        _remember(cache_dir, key, facts)

    known = _recall(cache_dir, key, provider)
    if known is not None:
        return LazyEmbedder(known, open_model, remember)
    model, seconds = _timed_open(open_model)
    lazy = LazyEmbedder(_facts_of(model, seconds), open_model, remember)
    lazy._set_model(model, seconds)
    return lazy


def folder_key(folder: Path, variant: str | None, options: EmbedOptions) -> str:
    digest = hashlib.sha1(usedforsecurity=False)
    digest.update(f"{folder.resolve()}|{variant}|{options.force_mrl}".encode("utf-8", "surrogateescape"))
    for sub in _WATCHED:
        where = folder / sub
        if not where.is_dir():
            continue
        for path in sorted(where.iterdir()):
            if path.is_file():
                st = path.stat()
                digest.update(f"|{sub}/{path.name}:{st.st_size}:{st.st_mtime_ns}".encode("utf-8", "surrogateescape"))
    return digest.hexdigest()


def _facts_of(model: TextEmbedder, seconds: float) -> ModelFacts:
    # only the local engine has an onnxruntime graph; any other TextEmbedder's is "unknown"
    graph: GraphOrigin = getattr(model, "graph_origin", "unknown")
    return ModelFacts(model.info, model.provider, seconds, graph)


def _timed_open(open_model: Callable[[], TextEmbedder]) -> tuple[TextEmbedder, float]:
    started = time.perf_counter()
    model = open_model()
    return model, time.perf_counter() - started


def _recall(cache_dir: Path, key: str, provider: str) -> ModelFacts | None:
    entry = read_json_object(cache_dir / FACTS).get(key)
    if not isinstance(entry, dict):
        return None
    try:
        facts = ModelFacts(ModelInfo(**entry["info"]), ProviderReport(**entry["provider"]),
                           float(entry["open_s"]), _graph_origin(entry.get("graph")))
    except (TypeError, KeyError, ValueError):  # none, or written by another qfinder version
        return None
    return facts if facts.provider.requested == provider else None


def _graph_origin(value: object) -> GraphOrigin:
    # facts written before qfinder recorded the graph's origin have none
    return cast(GraphOrigin, value) if value in get_args(GraphOrigin) else "unknown"


def _remember(cache_dir: Path, key: str, facts: ModelFacts) -> None:
    known = read_json_object(cache_dir / FACTS)
    known.pop(key, None)
    known[key] = {"info": asdict(facts.info), "provider": asdict(facts.provider),
                  "open_s": round(facts.open_s, 3), "graph": facts.graph}
    kept = dict(list(known.items())[-FACTS_KEPT:])
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        write_atomic(cache_dir / FACTS, json.dumps(kept, indent=1))
    except OSError as exc:  # a read-only data folder: the model is opened every time, nothing lost
        log.info("could not remember the model's facts in %s: %s", cache_dir, exc)
