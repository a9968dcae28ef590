"""`qfinder embed --model DIR [--query] [--instruction TEXT] [--dim D] [--provider P] TEXT...`

Prints the vectors as JSON: one list of floats per text, in input order, L2-normalised (so a dot
product is the cosine). Queries get the model's query prompt (Qwen3: `Instruct: …\\nQuery:`),
documents the document prompt. With --stats, one more JSON line on stderr: provider, dims, tokens,
padding waste. Lets anyone check the engine from outside Python.
"""

from __future__ import annotations

import argparse
import json
import sys


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("embed", help="embed texts with a model folder, print JSON vectors",
                                   description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("texts", nargs="+", metavar="TEXT")
    parser.add_argument("--model", required=True, metavar="DIR", help="model folder")
    parser.add_argument("--variant", metavar="V", help="ONNX variant in the folder (fp32, fp16, q4, int8, …)")
    parser.add_argument("--query", action="store_true", help="embed as search queries (with instruction)")
    parser.add_argument("--instruction", metavar="TEXT", help="task for instruction-aware models")
    parser.add_argument("--dim", type=int, metavar="D", help="Matryoshka dimension (default: full size)")
    parser.add_argument("--provider", default="auto", help="auto, cpu, cuda, directml, coreml")
    parser.add_argument("--force-mrl", action="store_true", help="allow --dim on models not trained for it")
    parser.add_argument("--stats", action="store_true", help="print engine figures to stderr as JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from qfinder.core.model.embedder import Embedder  # onnxruntime: not for every command's parser
    from qfinder.core.model.info import EmbedOptions

    embedder = Embedder.from_folder(args.model, provider=args.provider, variant=args.variant,
                                    options=EmbedOptions(force_mrl=args.force_mrl))
    try:
        if args.query:
            embedded = embedder.embed_queries_with_stats(args.texts, instruction=args.instruction, dim=args.dim)
        else:
            embedded = embedder.embed_documents_with_stats(args.texts, dim=args.dim)
    finally:
        embedder.close()
    vectors, stats = embedded.vectors, embedded.stats
    sys.stdout.write(json.dumps([[round(float(x), 7) for x in row] for row in vectors]) + "\n")
    if args.stats:
        sys.stderr.write(json.dumps({
            "model": embedder.info.name, "family": embedder.info.family, "provider": embedder.provider.used,
            "fallback_reason": embedder.provider.fallback_reason, "dim": int(vectors.shape[1]),
            "tokens": stats.tokens, "padded_tokens": stats.padded_tokens, "truncated": stats.truncated,
            "padding_waste": round(stats.padding_waste, 4)}) + "\n")
    return 0
