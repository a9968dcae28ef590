"""`qfinder index PATH... [--model DIR] [--data-dir DIR]`: add folders and bring the index up to date.

The model folder is remembered in the data folder, so later runs (and `qfinder search`) need no
--model. Without a model, names and words are indexed (keyword search works) and the first run
with --model embeds that content. Re-running on an unchanged tree only stats files. Progress and an ETA are shown with
tqdm when stderr is a terminal; otherwise the command is quiet. Every batch is committed, so an
interrupted run (Ctrl-C, kill) resumes where it stopped.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from qfinder.cli.common import add_data_dir, chosen_data_dir, existing_folder, report_recovery
from qfinder.cli.server import add_server_options
from qfinder.core.config import LibraryConfig
from qfinder.core.errors import QfinderError
from qfinder.core.indexing.indexer import Indexer
from qfinder.core.library.library import Library
from qfinder.core.model.remote.urls import server_address
from qfinder.core.paths import ensure_private_dir
from qfinder.core.secrets import KeyStore


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("index", help="index folders (incremental)", description=__doc__,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("paths", nargs="+", metavar="PATH", help="folders to index")
    parser.add_argument("--model", metavar="DIR", help="model folder (remembered for later runs)")
    parser.add_argument("--provider", default=None, help="auto (default), cpu, cuda, directml, coreml")
    parser.add_argument("--quiet", action="store_true", help="no progress bar even on a terminal")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--server", metavar="URL", default=None,
                       help="embed on this server (remembered; file text is sent to it; "
                            "--model is then the local copy for queries while it is away)")
    where.add_argument("--local", action="store_true", help="embed on this computer again (remembered)")
    add_server_options(parser)
    add_data_dir(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    roots = [existing_folder(p) for p in args.paths]
    folder = chosen_data_dir(args)
    remember_server_choice(folder, args)
    with Library.open(folder, writer=True, model_folder=args.model, provider=args.provider) as lib:
        indexer = lib.indexer
        assert indexer is not None
        report_recovery(lib.catalog)
        if lib.embedder is None:
            _say_what_waits_for_a_model(indexer)
        if lib.catalog.recovery is not None:  # rebuild every folder the damaged file knew
            roots = list(dict.fromkeys([*roots, *(root.path for root in lib.catalog.roots())]))
        report = indexer.plan(roots)
        show = sys.stderr.isatty() and not args.quiet
        _drain(indexer, show)
        lib.catalog.settle()
        if show:
            counts = lib.catalog.counts()
            sys.stderr.write(f"indexed {counts.indexed} files ({counts.failed} failed, "
                             f"{counts.name_only} name only); {report.new} new, {report.changed} changed, "
                             f"{report.gone} removed\n")
    return 0


def remember_server_choice(folder: Path, args: argparse.Namespace) -> None:
    """--server/--local and their options into the data folder's settings; the key into the
    keyring or the key file, never settings.json."""
    if not (args.server or args.local):
        return
    if not Library.writer_free(folder):
        raise QfinderError("Another qfinder process is indexing this data folder.",
                           "Change where it embeds when that process has finished.")
    ensure_private_dir(folder)
    config = LibraryConfig.load(folder)
    if args.local:
        config = config.with_changes(embed_on="local")
    else:
        config = config.with_changes(embed_on="server", server_url=server_address(args.server), server_api=args.api,
                                     server_model=args.server_model,
                                     server_tokenizer=args.tokenizer or config.server_tokenizer)
        if args.api_key is not None:
            KeyStore(folder).save(config.server_url or "", args.api_key)
    config.save(folder)


def _say_what_waits_for_a_model(indexer: Indexer) -> None:
    what = ("names and words only" if indexer.words_only
            else "names only (the content waits for the model this index was embedded with)")
    sys.stderr.write(f"qfinder: no model set: indexing {what}; `qfinder index DIR --model M` adds search by meaning\n")


def _drain(indexer: Indexer, show: bool) -> None:
    if not show:
        while indexer.pending():
            indexer.step()
        return
    from tqdm import tqdm

    with tqdm(total=indexer.pending(), unit="file", dynamic_ncols=True, file=sys.stderr) as bar:
        while indexer.pending():
            progress = indexer.step()
            bar.total = progress.files_done + progress.files_pending
            bar.n = progress.files_done
            eta = "?" if progress.eta_s is None else f"{progress.eta_s:.0f}s"
            bar.set_postfix_str(f"{progress.tokens_per_s:.0f} tok/s, eta {eta}", refresh=False)
            bar.refresh()
