"""`qfinder models list | download NAME [--variant V] | optimize DIR [--output DIR]`

list      the models qfinder knows, their variants, sizes and the folders already downloaded;
          partial downloads are listed apart, each with the command that resumes it
download  fetch one variant from the Hugging Face Hub into qfinder's models folder (resumes)
optimize  build faster copies of an fp32 model for this CPU (fp32 with RMSNorms and rotary
          embeddings fused, and from that 8-bit MatMulNBits, dynamic int8 with the MatMuls that
          measurably hurt kept fp32, SmoothQuant-scaled int8; bf16 where onnxruntime runs it), gate
          each against fp32 on real text (every text's cosine >= 0.995, top-10 retrieval
          agreement >= 0.9), time the safe ones beside fp32 and keep only the fastest, if it
          beats fp32; prints a table, the verdict and the folder to use (--json: the report)
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

from qfinder.core.paths import models_dir
from qfinder.core.units import MB, format_size

if TYPE_CHECKING:
    from qfinder.core.model.optimize_report import OptimizeReport


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("models", help="list, download or optimize models", description=__doc__,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    actions = parser.add_subparsers(dest="models_action", metavar="ACTION", required=True)
    actions.add_parser("list", help="known models and downloaded folders").set_defaults(func=run_list)
    download = actions.add_parser("download", help="download a model variant")
    download.add_argument("name", help="model name, e.g. Qwen3-Embedding-0.6B")
    download.add_argument("--variant", help="fp32, fp16, q4 (default: the model's first)")
    download.add_argument("--dest", metavar="DIR", help="models folder (default: qfinder's own)")
    download.set_defaults(func=run_download)
    optimize = actions.add_parser("optimize", help="make the fastest safe copy of an fp32 model for this CPU")
    optimize.add_argument("folder", metavar="DIR")
    optimize.add_argument("--output", metavar="DIR", help="where to write it (default: DIR-optimized)")
    optimize.add_argument("--min-cosine", type=float, default=0.995,
                          help="every text's cosine to fp32 at least this (default 0.995)")
    optimize.add_argument("--min-agreement", type=float, default=0.9,
                          help="top-10 retrieval agreement with fp32 at least this (default 0.9)")
    optimize.add_argument("--sample", metavar="FILE", type=Path,
                          help="your own gate texts: one a line, queries start with '? ' (default: qfinder's)")
    optimize.add_argument("--json", action="store_true", help="print the report as JSON")
    optimize.set_defaults(func=run_optimize)


def run_list(args: argparse.Namespace) -> int:
    from qfinder.core.model.registry import REGISTRY

    for spec in REGISTRY:
        sys.stdout.write(f"{spec.name}  ({spec.repo}; {spec.full_dim}-d, MRL {spec.min_dim}..{spec.full_dim}, "
                         f"default {spec.default_dim})\n")
        for variant in spec.variants:
            how = "optimize locally" if variant.made_locally else f"~{format_size(variant.download_mb * MB)} download"
            sys.stdout.write(f"    {variant.name:<6} {how}, ~{format_size(variant.ram_mb * MB)} RAM  {variant.note}\n")
    from qfinder.core.model.download import model_folders

    root = models_dir()
    folders = model_folders(root)
    whole = [f.name for f in folders if f.complete]
    sys.stdout.write(f"\nDownloaded in {root}: {', '.join(whole) or 'none'}\n")
    partial = [f for f in folders if not f.complete]
    if partial:
        sys.stdout.write("Partial or incomplete (not usable yet):\n")
    for state in partial:
        resume = f"; resume: {state.resume}" if state.resume else ""
        sys.stdout.write(f"    {state.name}  {state.problem}{resume}\n")
    return 0


def run_download(args: argparse.Namespace) -> int:
    from qfinder.core.model.download import download_model

    last = [-1]

    def show(done: int, total: int, name: str) -> None:
        percent = int(100 * done / total) if total else 100
        if percent != last[0]:
            last[0] = percent
            sys.stderr.write(f"\r{percent:3d}%  {done / 1e6:,.0f} of {total / 1e6:,.0f} MB  {name[-40:]:<40}")

    folder = download_model(args.name, args.variant, root=Path(args.dest) if args.dest else None, progress=show)
    sys.stderr.write("\n")
    sys.stdout.write(f"{folder}\n")
    return 0


def run_optimize(args: argparse.Namespace) -> int:
    from qfinder.core.model.optimize import optimize_model, preferred_folder
    from qfinder.core.model.optimize_gate import load_sample

    sample = load_sample(args.sample) if args.sample else None
    report = optimize_model(args.folder, args.output, min_cosine=args.min_cosine,
                            min_agreement=args.min_agreement, sample=sample)
    use = preferred_folder(report)
    if args.json:
        sys.stdout.write(json.dumps({**asdict(report), "use": str(use)}, indent=2) + "\n")
        return 0
    sys.stdout.write("\n".join([*optimize_table(report), "",
                                 f"gate:      every text's cosine >= {report.min_cosine} and top-10 agreement >= "
                                 f"{report.min_agreement} ({report.queries} queries, {report.passages} passages)",
                                 f"CPU int8:  {report.cpu_int8}", f"verdict:   {report.verdict}", f"use:       {use}"])
                     + "\n")
    return 0


def optimize_table(report: OptimizeReport) -> list[str]:
    """One row per candidate (fp32 first, as the reference), then what the dynamic int8 search measured."""
    def figure(value: float | None, spec: str) -> str:
        return "—" if value is None else format(value, spec)

    rows = [f"{'candidate':<17} {'× fp32':>6} {'tokens/s':>9} {'min cos':>8} {'mean cos':>8} {'top-10':>6}"
            f" {'size':>9}  result",
            f"{'fp32':<17} {1:>6.2f} {report.fp32_tokens_per_s:>9,.0f} {1:>8.4f} {1:>8.4f} {1:>6.2f} {'':>9}  reference"]
    for c in report.candidates:
        size = "—" if c.size_mb is None else format_size(c.size_mb * MB)
        rows.append(f"{c.name:<17} {figure(c.speed_ratio, '.2f'):>6} {figure(c.tokens_per_s, ',.0f'):>9}"
                    f" {figure(c.min_cosine, '.4f'):>8} {figure(c.mean_cosine, '.4f'):>8}"
                    f" {figure(c.agreement, '.2f'):>6} {size:>9}  {c.status}: {c.note}")
    for c in report.candidates:
        if c.sensitivity:
            moved = ", ".join(f"{group} {drop:.4f}" for group, drop in c.sensitivity)
            rows.append(f"{c.name}: 1 - cosine with only that group in int8: {moved}; "
                        f"kept in fp32: {', '.join(c.kept_fp32) or 'none'}")
    return rows
