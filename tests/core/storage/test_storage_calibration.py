"""The relevance calibration's stored sample and the catalog's change journal, on a real catalog."""

from __future__ import annotations

import numpy as np

from qfinder.core.search.background import Backgrounds
from qfinder.core.storage.calibration import (
    SAMPLE_KEY,
    SAMPLE_SIZE,
    StoredSample,
    draw_sample,
    load_sample,
)


def test_settle_stores_a_deterministic_sample_and_redraws_it_when_the_index_grows(
        catalog, fill_catalog, spectrum, tmp_path):
    rng = np.random.default_rng(1)
    fill_catalog(catalog, spectrum(rng, 800, 64), per_file=20)
    assert catalog.meta(SAMPLE_KEY) is None
    catalog.settle()
    stored = StoredSample.from_json(catalog.meta(SAMPLE_KEY) or "")
    assert stored is not None and len(stored.ids) == SAMPLE_SIZE and stored.population == 800
    assert stored == draw_sample(catalog), "the same index gives every process the same sample"
    fill_catalog(catalog, spectrum(rng, 100, 64), per_file=20, start=100)  # +12.5 %: kept
    catalog.settle()
    assert StoredSample.from_json(catalog.meta(SAMPLE_KEY) or "") == stored
    fill_catalog(catalog, spectrum(rng, 200, 64), per_file=20, start=200)  # +37.5 % in all: redrawn
    catalog.settle()
    grown = StoredSample.from_json(catalog.meta(SAMPLE_KEY) or "")
    assert grown is not None and grown.population == 1100 and grown != stored


def test_a_sample_that_lost_a_quarter_of_its_chunks_is_drawn_again(catalog, fill_catalog, spectrum):
    fill_catalog(catalog, spectrum(np.random.default_rng(2), 1000, 64), per_file=100)
    catalog.settle()
    before = StoredSample.from_json(catalog.meta(SAMPLE_KEY) or "")
    for i in range(4):
        catalog.delete_file(f"/r/f{i}.txt")  # 40 % of the chunks, about as much of the sample
    sample, vectors = load_sample(catalog)
    assert before is not None and sample != before and len(vectors) == len(sample.ids) == SAMPLE_SIZE


def test_an_unreadable_stored_sample_is_drawn_again(catalog, fill_catalog, spectrum):
    fill_catalog(catalog, spectrum(np.random.default_rng(3), 40, 64))
    with catalog.write() as conn:
        conn.execute("INSERT INTO meta(key, value) VALUES (?, 'not json')", (SAMPLE_KEY,))
    sample, vectors = load_sample(catalog)
    assert len(sample.ids) == 40 and vectors.shape == (40, 64)


def test_background_places_a_chunk_far_above_and_a_random_direction_inside_it(
        catalog, fill_catalog, spectrum):
    vectors = spectrum(np.random.default_rng(4), 600, 64, decay=0.0)  # isotropic: sd 1/8
    fill_catalog(catalog, vectors)
    backgrounds = Backgrounds(catalog)
    own = backgrounds.of(vectors[7])
    stranger = spectrum(np.random.default_rng(5), 1, 64, decay=0.0)[0]
    far = backgrounds.of(stranger)
    assert own is not None and far is not None
    assert own.z(float(vectors[7] @ vectors[7])) > 5, "a chunk against itself stands far out"
    typical = [far.z(float(stranger @ v)) for v in vectors[:200]]
    assert abs(float(np.mean(typical))) < 0.5 and 0.7 < float(np.std(typical)) < 1.3


def test_the_journal_reports_each_write_once(catalog, fill_catalog, spectrum):
    fill_catalog(catalog, spectrum(np.random.default_rng(6), 30, 64), per_file=10)
    first = catalog.changes.take()
    assert first.updated == {"/r/f0.txt", "/r/f1.txt", "/r/f2.txt"} and not first.removed
    assert not catalog.changes.take(), "taken: the next report starts empty"
    catalog.delete_file("/r/f0.txt")
    catalog.move_path("/r/f1.txt", "/r/g1.txt")
    catalog.delete_prefix("/r/sub")  # nothing there: nothing to report
    change = catalog.changes.take()
    assert change.removed == {"/r/f0.txt", "/r/f1.txt"} and change.updated == {"/r/g1.txt"}
    assert not change.removed_folders
    catalog.remove_root("/r")
    gone = catalog.changes.take()
    assert gone.roots_removed == {"/r"} and gone.gone("/r/g1.txt") and not gone.gone("/other/x.txt")
