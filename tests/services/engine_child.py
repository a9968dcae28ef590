"""Run an engine in a child process until killed: `python engine_child.py DATA ROOT MODEL`.

Prints `progress <files_done>` after every indexing step so the parent knows when to kill -9.
"""

from __future__ import annotations

import sys

from PySide6.QtCore import QCoreApplication

from qfinder.core.indexer import IndexSettings
from qfinder.services.engine import EngineClient
from qfinder.services.library_cores import LibraryCores
from qfinder.services.settings import EngineSettings


def main() -> int:
    data, root, model = sys.argv[1:4]
    app = QCoreApplication([])
    cores = LibraryCores(data, index_settings=IndexSettings(step_files=2, step_tokens=256))
    client = EngineClient(cores, EngineSettings(watch=False, reconcile_interval_s=0), model)
    client.progress.connect(lambda p: print(f"progress {p.files_done}", flush=True))
    client.error.connect(lambda m: print(f"error {m}", flush=True))
    client.start()
    client.add_roots([root])
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
