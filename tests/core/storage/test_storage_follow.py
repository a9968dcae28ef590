"""The catalog-follow step shared by the graphs and the re-score store."""

from __future__ import annotations

import numpy as np

from qfinder.core.storage.catalog import Catalog
from qfinder.core.vectors import follow
from qfinder.core.vectors.follow import catalog_change


def test_change_names_added_and_removed_ids_and_reads_added_vectors_in_blocks(
    catalog: Catalog, fill_catalog, spectrum, monkeypatch
) -> None:
    vectors = spectrum(np.random.default_rng(1), 30, 64)
    first = fill_catalog(catalog, vectors[:20], per_file=10)
    held = np.asarray(first, dtype=np.int64)
    held_generation = catalog.generation()
    assert catalog_change(catalog, held_generation, held) is None  # nothing moved

    catalog.delete_file("/r/f0.txt")  # the first ten chunks
    added = fill_catalog(catalog, vectors[20:], per_file=10, start=5)
    change = catalog_change(catalog, held_generation, held)

    assert change is not None and change.generation == catalog.generation()
    assert change.removed.tolist() == first[:10]
    assert change.added.tolist() == added
    assert change.live == 20
    monkeypatch.setattr(follow, "FETCH_ROWS", 4)
    blocks = list(change.added_vectors(catalog))
    assert [ids.size for ids, _ in blocks] == [4, 4, 2]
    np.testing.assert_allclose(np.concatenate([v for _, v in blocks]), vectors[20:], atol=1e-3)
