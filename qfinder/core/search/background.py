"""What a query scores against unrelated chunks of this index: the background its results are
measured against (core/search/relevance.py).

Cosines of one model are not comparable across queries (the same e5 model gives unrelated
pairs 0.76 on English and 0.84 on Chinese text, and each query has its own offset), but how far
a cosine stands above the query's own background is: a relevant paragraph sits 4-7 standard
deviations above it, the best chunk for a query from another collection 2-3.5.

    backgrounds = Backgrounds(catalog)           # the stored sample (core/storage/calibration.py)
    bg = backgrounds.of(query_vector)            # Background(mean, std) or None: too few chunks
    bg.z(cosine)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from qfinder.core.storage.calibration import SampleReads, load_sample

MIN_SAMPLE = 16  # chunks; below this a background says little: relevance rests on words alone
MIN_STD = 1e-3  # a tiny index of near-copies must not make every difference infinite


class GenerationReads(SampleReads, Protocol):
    def generation(self) -> int: ...


@dataclass(frozen=True)
class Background:
    mean: float
    std: float

    def z(self, cosine: float) -> float:
        return (cosine - self.mean) / self.std


class Backgrounds:
    """The sample's vectors, loaded once per index generation (a step that changed vectors)."""

    def __init__(self, reads: GenerationReads) -> None:
        self._reads = reads
        self._generation: int | None = None
        self._vectors = np.zeros((0, 0), dtype=np.float32)

    def _sample(self) -> np.ndarray:
        generation = self._reads.generation()
        if generation != self._generation:
            _, self._vectors = load_sample(self._reads)
            self._generation = generation
        return self._vectors

    def of(self, query: np.ndarray) -> Background | None:
        sample = self._sample()
        if len(sample) < MIN_SAMPLE or sample.shape[1] != len(query):
            return None
        cosines = sample @ query
        return Background(float(cosines.mean()), max(float(cosines.std()), MIN_STD))
