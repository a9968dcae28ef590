"""Run an engine in a child process until killed: `python engine_child.py DATA ROOT MODEL N`.

Prints `progress <files_done>` after every indexing step. The first inference after N
steps computes its vectors, prints `holding` and never returns: the parent kills -9 exactly there,
mid-batch with nothing of that batch committed, however fast this machine embeds.
"""

from __future__ import annotations

import sys
import threading

from PySide6.QtCore import QCoreApplication

from qfinder.core.indexing.indexer import IndexSettings
from qfinder.core.library.opener import LibraryOpener
from qfinder.services import qt_fix
from qfinder.services.engine import EngineClient
from qfinder.services.settings import EngineSettings


class HoldingCores(LibraryOpener):
    """Opens cores whose embedder hangs in the first inference after `steps` whole steps."""

    def __init__(self, data: str, steps: int) -> None:
        super().__init__(data, index_settings=IndexSettings(step_files=2, step_tokens=256))
        self._steps_left = steps

    def open(self, model_folder):  # type: ignore[no-untyped-def]
        core = super().open(model_folder)
        step, embed = core.upkeep.step, core.embedder.embed_documents_with_stats

        def counted_step():  # type: ignore[no-untyped-def]
            progress = step()
            self._steps_left -= 1
            return progress

        def embed_or_hold(texts, dim=None):  # type: ignore[no-untyped-def]
            vectors = embed(texts, dim)
            if self._steps_left <= 0:
                print("holding", flush=True)
                threading.Event().wait()  # killed here
            return vectors

        core.upkeep.step, core.embedder.embed_documents_with_stats = counted_step, embed_or_hold
        return core


def main() -> int:
    data, root, model, steps = sys.argv[1:5]
    qt_fix.apply()  # this child composes its own process: nothing applies it on import
    app = QCoreApplication([])
    cores = HoldingCores(data, int(steps))
    client = EngineClient(cores, EngineSettings(watch=False, reconcile_interval_s=0), model)
    client.progress.connect(lambda p: print(f"progress {p.files_done}", flush=True))
    client.error.connect(lambda m: print(f"error {m}", flush=True))
    client.start()
    client.add_roots([root])
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
