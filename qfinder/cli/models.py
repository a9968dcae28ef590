"""`qfinder models list | download NAME [--variant V] | optimize DIR [--output DIR]`

list      the models qfinder knows, their variants, sizes and the folders already downloaded;
          partial downloads are listed apart, each with the command that resumes it
download  fetch one variant from the Hugging Face Hub into qfinder's models folder (resumes)
optimize  make an 8-bit MatMulNBits copy of an fp32 model for CPUs; kept only if its vectors
          match fp32 (min cosine >= 0.995). Both models are timed on the same texts: the 8-bit
          one is only worth using where it is faster (CPUs with VNNI/AMX int8 instructions);
          prints the figures, the verdict and the folder to use (--json: the report as JSON)
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path

from qfinder.core.paths import models_dir
from qfinder.core.units import MB, format_size


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
    optimize = actions.add_parser("optimize", help="make an 8-bit copy of an fp32 model folder")
    optimize.add_argument("folder", metavar="DIR")
    optimize.add_argument("--output", metavar="DIR", help="where to write it (default: DIR-int8)")
    optimize.add_argument("--min-cosine", type=float, default=0.995, help="keep only above this (default 0.995)")
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

    report = optimize_model(args.folder, args.output, min_cosine=args.min_cosine)
    use = preferred_folder(report)
    if args.json:
        sys.stdout.write(json.dumps({**asdict(report), "faster": report.faster, "use": str(use)}, indent=2) + "\n")
        return 0
    sys.stdout.write(
        f"8-bit model:  {report.output}\n"
        f"fidelity:     min cosine {report.min_cosine:.5f}, mean {report.mean_cosine:.5f} over {report.texts} texts\n"
        f"size:         {report.size_before_mb:,.1f} MB -> {report.size_after_mb:,.1f} MB\n"
        f"speed:        fp32 {report.fp32_tokens_per_s:,.0f} tokens/s, 8-bit {report.int8_tokens_per_s:,.0f} "
        f"tokens/s ({report.speed_ratio:.2f}× fp32)\n"
        f"CPU int8:     {report.cpu_int8}\n"
        f"verdict:      {report.verdict}\n"
        f"use:          {use}\n")
    return 0
