"""What changed in the catalog's vectors since a cache last looked: the one "follow the catalog"
step that the graphs (`indexes`) and the re-score store (`rescore_store`) share.

Both are caches of the catalog's full-size vectors that remember the catalog generation they
hold; when it moved on they apply the difference (or rebuild, by their own rule) instead of
reading every vector again.

    change = catalog_change(catalog, held_generation, held_ids)   # None: nothing moved
    change.generation, change.live, change.added, change.removed
    for ids, vectors in change.added_vectors(catalog): ...       # in blocks, ids found only
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from qfinder.core.storage.catalog import Catalog

FETCH_ROWS = 8192  # vectors read per query: bounds memory while a large change is applied


@dataclass(frozen=True)
class CatalogChange:
    generation: int  # the catalog's generation the change brings a cache to
    live: int  # vectors in the catalog now
    added: np.ndarray  # sorted chunk ids the cache lacks
    removed: np.ndarray  # sorted chunk ids the cache holds but the catalog no longer has

    def added_vectors(self, catalog: Catalog) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """(ids, full-size vectors) of the added ids; one deleted meanwhile is left out."""
        for start in range(0, self.added.size, FETCH_ROWS):
            yield catalog.vectors(self.added[start : start + FETCH_ROWS].tolist())


def catalog_change(catalog: Catalog, held_generation: int, held_ids: np.ndarray) -> CatalogChange | None:
    """The difference between the catalog's vectors and the sorted `held_ids` of a cache that
    is at `held_generation`; None when the catalog has not moved since."""
    generation = catalog.generation()
    if generation == held_generation:
        return None
    ids = catalog.all_vector_ids()
    added = np.setdiff1d(ids, held_ids, assume_unique=True)
    removed = np.setdiff1d(held_ids, ids, assume_unique=True)
    return CatalogChange(generation, int(ids.size), added, removed)
