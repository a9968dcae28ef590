"""The relevance calibration's stored part: a fixed random sample of the index's chunks.

Relevance (core/search/relevance.py) asks how far a result's cosine stands above what this
model gives a query against unrelated chunks of this index. That background is measured on a
sample of chunk vectors; the sample's ids are kept in the catalog's meta table so that every
process (the app, each `qfinder search`) measures against the same chunks and reads 512
vectors, not the whole index. It is drawn again when the index has grown or lost a quarter.

    sample, vectors = load_sample(catalog)  # the stored one, or a fresh draw when stale/missing
    catalog.settle() stores a fresh draw    # the writer, once indexing has caught up
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

SAMPLE_KEY = "relevance_sample"
SAMPLE_SIZE = 512
DRIFT = 0.25  # redraw after this share of the sampled count was added or removed


class SampleReads(Protocol):
    def meta(self, key: str) -> str | None: ...
    def all_vector_ids(self) -> np.ndarray: ...
    def max_vector_id(self) -> int: ...
    def vectors(self, ids: Sequence[int]) -> tuple[np.ndarray, np.ndarray]: ...


@dataclass(frozen=True)
class StoredSample:
    ids: tuple[int, ...]  # chunk ids, ascending
    population: int  # vectors in the index when drawn
    max_id: int  # the highest chunk id then: new chunks get higher ids

    def to_json(self) -> str:
        return json.dumps({"ids": list(self.ids), "population": self.population, "max_id": self.max_id})

    @classmethod
    def from_json(cls, raw: str) -> StoredSample | None:
        try:
            data = json.loads(raw)
            return cls(tuple(int(i) for i in data["ids"]), int(data["population"]), int(data["max_id"]))
        except (ValueError, KeyError, TypeError):
            return None  # written by another version: drawn again

    def stale(self, max_id: int, present: int) -> bool:
        grown = max_id - self.max_id  # an upper bound of the chunks added since
        return grown > DRIFT * max(self.population, 1) or len(self.ids) - present > DRIFT * len(self.ids)


def draw_sample(reads: SampleReads, size: int = SAMPLE_SIZE) -> StoredSample:
    """A deterministic sample: the same index gives the same sample in every process."""
    every = reads.all_vector_ids()  # ascending
    picked = every
    if len(every) > size:
        picked = np.sort(np.random.default_rng(len(every)).choice(every, size=size, replace=False))
    return StoredSample(tuple(int(i) for i in picked), len(every), int(every[-1]) if len(every) else 0)


def load_sample(reads: SampleReads) -> tuple[StoredSample, np.ndarray]:
    """The sample to measure against and its full-size vectors [n, full_dim] (n may be 0)."""
    raw = reads.meta(SAMPLE_KEY)
    stored = StoredSample.from_json(raw) if raw else None
    if stored is not None:
        found, vectors = reads.vectors(stored.ids)
        if not stored.stale(reads.max_vector_id(), len(found)):
            return stored, vectors
    fresh = draw_sample(reads)
    return fresh, reads.vectors(fresh.ids)[1]
