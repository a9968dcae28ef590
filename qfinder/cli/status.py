"""`qfinder status [--json] [--data-dir DIR]`: what is indexed, what is pending or failed, and why.

Shows roots with their file counts, totals (indexed / pending / failed / name-only, chunks,
vectors), the failures with their reasons, the model, the ONNX provider it runs on and how long
it took to open last time and whether onnxruntime's optimized graph came from the cache
(status itself does not open it), and the vector indexes built per
dimension with their RAM and disk sizes. Works while another process
indexes the same data folder.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict

from qfinder.cli.common import add_data_dir, chosen_data_dir, json_path
from qfinder.core.library.library import Library, LibraryStatus
from qfinder.core.pathnames import readable_path
from qfinder.core.state import ModelOpening
from qfinder.core.units import format_size

FAILURES_SHOWN = 20


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("status", help="show what is indexed", description=__doc__,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", action="store_true", help="one JSON object")
    parser.add_argument("--no-model", action="store_true", help="leave the model out (status never opens it; this skips its facts too)")
    add_data_dir(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    with Library.open(chosen_data_dir(args), load_model=not args.no_model) as lib:
        status = lib.status()
    if args.json:
        sys.stdout.write(json.dumps(status_json(status), ensure_ascii=False) + "\n")
    else:
        sys.stdout.write(_human(status))
    return 0


def status_json(status: LibraryStatus) -> dict[str, object]:
    data = asdict(status)
    data.update(data.pop("counts"))  # flat: "files", "indexed", … sit beside "roots"
    for root in data["roots"]:
        root.update(json_path(root["path"]))
    data["failures"] = [{**json_path(p), "reason": r} for p, r in status.failures]
    return data


def _human(s: LibraryStatus) -> str:
    out = [f"data folder: {s.data_dir}"]
    model = s.model_name or "none"
    provider = f" on {s.provider.used}" if s.provider else ""
    out.append(f"model: {model}{provider}  ({s.model_folder or 'no model folder set'})")
    if s.model_open_s is not None:
        opening = ModelOpening(s.model_open_s, s.model_graph or "unknown", s.model_loaded)
        cache = f"; optimized graph cached: {format_size(s.model_cache_bytes)}" if s.model_cache_bytes else ""
        out.append(f"  {opening.describe()}{cache}")
    if s.dim:
        out.append(f"search dimension: {s.dim}")
    c = s.counts
    out.append(f"files: {c.files} ({c.indexed} indexed, {c.pending} pending, {c.failed} failed, "
               f"{c.name_only} name only); chunks: {c.chunks}, vectors: {c.vectors}")
    for root in s.roots:
        out.append(f"  root {readable_path(root.path)} [{root.availability}]: {root.files_indexed} indexed, "
                   f"{root.files_pending} pending, {root.files_failed} failed")
    for cost in s.indexes:
        out.append(f"  index d={cost.dim} {cost.kind}: {cost.count} vectors, RAM {format_size(cost.ram_bytes)}, "
                   f"disk {format_size(cost.disk_bytes)}")
    if s.rescore_bytes:
        out.append(f"  full-size vectors for re-scoring: disk {format_size(s.rescore_bytes)} (memory-mapped)")
    if s.failures:
        out.append("not indexed (name searchable):")
        out += [f"  {readable_path(path)}: {reason}" for path, reason in s.failures[:FAILURES_SHOWN]]
        if len(s.failures) > FAILURES_SHOWN:
            out.append(f"  … and {len(s.failures) - FAILURES_SHOWN} more (--json lists them all)")
    return "\n".join(out) + "\n"
