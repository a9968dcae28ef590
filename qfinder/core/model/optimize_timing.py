"""How fast each model embeds the same texts on this machine, and what the CPU offers for int8.

All models run the same texts (so the same batches: the planner depends only on token counts and
the tokenizer is shared) in turn, round after round in alternating order; each model's best round
counts, because load from other programs only ever adds time.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

TIMED_ROUNDS = 3  # after one warm-up run each
# /proc/cpuinfo flags for instructions that make int8 matmuls fast, and how to name them.
_INT8_FLAGS = {"avx512_vnni": "AVX-512 VNNI", "avx_vnni": "AVX-VNNI", "amx_int8": "AMX-INT8",
               "asimddp": "ARM dot-product", "i8mm": "ARM int8 matmul"}


def tokens_per_second(embedders: Mapping[str, Any], texts: Sequence[str],
                      rounds: int = TIMED_ROUNDS) -> dict[str, float]:
    """Real (unpadded) tokens per second of each embedder's embed_documents over `texts`."""
    best = dict.fromkeys(embedders, float("inf"))
    for embedder in embedders.values():
        embedder.embed_documents(list(texts))  # warm-up: first runs pay for allocations
    names = list(embedders)
    for round_index in range(rounds):
        for name in names if round_index % 2 == 0 else reversed(names):
            started = time.perf_counter()
            embedders[name].embed_documents(list(texts))
            best[name] = min(best[name], time.perf_counter() - started)
    some = next(iter(embedders.values()))
    tokens = sum(len(some.tokenizer.encode(text).ids) for text in texts)
    return {name: tokens / max(seconds, 1e-9) for name, seconds in best.items()}


def cpu_flags(cpuinfo: Path = Path("/proc/cpuinfo")) -> set[str] | None:
    """The CPU's feature flags, or None where there is no /proc/cpuinfo to read (macOS, Windows)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        text = cpuinfo.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    flags: set[str] = set()
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("flags", "Features"):  # x86 / ARM
            flags.update(value.split())
    return flags


def cpu_int8_support(flags: set[str] | None) -> str:
    """The int8-friendly instructions among `flags` ("AVX-512 VNNI, AMX-INT8"), "none", or
    "unknown" when the flags could not be read."""
    if flags is None:
        return "unknown"
    return ", ".join(name for flag, name in _INT8_FLAGS.items() if flag in flags) or "none"
