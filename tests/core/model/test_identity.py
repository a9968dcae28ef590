"""An engine's fingerprint is checked against the one kept for its model id: compared when one
is kept, recorded only when asked, and measured only when compared or recorded."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from qfinder.core.model.identity import AGREE, Fingerprint, IdentityBook, check_against

MODEL = "Qwen/Qwen3-Embedding-tiny"


def _fingerprint(turn: float = 0.0) -> Fingerprint:
    """Two probe vectors; `turn` rotates the second one away (cosine = cos(turn))."""
    return Fingerprint(np.array([[1.0, 0.0], [np.cos(turn), np.sin(turn)]], dtype=np.float32))


class Measure:
    """A fingerprint to measure, counting how often it was (measuring may open a model)."""

    def __init__(self, fingerprint: Fingerprint) -> None:
        self.fingerprint = fingerprint
        self.calls = 0

    def __call__(self) -> Fingerprint:
        self.calls += 1
        return self.fingerprint


def test_nothing_kept_is_neither_agreement_nor_mismatch_and_measures_nothing(tmp_path: Path) -> None:
    book = IdentityBook(tmp_path)
    measure = Measure(_fingerprint())
    verdict = check_against(book, MODEL, measure)
    assert (verdict.score, verdict.recorded, verdict.agrees, verdict.disagrees) == (None, False, False, False)
    assert measure.calls == 0 and book.get(MODEL) is None


def test_the_first_fingerprint_is_recorded_when_asked(tmp_path: Path) -> None:
    book = IdentityBook(tmp_path)
    measure = Measure(_fingerprint(0.3))
    verdict = check_against(book, MODEL, measure, record=True)
    assert (verdict.score, verdict.recorded, verdict.disagrees) == (None, True, False)
    assert measure.calls == 1
    kept = book.get(MODEL)
    assert kept is not None and np.array_equal(kept.vectors, _fingerprint(0.3).vectors)


def test_a_kept_fingerprint_is_compared_and_never_replaced(tmp_path: Path) -> None:
    book = IdentityBook(tmp_path)
    book.put(MODEL, _fingerprint())
    near, far = Measure(_fingerprint(0.01)), Measure(_fingerprint(0.5))
    same = check_against(book, MODEL, near, record=True)
    other = check_against(book, MODEL, far, record=True)
    assert near.calls == far.calls == 1
    assert same.agrees and not same.disagrees and not same.recorded
    assert same.score is not None and AGREE <= same.score < 1.0
    assert other.disagrees and not other.agrees and other.score == pytest.approx(np.cos(0.5))
    kept = book.get(MODEL)
    assert kept is not None and np.array_equal(kept.vectors, _fingerprint().vectors)


def test_fingerprints_of_another_size_disagree(tmp_path: Path) -> None:
    book = IdentityBook(tmp_path)
    book.put(MODEL, _fingerprint())
    wider = Fingerprint(np.eye(2, 3, dtype=np.float32))
    verdict = check_against(book, MODEL, Measure(wider))
    assert verdict.disagrees and verdict.score == 0.0
