"""Embedding on a server: is the client the bottleneck, and what does a query's round trip add?

    python3 bench/bench_remote.py [--files 120] [--gpu-tokens-per-s 5000] [--queries 30]

A loopback TEI server (tests/support/embed_servers) embeds with qfinder's own engine on the tiny
Qwen3 model; with --gpu-tokens-per-s each batch also takes tokens / rate seconds asleep, as a GPU
would (the CPU stays free for the client, as it is beside a real GPU server; 0: the CPU only).
A folder of text files (the shared cisi corpus when present, else generated prose) is indexed
from scratch through `Library.open(...).indexer` with the server configured: end-to-end tokens/s
is the tokens embedded over the whole index's wall time (walk, extraction, chunking, requests,
commits). The baseline, in the same run: the same chunks embedded by the server's engine
directly (no HTTP), its busy time giving the server's own rate. Queries: the p50 of embedding
one query locally against through the server; the difference is the round trip's cost.
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

from corpus import documents, write_texts
from timing import cpu_summary

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from support.embed_servers import EmbedServer, Quirks, server_config  # noqa: E402
from support.qwen3 import build_tiny_qwen3  # noqa: E402

from qfinder.core.library.library import Library  # noqa: E402
from qfinder.core.model.embedder import Embedder  # noqa: E402
from qfinder.core.results import SearchRequest  # noqa: E402

QUERIES = ["how are libraries classified", "information retrieval evaluation", "citation indexing",
           "the cost of journals", "automatic abstracting"]


def index_through(server: EmbedServer, tree: Path, data: Path, model: Path) -> tuple[float, list[str]]:
    """(end-to-end tokens/s, the chunks the catalog holds)."""
    data.mkdir()
    server_config(server.url, model).save(data)
    started = time.perf_counter()
    with Library.open(data, writer=True) as library:
        assert library.indexer is not None
        library.indexer.plan([tree])
        while library.indexer.pending():
            library.indexer.step()
        wall = time.perf_counter() - started
        tokens = library.indexer.stats.tokens_embedded
    with sqlite3.connect(f"file:{data / 'catalog.db'}?mode=ro", uri=True) as catalog:
        chunks = [row[0] for row in catalog.execute("SELECT text FROM chunks")]
    return tokens / wall, chunks


def server_rate(server: EmbedServer, chunks: list[str]) -> float:
    server.busy_s, server.tokens_embedded = 0.0, 0
    for start in range(0, len(chunks), 32):  # TEI's default batch
        server.embed(chunks[start:start + 32])
    return server.tokens_embedded / server.busy_s


def query_p50(embed, n: int) -> float:
    times = []
    for i in range(n):
        started = time.perf_counter()
        embed([QUERIES[i % len(QUERIES)] + f" {i}"])
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=120)
    parser.add_argument("--gpu-tokens-per-s", type=float, default=5000.0)
    parser.add_argument("--queries", type=int, default=30)
    args = parser.parse_args()
    print(cpu_summary())
    work = Path(tempfile.mkdtemp(prefix="qfinder-bench-remote-"))
    model = build_tiny_qwen3(work / "model")
    write_texts(work / "tree", documents(args.files))
    quirks = Quirks(gpu_tokens_per_s=args.gpu_tokens_per_s or None)
    with EmbedServer(Embedder.from_folder(model, "cpu"), "tei", quirks=quirks, lifetime_s=3600) as server:
        e2e, chunks = index_through(server, work / "tree", work / "data", model)
        own = server_rate(server, chunks)
        print(f"server           TEI on 127.0.0.1, tiny Qwen3, emulated GPU {args.gpu_tokens_per_s:.0f} tok/s")
        print(f"chunks           {len(chunks)} from {args.files} files")
        print(f"server's own     {own:,.0f} tok/s (same chunks, engine directly, busy time)")
        print(f"remote e2e       {e2e:,.0f} tok/s (whole index, wall time)   ratio {e2e / own:.2f}x (target >= 0.9)")
        with Library.open(work / "data") as reader:
            remote = reader.embedder.remote  # type: ignore[union-attr]
            local = Embedder.from_folder(model, "cpu")
            remote_ms = query_p50(remote.embed_queries_with_stats, args.queries)
            local_ms = query_p50(local.embed_queries_with_stats, args.queries)
            reader.search(SearchRequest(QUERIES[0]))
        print(f"query embed p50  local {local_ms:.1f} ms, through the server {remote_ms:.1f} ms: "
              f"round trip adds {remote_ms - local_ms:.1f} ms")


if __name__ == "__main__":
    main()
