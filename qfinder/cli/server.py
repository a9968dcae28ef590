"""`qfinder server check URL [--api-key KEY]`: what an embedding server serves, and how fast.

The key may also come from QFINDER_API_KEY or the keyring / key file of the data folder (kept
there by `qfinder index --server URL --api-key KEY` or the app's Settings); it is never printed.
With --tokenizer (the model's tokenizer.json) tokens are counted exactly, else estimated.
"""

from __future__ import annotations

import argparse
import sys

from qfinder.cli.common import add_data_dir, chosen_data_dir
from qfinder.core.model.remote.apis import API_CHOICES
from qfinder.core.model.remote.check import check_server
from qfinder.core.model.remote.hints import tokenizer_file
from qfinder.core.model.tokenize import load_tokenizer
from qfinder.core.secrets import KeyStore


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("server", help="check an embedding server", description=__doc__,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    check = actions.add_parser("check", help="served model, vector size, round trip, tokens/s")
    check.add_argument("url", metavar="URL", help="e.g. http://gpu.lan:8080 (OpenAI-compatible: without /v1)")
    add_server_options(check)
    add_data_dir(check)
    check.set_defaults(func=run_check)


def add_server_options(parser: argparse.ArgumentParser) -> None:
    """The options `server check` and `index --server` share."""
    parser.add_argument("--api-key", metavar="KEY", default=None,
                        help="Bearer key (else QFINDER_API_KEY, else the keyring or key file)")
    parser.add_argument("--api", choices=API_CHOICES, default="auto", help="API kind (default: detect)")
    parser.add_argument("--server-model", metavar="NAME", default=None,
                        help="the model to use when the server serves several")
    parser.add_argument("--tokenizer", metavar="FILE", default=None,
                        help="the model's tokenizer.json (or its folder), to count and cut text here")


def run_check(args: argparse.Namespace) -> int:
    key = args.api_key if args.api_key is not None else KeyStore(chosen_data_dir(args)).load(args.url)
    tokenizer = load_tokenizer(tokenizer_file(args.tokenizer)) if args.tokenizer else None
    report = check_server(args.url, args.api, args.server_model, key, tokenizer)
    sys.stdout.write("\n".join(report.lines()) + "\n")
    return 0
