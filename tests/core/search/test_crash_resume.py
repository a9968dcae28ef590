"""A kill -9 between embedding and commit loses only the batch in flight; a restart resumes.

The indexer runs in a child process that announces each batch after embedding it and before
committing it; the parent kills it (SIGKILL) at the second announcement.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import pytest

from qfinder.core.indexing.indexer import Indexer, IndexSettings
from qfinder.core.storage.catalog import Catalog

SETTINGS = IndexSettings(chunk_tokens=48, overlap_tokens=0, step_files=3, step_tokens=4096)

CHILD = textwrap.dedent(
    """
    import sys, time
    from qfinder.core.storage.catalog import Catalog
    from qfinder.core.indexing.indexer import Indexer, IndexSettings
    from qfinder.core.model.embedder import Embedder

    model, root, db = sys.argv[1:4]

    class Announcing(Indexer):
        batches = 0
        def _commit(self):
            if any(w.complete for w in self._active):
                self.batches += 1
                print(f"EMBEDDED {self.batches}", flush=True)
                if self.batches == 2:
                    time.sleep(600)  # the parent kills us here, vectors computed, not committed
            super()._commit()

    settings = IndexSettings(chunk_tokens=48, overlap_tokens=0, step_files=3, step_tokens=4096)
    indexer = Announcing(Catalog(db), Embedder.from_folder(model, provider="cpu"), settings)
    indexer.plan([root])
    while indexer.pending():
        indexer.step()
    print("DONE", flush=True)
    """
)


def build_tree(root):
    for i in range(9):
        text = "\n\n".join(f"File {i} part {j}: notes about topic {i * 10 + j} and more words." for j in range(3))
        (root / f"f{i}.txt").write_text(text, encoding="utf-8")


def drain(indexer, root):
    indexer.plan([root])
    before = indexer.stats.texts_embedded
    while indexer.pending():
        indexer.step()
    return indexer.stats.texts_embedded - before


@pytest.mark.skipif(os.name != "posix", reason="uses SIGKILL")
def test_kill_between_embed_and_commit_then_restart(tmp_path, tiny_model_dir, tiny_embedder):
    root = tmp_path / "tree"
    root.mkdir()
    build_tree(root)
    db = tmp_path / "data" / "catalog.db"
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(tiny_model_dir), str(root), str(db)],
                             stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None
    for line in child.stdout:
        if line.startswith("EMBEDDED 2"):
            child.send_signal(signal.SIGKILL)
            break
    assert child.wait(timeout=60) == -signal.SIGKILL

    catalog = Catalog(db)
    committed = {r.path: catalog.file_chunk_ids(r.path) for r in catalog.files_with_status("indexed")}
    assert 0 < len(committed) < 9  # the first batch survived, the one in flight did not
    (root / "f8.txt").unlink()  # deleted while nobody was running: must not become a ghost

    indexer = Indexer(catalog, tiny_embedder, SETTINGS)
    embedded = drain(indexer, root)
    reference = Indexer(Catalog(tmp_path / "ref" / "catalog.db"), tiny_embedder, SETTINGS)
    expected_total = drain(reference, root)

    counts = catalog.counts()
    assert (counts.files, counts.indexed, counts.pending) == (8, 8, 0)
    assert counts.chunks == counts.vectors == reference.catalog.counts().chunks  # no duplicates
    for path, ids in committed.items():
        if os.path.exists(path):
            assert catalog.file_chunk_ids(path) == ids  # finished files untouched
    committed_chunks = sum(len(ids) for p, ids in committed.items() if os.path.exists(p))
    assert embedded == expected_total - committed_chunks  # only unfinished work was redone
    assert catalog.file(str(root / "f8.txt")) is None and not catalog.fts_search('"topic 80"')
