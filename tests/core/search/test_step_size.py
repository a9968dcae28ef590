"""Indexing steps are sized to the model's measured speed so a query never waits long."""

from __future__ import annotations

from qfinder.core.indexing.indexer import IndexSettings
from qfinder.core.library.opener import LibraryOpener
from qfinder.core.library.upkeep import MIN_STEP_TOKENS


def _docs(root, n=6):
    root.mkdir()
    for i in range(n):
        (root / f"d{i}.txt").write_text(" ".join(f"t{i}y{j}" for j in range(200)))


def test_step_shrinks_on_a_slow_model_and_is_capped_on_a_fast_one(tmp_path, tiny_model_dir):
    _docs(tmp_path / "root")
    ceiling = IndexSettings(step_files=8, step_tokens=2048)
    slow = LibraryOpener(tmp_path / "slow", index_settings=ceiling, target_step_s=1e-6)
    library = slow.open(str(tiny_model_dir))
    core = library.upkeep
    try:
        assert core.step_tokens() == MIN_STEP_TOKENS  # nothing measured yet: a small first step
        core.add_root(str(tmp_path / "root"))
        core.reconcile(None)
        core.step()
        assert core.step_tokens() == MIN_STEP_TOKENS  # 1 µs per step: as small as allowed
    finally:
        library.close()
    fast = LibraryOpener(tmp_path / "fast", index_settings=ceiling, target_step_s=3600)
    library = fast.open(str(tiny_model_dir))
    core = library.upkeep
    try:
        core.add_root(str(tmp_path / "root"))
        core.reconcile(None)
        core.step()
        assert core.step_tokens() == 2048  # an hour per step: capped by step_tokens
    finally:
        library.close()
