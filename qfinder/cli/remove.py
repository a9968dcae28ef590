"""`qfinder remove PATH [--data-dir DIR]`: forget an indexed folder (or a file/subfolder of one).

Purges for real: the files' rows, chunk text, vectors and full-text entries are deleted from the
database, the database is compacted, and the vector index caches are rebuilt without them. The
folder itself on disk is not touched. PATH need not exist any more (e.g. an unplugged drive).
"""

from __future__ import annotations

import argparse
import os
import sys

from qfinder.cli.common import add_data_dir, chosen_data_dir, report_recovery
from qfinder.core.errors import QfinderError
from qfinder.core.library.library import CATALOG_NAME, Library
from qfinder.core.paths import is_within


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("remove", help="forget an indexed folder", description=__doc__,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("path", metavar="PATH", help="an indexed folder (root), or a file/folder inside one")
    add_data_dir(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    target = os.path.abspath(os.path.expanduser(args.path))
    folder = chosen_data_dir(args)
    if not (folder / CATALOG_NAME).exists():
        raise QfinderError(f"No qfinder index in {folder}.", "Nothing to remove.")
    with Library.open(folder, writer=True, load_model=False) as lib:
        assert lib.indexer is not None
        report_recovery(lib.catalog)  # else "not in the index" below would be a riddle
        roots = [r.path for r in lib.catalog.roots()]
        if target in roots:
            removed = lib.indexer.remove_root(target)
        elif any(is_within(target, r) for r in roots):
            removed = lib.indexer.remove_paths([target])
            lib.catalog.compact()
        else:
            raise QfinderError(f"{args.path} is not in the index.", "qfinder status lists the indexed folders.")
        lib.drop_index_files()  # graphs keep deleted vectors' data: rebuild them from the catalog
    if sys.stderr.isatty():
        sys.stderr.write(f"removed {removed} files under {target}\n")
    return 0
