"""Which model really made a vector: a fingerprint of fixed probe texts, kept per data folder.

    fingerprint = fingerprint_of(embedder)          # full-size vectors of PROBE_DOCUMENTS + a query
    book = IdentityBook(data_dir)
    book.get(model_id) / book.put(model_id, fingerprint)
    agreement(a, b)                                  # the lowest cosine of paired probe vectors
    verdict = check_against(book, model_id, lambda: fingerprint_of(embedder), record=True)
    verdict.agrees / verdict.disagrees / verdict.score / verdict.recorded

A model id says what a model claims to be; a server's name for a model does not say whether its
weights, its quantization or its tokenizer (an old GGUF without the final end-of-text token)
give the vectors this index holds. Probe vectors do: two engines of the same model agree to
cos ≥ AGREE on every probe (fp16 GPUs included), anything else does not. So the stamp's model
id is recorded with a fingerprint, every connection to a server is checked against it, and an
index built locally may take a server's vectors (or the reverse) when the two agree.
"""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from qfinder.core.paths import read_json_object, write_atomic

if TYPE_CHECKING:
    from qfinder.core.model.protocol import TextEmbedder

log = logging.getLogger(__name__)

AGREE = 0.999
IDENTITY_FILE = "identity.json"
PROBE_DOCUMENTS = (
    "The quarterly budget review is scheduled for Monday morning.",
    "def parse_date(text):\n    return datetime.strptime(text, '%Y-%m-%d')",
    "Die Katze schläft auf dem warmen Fensterbrett.",
    "北京是中华人民共和国的首都。",
)
PROBE_QUERY = "when is the budget meeting"


@dataclass(frozen=True)
class Fingerprint:
    vectors: np.ndarray  # float32 [probes, full_dim], L2-normalised

    def to_text(self) -> str:
        rows, dim = self.vectors.shape
        return f"{rows}x{dim}:" + base64.b64encode(self.vectors.astype("<f4").tobytes()).decode("ascii")

    @classmethod
    def from_text(cls, text: str) -> Fingerprint:
        shape, _, data = text.partition(":")
        rows, dim = (int(n) for n in shape.split("x"))
        vectors = np.frombuffer(base64.b64decode(data), dtype="<f4").reshape(rows, dim)
        return cls(vectors.astype(np.float32))


def fingerprint_of(embedder: TextEmbedder) -> Fingerprint:
    documents = embedder.embed_documents_with_stats(list(PROBE_DOCUMENTS)).vectors
    query = embedder.embed_queries_with_stats([PROBE_QUERY]).vectors
    return Fingerprint(np.concatenate([documents, query]).astype(np.float32))


def agreement(a: Fingerprint, b: Fingerprint) -> float:
    """The lowest cosine between paired probe vectors; 0 when their shapes differ."""
    if a.vectors.shape != b.vectors.shape:
        return 0.0
    return float(np.min(np.sum(a.vectors * b.vectors, axis=1)))


class IdentityBook:
    """Fingerprints by model id, in `<data_dir>/identity.json` (one entry per stamp seen), and
    aliases: an engine whose fingerprint agreed with a stamp's embeds under that stamp's id."""

    ALIASES = "aliases"

    def __init__(self, data_dir: Path) -> None:
        self.path = Path(data_dir) / IDENTITY_FILE

    def get(self, model_id: str) -> Fingerprint | None:
        text = self._read().get(model_id)
        try:
            return Fingerprint.from_text(text) if isinstance(text, str) else None
        except (ValueError, TypeError):
            log.warning("ignoring an unreadable fingerprint for %s in %s", model_id, self.path)
            return None

    def put(self, model_id: str, fingerprint: Fingerprint) -> None:
        book = self._read()
        book[model_id] = fingerprint.to_text()
        self._write(book)

    def _write(self, book: dict[str, object]) -> None:
        try:
            write_atomic(self.path, json.dumps(book, indent=1))
        except OSError as exc:  # a read-only data folder: checked again on the next connect
            log.info("could not keep the fingerprint in %s: %s", self.path, exc)

    def alias(self, model_id: str) -> str | None:
        aliases = self._read().get(self.ALIASES)
        found = aliases.get(model_id) if isinstance(aliases, dict) else None
        return str(found) if found else None

    def put_alias(self, model_id: str, stamp_id: str) -> None:
        book = self._read()
        aliases = book.get(self.ALIASES)
        book[self.ALIASES] = {**(aliases if isinstance(aliases, dict) else {}), model_id: stamp_id}
        self._write(book)

    def _read(self) -> dict[str, object]:
        return read_json_object(self.path)


@dataclass(frozen=True)
class Verdict:
    """How an engine's fingerprint compares with the one kept for its model id."""

    score: float | None  # agreement with the kept fingerprint; None: none was kept
    recorded: bool = False  # none was kept: the engine's was written as the model id's

    @property
    def agrees(self) -> bool:
        return self.score is not None and self.score >= AGREE

    @property
    def disagrees(self) -> bool:
        """Compared and found another model (unlike `not agrees`, False with nothing to compare)."""
        return self.score is not None and self.score < AGREE


def check_against(book: IdentityBook, model_id: str, measure: Callable[[], Fingerprint],
                  record: bool = False) -> Verdict:
    """`measure()`'s fingerprint against the one `book` keeps for `model_id`; with `record`, kept
    as the model id's when there is none. `measure` runs only when its fingerprint is compared or
    kept: it may open a model or reach a server."""
    expected = book.get(model_id)
    if expected is not None:
        return Verdict(agreement(expected, measure()))
    if record:
        book.put(model_id, measure())
    return Verdict(None, recorded=record)
