"""`qfinder search "QUERY"` / `qfinder search --batch FILE --json`: search the index.

Options: --instruction TEXT (a preset key: web, topic, code, similar; or any task text),
--dim D (search dimension; default: remembered or the model's), --k N (files, default 10),
--no-rerank (raw low-dimension ANN order), --mode hybrid|semantic|keyword, --folder DIR and
--kind EXT (filters, repeatable), --like PATH ("files like this one"), --data-dir DIR.
The query's own syntax (README, "Search syntax") narrows these filters further; what it notes
("no exact match for …") and any part it could not read go to stderr.
What cannot be honoured is refused with one line and exit 2: a --dim the model lacks (the rule
`embed --dim` follows), --k below 1, --like of a missing or unindexed file. An option that only
cannot change the answer (--instruction on a model without instructions; --dim or --instruction
in keyword mode) gets a warning on stderr, and the query is answered.

JSON output (--json), stable: one object per query, one line each; with --batch FILE (one
query per line, blank lines skipped, "-" for stdin) the lines come in input order:

    {"query": "…", "results": [{"path": "/abs/file.txt", "score": 0.8123, "snippet": "…",
                                "span": [start, end], "page": 3, "relevance": 0.91,
                                "matched_by": ["words", "meaning"], "matched_words": ["rent"]}, …]}

`path` is absolute; `score` is higher-is-better (cosine similarity in semantic mode, fused
reciprocal-rank score otherwise) and orders the results; `relevance` (0-1) means the same for
every query: from 0.5 a close match, below it a weaker one (README, "Relevance"); `matched_by`
says why it matched ("name", "words", "meaning"; "filters" for a query of filters only) and
`matched_words` which of the query's words the file holds; `snippet` is the best-matching chunk's excerpt; `span` is
that chunk's character span in the file's extracted text (null for a filename-only match);
`page` is the 1-based page/slide for paged formats, else null. Results are best first.
A name that is not valid UTF-8 (POSIX names are bytes) shows U+FFFD for each such byte in
`path`; only then the result also has "path_bytes", the real path's bytes in base64.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING

from qfinder.cli.common import add_data_dir, chosen_data_dir, json_path
from qfinder.core.errors import QfinderError
from qfinder.core.instructions import resolve_instruction
from qfinder.core.library.library import Library
from qfinder.core.pathnames import readable_path
from qfinder.core.results import FileResult, SearchFilters, SearchRequest, SearchResponse

if TYPE_CHECKING:  # the model package loads onnxruntime, which keyword search does without
    from qfinder.core.model.protocol import TextEmbedder


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("search", help="search the index", description=__doc__,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("query", nargs="?", help='what to look for: words, "exact phrases", -word, '
                        "a OR b, a AND b, word*, ext:pdf, type:code, path:TEXT, size:>1mb, modified:2024-03")
    parser.add_argument("--batch", metavar="FILE", help="one query per line ('-' = stdin)")
    parser.add_argument("--instruction", metavar="TEXT", help="task preset (web, topic, code, similar) or text")
    parser.add_argument("--dim", type=int, metavar="D", help="search dimension")
    parser.add_argument("--k", type=int, default=10, metavar="N", help="files to return (default 10)")
    parser.add_argument("--no-rerank", action="store_true", help="skip the full-size re-score")
    parser.add_argument("--mode", choices=("hybrid", "semantic", "keyword"), default="hybrid")
    parser.add_argument("--folder", action="append", default=[], metavar="DIR", help="only under DIR")
    parser.add_argument("--kind", action="append", default=[], metavar="EXT", help="only files with extension EXT")
    parser.add_argument("--like", action="append", default=[], metavar="PATH", help="files like this one")
    parser.add_argument("--json", action="store_true", help="JSON lines output (see above)")
    add_data_dir(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.k < 1:
        raise QfinderError(f"--k {args.k}: the number of files must be at least 1.")
    queries = list(_queries(args))
    like_paths = [_existing_file(p) for p in args.like]
    folder = chosen_data_dir(args)
    load_model = args.mode != "keyword" or bool(args.like)
    with Library.open(folder, load_model=load_model) as lib:
        if load_model and lib.embedder is None and args.mode == "semantic":
            raise QfinderError("No model is set for this index.", "Run qfinder index PATH --model DIR first.")
        _check_model_options(args, lib.embedder)
        _check_indexed(lib, like_paths)
        for text in queries:
            response = lib.search(_request(args, text, like_paths))
            _report_notes(response, text if args.batch is not None else None)
            if args.json:
                sys.stdout.write(json.dumps(response_json(text, response), ensure_ascii=False) + "\n")
            else:
                sys.stdout.write(_human(response))
            sys.stdout.flush()
    return 0


def _check_model_options(args: argparse.Namespace, embedder: TextEmbedder | None) -> None:
    """Refuse a dimension the model lacks (the rule `embed --dim` follows); warn about options
    that cannot change this answer, since the query itself can still be answered."""
    if embedder is None:
        unused = "in keyword mode" if args.mode == "keyword" else "without a model"
        if args.dim is not None:
            _warn(f"--dim has no effect {unused}")
        if args.instruction is not None:
            _warn(f"--instruction has no effect {unused}")
        return
    from qfinder.core.model.mrl import check_dim  # the model (and onnxruntime) is loaded already

    check_dim(args.dim, embedder.info.min_dim, embedder.info.full_dim)
    if args.instruction is not None and not embedder.info.instruction_aware:
        _warn(f"--instruction is ignored: {embedder.info.name} does not read instructions")


def _warn(message: str) -> None:
    sys.stderr.write(f"qfinder: warning: {message}\n")


def _report_notes(response: SearchResponse, query: str | None) -> None:
    """What the query syntax noticed, on stderr (stdout stays results only); `query` names the
    line of a batch it is about."""
    about = f"{query}: " if query is not None else ""
    for note in response.notes:
        sys.stderr.write(f"qfinder: note: {about}{note}\n")
    if response.syntax_error:
        sys.stderr.write(f"qfinder: left out of the search: {about}{response.syntax_error}\n")


def _existing_file(raw: str) -> str:
    path = os.path.abspath(os.path.expanduser(raw))
    if not os.path.isfile(path):
        raise QfinderError(f"--like {raw}: no such file.", "Give a file of an indexed folder.")
    return path


def _check_indexed(lib: Library, paths: list[str]) -> None:
    for path in paths:
        if lib.catalog.file(path) is None:
            raise QfinderError(f"--like {path}: this file is not in the index.",
                               "Run qfinder index on its folder first.")


def _queries(args: argparse.Namespace) -> Iterator[str]:
    if args.batch is None:
        if args.query is None and not args.like:
            raise QfinderError("Nothing to search for.", 'Give a QUERY, --like PATH or --batch FILE.')
        yield args.query or ""
        return
    if args.query is not None:
        raise QfinderError("Give either a QUERY or --batch FILE, not both.")
    try:
        stream = sys.stdin if args.batch == "-" else open(args.batch, encoding="utf-8")  # noqa: SIM115
    except OSError as exc:
        raise QfinderError(f"Cannot read the batch file {args.batch}: {exc.strerror}.") from exc
    with stream:
        lines = [line.strip() for line in stream]
    yield from (line for line in lines if line)


def _request(args: argparse.Namespace, text: str, like_paths: list[str]) -> SearchRequest:
    filters = SearchFilters(folders=tuple(os.path.abspath(f) for f in args.folder),
                            kinds=tuple(k.lower().lstrip(".") for k in args.kind))
    return SearchRequest(text=text, instruction=resolve_instruction(args.instruction), dim=args.dim,
                         k=args.k, rerank=not args.no_rerank, mode=args.mode, filters=filters,
                         like_paths=tuple(like_paths))


def result_json(result: FileResult) -> dict[str, object]:
    best = result.best
    return {
        **json_path(result.path),
        "score": round(result.score, 6),
        "snippet": best.snippet if best else "",
        "span": list(best.span) if best else None,
        "page": best.page if best else None,
        "relevance": round(result.relevance, 4),
        "matched_by": list(result.matched_by),
        "matched_words": list(result.matched_words),
    }


def response_json(query: str, response: SearchResponse) -> dict[str, object]:
    return {"query": query, "results": [result_json(r) for r in response.results]}


def _human(response: SearchResponse) -> str:
    if not response.results:
        return "no results\n"
    lines = []
    for result in response.results:
        best = result.best
        where = f" (page {best.page})" if best and best.page else (f" (line {best.line})" if best and best.line else "")
        why = ", ".join(result.matched_by)
        lines.append(f"{result.relevance:5.0%}  {readable_path(result.path)}{where}  [{why}]")
        if best:
            lines.append("       " + " ".join(best.snippet.split())[:200])
    return "\n".join(lines) + "\n"
