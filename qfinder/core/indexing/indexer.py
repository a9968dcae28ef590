"""Incremental indexing in small steps that a caller drives (CLI loop or the engine thread).

    indexer = Indexer(catalog, embedder)          # embedder None: names and words (see below)
    report = indexer.plan(["/home/me/Documents"])  # walk, diff by (size, mtime_ns, inode), queue
    while indexer.pending():
        progress = indexer.step()      # a few hundred files or 16k tokens, one commit
    indexer.refresh_paths(paths)   # watcher events (created/modified/moved/deleted paths)
    indexer.remove_paths(paths)    # forget files or folders (vectors and FTS rows too)
    indexer.remove_root(root)      # purge a root and compact
    indexer.clear_pending(roots)   # drop queued work (all, or under some folders); stays "pending"

Guarantees: `plan` commits every file's name and path (searchable at once, status "pending")
before any content work; an unchanged tree costs one stat per file. `step` extracts and chunks a
few files (small and recent first), embeds only chunks whose hash has no stored vector, and
commits the batch in one transaction: a kill loses at most that batch, and the next `plan`
finds the unfinished files still "pending" (no duplicates: a file's chunks are replaced
atomically; no ghosts: files gone from disk are deleted by the diff). A file that changes while
read is re-queued; failures and text-less files are recorded with a reason and not retried
until they change. A different model or chunker (pipeline stamp) resets the vectors.
Without a model (embedder None) a catalog that no model has embedded yet gets each file's
chunks without vectors, cut by words (`words_only`): keyword search finds text at once, and
the model that comes later re-reads and embeds every file (its stamp replaces the words-only
one). A catalog a model has embedded keeps its vectors: without that model, content waits.
Not thread-safe: one owner thread calls everything.

Longer than ~300 lines: a step's fill → embed → commit → settle is one transaction discipline
over shared per-step state; split across modules, each part would reach into the others' state
(walking and diffing already live in scan.py, per-file work in work.py).
"""

from __future__ import annotations

import heapq
import logging
import os
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING

from tokenizers import Tokenizer, normalizers, pre_tokenizers
from tokenizers.models import WordLevel

from qfinder.core.extract import ChildExtractor, ExtractLimits
from qfinder.core.indexing.chunking import CHUNKER_VERSION, Chunk, chunk_text
from qfinder.core.indexing.plan import Signature, work_priority
from qfinder.core.indexing.scan import PlanReport, Scanner
from qfinder.core.indexing.walk import ExcludeRules
from qfinder.core.indexing.work import FileWork, prepare_file
from qfinder.core.model.batching import plan_batches
from qfinder.core.model.info import EmbedOptions
from qfinder.core.paths import is_within
from qfinder.core.state import IndexProgress
from qfinder.core.storage.catalog import Catalog, PipelineStamp
from qfinder.core.tokens import TokenizerSpans

if TYPE_CHECKING:  # the model package loads onnxruntime; an indexer without a model never needs it
    from qfinder.core.model.protocol import TextEmbedder

log = logging.getLogger(__name__)

PROMPT_ROOM = 16  # tokens left for the document prompt and special tokens
SPECIAL_TOKENS = 2  # what an engine adds to a text: Qwen3 an end-of-text, BERT-likes [CLS] and [SEP]
MAX_REQUEUES = 3  # a file that keeps changing while read waits for the next plan/refresh
WORDS_ONLY_MODEL = "words-only"  # the stamp's model id while no model has embedded the catalog
_ENGINE = EmbedOptions()  # the local engine's batch shape, which the indexer's calls follow


@dataclass(frozen=True)
class IndexSettings:
    chunk_tokens: int = 384
    overlap_tokens: int = 48
    max_chunks_per_file: int | None = 2000
    # One step reads up to step_files files and embeds up to step_tokens of their chunks, sorted by
    # length across files into calls of about batch_tokens padded tokens each (the engine's batch
    # budget, EmbedOptions.max_padded_tokens): short files fill whole batches instead of ~2 rows
    # each. A step commits once, so a kill loses at most one step; a cancel (a query preempting,
    # shutdown) loses at most the call in flight, since finished calls' vectors stay with the files.
    step_files: int = 256
    step_tokens: int = 16_384
    batch_tokens: int = _ENGINE.max_padded_tokens
    limits: ExtractLimits = field(default_factory=ExtractLimits)

    def chunker_id(self, chunk_size: int) -> int:
        """Chunker version and effective settings as one number for the pipeline stamp."""
        return CHUNKER_VERSION * 100_000_000 + chunk_size * 10_000 + self.overlap_tokens


@dataclass
class IndexerStats:
    files_done: int = 0  # files settled (indexed, failed or name-only) since creation
    chunks_stored: int = 0
    texts_embedded: int = 0  # texts the model embedded (cached chunk vectors not counted)
    tokens_embedded: int = 0
    bytes_done: int = 0
    seconds: float = 0.0  # time spent in step()
    embed_seconds: float = 0.0
    batches: int = 0  # model batches run (texts_embedded / batches: how full they were)
    requeued: int = 0


class Indexer:
    def __init__(self, catalog: Catalog, embedder: TextEmbedder | None = None, settings: IndexSettings | None = None,
                 rules: ExcludeRules | None = None, on_commit: Callable[[], None] | None = None) -> None:
        self.catalog = catalog
        self.embedder = embedder
        self.settings = settings or IndexSettings()
        self.scanner = Scanner(catalog, rules or ExcludeRules(), self)
        self.on_commit = on_commit
        self.stats = IndexerStats()
        self._heap: list[tuple[tuple[int, int], str]] = []
        self._queued: dict[str, int] = {}  # path -> size (for the ETA)
        self._requeues: dict[str, int] = {}
        self._active: list[FileWork] = []
        self._current: str | None = None
        # PDF and Office text come from a child process of this indexer's own (time and memory caps)
        self._extractor = ChildExtractor()
        self.words_only = embedder is None and _no_model_embedded(catalog.stamp())
        if self._reads_content:
            self.ensure_pipeline()

    @property
    def _reads_content(self) -> bool:
        return self.embedder is not None or self.words_only

    # --- pipeline ----------------------------------------------------------------------------
    def stamp(self) -> PipelineStamp:
        chunker = self.settings.chunker_id(self.chunk_size())
        if self.embedder is None:
            return PipelineStamp(WORDS_ONLY_MODEL, 0, chunker)
        info = self.embedder.info
        return PipelineStamp(info.model_id, int(info.full_dim), chunker)

    def ensure_pipeline(self) -> bool:
        """Adopt the current model/chunker; True when stored vectors were dropped for it."""
        stamp = self.stamp()
        if self.catalog.stamp_matches(stamp):
            return False
        had_vectors = not _no_model_embedded(self.catalog.stamp())
        self.catalog.reset_for_stamp(stamp)
        self._active.clear()
        if had_vectors:
            log.warning("model or chunker changed: every file will be re-embedded")
        return had_vectors

    # --- scanning (the composed Scanner) --------------------------------------------------------
    @property
    def rules(self) -> ExcludeRules:
        return self.scanner.rules

    @rules.setter
    def rules(self, rules: ExcludeRules) -> None:
        self.scanner.rules = rules

    def plan(self, roots: Iterable[str | os.PathLike[str]]) -> PlanReport:
        """Walk each root, commit names of new/changed files, drop vanished ones, queue work."""
        return self.scanner.plan(roots)

    def refresh_paths(self, paths: Iterable[str | os.PathLike[str]]) -> int:
        """Bring files/folders up to date in one diff (a move is a rename, not a re-embed)."""
        return self.scanner.refresh_paths(paths)

    def remove_paths(self, paths: Iterable[str | os.PathLike[str]]) -> int:
        return self.scanner.remove_paths(paths)

    def remove_root(self, root: str | os.PathLike[str]) -> int:
        return self.scanner.remove_root(root)

    # --- queue ----------------------------------------------------------------------------------
    def pending(self) -> int:
        """Files waiting for content work (queued or in flight)."""
        return len(self._queued) + len(self._active)

    def enqueue(self, path: str, size: int, mtime_ns: int) -> None:
        if path in self._queued or not self._reads_content:
            return
        self._queued[path] = size
        heapq.heappush(self._heap, (work_priority(size, mtime_ns), path))

    def dequeue_under(self, prefixes: Iterable[str]) -> None:
        bases = list(prefixes)
        for path in list(self._queued):
            if any(is_within(path, b) for b in bases):
                del self._queued[path]
        self._active = [w for w in self._active if not any(is_within(w.path, b) for b in bases)]

    def _pop(self) -> str | None:
        while self._heap:
            _, path = heapq.heappop(self._heap)
            if path in self._queued:
                del self._queued[path]
                return path
        return None

    # --- one step -------------------------------------------------------------------------------
    def step(self, max_files: int | None = None, max_tokens: int | None = None) -> IndexProgress:
        """Prepare up to `max_files` files, embed up to `max_tokens` tokens, commit what is complete."""
        if not self._reads_content:
            return self.progress()
        started = time.perf_counter()
        budget = max_tokens or self.settings.step_tokens
        self._fill(max_files or self.settings.step_files, budget)
        if self.embedder is not None:
            self._embed(budget)
        self._commit()
        self.stats.seconds += time.perf_counter() - started
        return self.progress()

    def _chunker(self, text: str, pages: tuple[tuple[int, int], ...] | None, is_code: bool) -> Sequence[Chunk]:
        s = self.settings
        tokens = self.embedder if self.embedder is not None else word_spans()
        return chunk_text(text, tokens, size=self.chunk_size(), overlap=s.overlap_tokens,
                          pages=pages, code=is_code, max_chunks=s.max_chunks_per_file)

    def chunk_size(self) -> int:
        """Chunk tokens: the setting, capped so a chunk (plus prompt and special tokens) fits the model."""
        if self.embedder is None:
            return max(16, self.settings.chunk_tokens)
        cap = int(self.embedder.info.max_tokens) - PROMPT_ROOM
        return max(16, min(self.settings.chunk_tokens, cap))

    def _missing_tokens(self) -> int:
        return sum(_tokens_of(w.missing()) for w in self._active)

    def _fill(self, max_files: int, budget: int) -> None:
        settled: list[FileWork] = []
        missing = self._missing_tokens()
        while len(self._active) < max_files and missing < budget:
            path = self._pop()
            if path is None:
                break
            row = self.catalog.file(path)
            if row is None:
                continue
            self._current = path
            work = prepare_file(row.id, path, self._chunker, self.settings.limits, self._extractor)
            if work.outcome == "ready":
                work.vectors.update(self.catalog.cached_vectors(c.hash for c in work.chunks))
                self._active.append(work)
                missing += _tokens_of(work.missing())
            else:
                settled.append(work)
        if settled:
            self._settle(settled)

    def _embed(self, budget: int) -> None:
        todo: list[Chunk] = []
        planned: set[str] = set()
        spent = 0
        for work in self._active:  # oldest files first: they finish (and commit) first
            for chunk in work.missing():
                if todo and spent + chunk.tokens > budget:
                    break
                if chunk.hash not in planned:
                    planned.add(chunk.hash)
                    todo.append(chunk)
                    spent += chunk.tokens
        if not todo:
            return
        assert self.embedder is not None
        lengths = [self.embedder.count_tokens(c.text) for c in todo]
        for group in length_groups(todo, lengths, self.settings.batch_tokens):
            self._embed_group(group)

    def _embed_group(self, group: list[Chunk]) -> None:
        """One call; its vectors go to the files at once, so a cancel later in the step keeps them."""
        assert self.embedder is not None
        started = time.perf_counter()
        embedded = self.embedder.embed_documents_with_stats([c.text for c in group])
        self.stats.embed_seconds += time.perf_counter() - started
        self.stats.texts_embedded += embedded.stats.texts
        self.stats.tokens_embedded += embedded.stats.tokens
        self.stats.batches += embedded.stats.batches
        fresh = {chunk.hash: embedded.vectors[i] for i, chunk in enumerate(group)}
        for work in self._active:
            work.vectors.update({c.hash: fresh[c.hash] for c in work.chunks if c.hash in fresh})

    def _commit(self) -> None:
        if self.embedder is None:  # words only: a read file is all there is to store
            ready, self._active = self._active, []
        else:
            ready = [w for w in self._active if w.complete]
            self._active = [w for w in self._active if not w.complete]
        if ready:
            self._settle(ready)

    def _settle(self, works: list[FileWork]) -> None:
        """Record a batch of finished files in ONE transaction."""
        with self.catalog.write():
            for work in works:
                self._record(work)
        if self.on_commit is not None:
            self.on_commit()

    def _record(self, work: FileWork) -> None:
        if work.outcome == "gone":
            self.catalog.delete_file(work.path)
            return
        sig = work.signature
        assert sig is not None
        now = _current_signature(work.path)
        row = self.catalog.file(work.path)
        if row is None:
            return  # removed meanwhile (remove_paths)
        self.catalog.upsert_file(work.path, root_id=row.root_id, size=sig.size, mtime_ns=sig.mtime_ns,
                                 inode=sig.inode, kind=row.kind)
        if work.outcome == "changed" or now != sig:
            self._requeue(work.path, now)
            return
        if work.outcome == "ready":
            items = [(chunk, work.vectors.get(chunk.hash)) for chunk in work.chunks]  # None: words only
            self.catalog.replace_file_chunks(work.file_id, items, content_hash=work.content_hash)
            self.stats.chunks_stored += len(items)
        else:
            self.catalog.mark_file(work.file_id, work.outcome, work.reason)
        self.stats.files_done += 1
        self.stats.bytes_done += work.size
        self._requeues.pop(work.path, None)

    def _requeue(self, path: str, now: Signature | None) -> None:
        self.stats.requeued += 1
        count = self._requeues.get(path, 0) + 1
        self._requeues[path] = count
        if now is None:
            self.catalog.delete_file(path)
        elif count <= MAX_REQUEUES:
            self.enqueue(path, now.size, now.mtime_ns)
        else:
            log.info("%s keeps changing while read; left pending until it settles", path)

    def close(self) -> None:
        """Stop the extractor's child process (started on the first PDF or Office file)."""
        self._extractor.close()

    def retry_failed(self, paths: Iterable[str] | None = None) -> int:
        """Queue failed/name-only files again (all of them when `paths` is None)."""
        wanted = None if paths is None else {os.path.abspath(p) for p in paths}
        count = 0
        for status in ("failed", "name-only"):
            for row in self.catalog.files_with_status(status, limit=1 << 62):
                if wanted is None or row.path in wanted:
                    self.catalog.mark_file(row.id, "pending")
                    self.enqueue(row.path, row.size, row.mtime_ns)
                    count += 1
        return count

    def clear_pending(self, roots: Iterable[str | os.PathLike[str]] | None = None) -> None:
        """Forget queued and in-flight work, all of it or only under `roots` (folders or files);
        the files stay "pending" in the catalog, so the next plan/reconcile queues them again."""
        if roots is not None:
            self.dequeue_under(os.path.abspath(os.fspath(r)) for r in roots)
            return
        self._heap.clear()
        self._queued.clear()
        self._active.clear()

    # --- progress -------------------------------------------------------------------------------
    def progress(self) -> IndexProgress:
        s = self.stats
        pending_bytes = sum(self._queued.values()) + sum(w.size for w in self._active)
        rate = s.bytes_done / s.seconds if s.seconds > 0 and s.bytes_done else 0.0
        eta = pending_bytes / rate if rate else (0.0 if not self.pending() else None)
        chunk_bytes = max(1, self.settings.chunk_tokens * 4)
        chunks_pending = sum(len(w.missing()) for w in self._active) + pending_bytes // chunk_bytes
        tps = s.tokens_embedded / s.embed_seconds if s.embed_seconds > 0 else 0.0
        current = self._current if self.pending() else None
        return IndexProgress(s.files_done, self.pending(), s.chunks_stored, int(chunks_pending),
                             tps, eta, current, s.texts_embedded)


def length_groups(chunks: Sequence[Chunk], lengths: Sequence[int], batch_tokens: int) -> list[list[Chunk]]:
    """`chunks` cut into the batches the engine's own planner makes of them, longest first, so
    that each call runs as one full batch. `lengths`: each chunk's tokens as the engine encodes
    its text alone (a chunk's own count, taken inside its file, can be a few tokens less)."""
    padded = [n + SPECIAL_TOKENS for n in lengths]
    plan = plan_batches(padded, batch_tokens, _ENGINE.max_batch, _ENGINE.max_padding_waste)
    return [[chunks[i] for i in batch] for batch in plan]


def _tokens_of(chunks: Iterable[Chunk]) -> int:
    return sum(c.tokens or len(c.text) // 4 for c in chunks)


def _no_model_embedded(stamp: PipelineStamp | None) -> bool:
    return stamp is None or stamp.model_id == WORDS_ONLY_MODEL


@lru_cache(maxsize=1)
def word_spans() -> TokenizerSpans:
    """Cuts text where no model's tokenizer is at hand: one token per word, punctuation run or
    CJK character (so chunks hold about `chunk_tokens` words for the keyword index)."""
    tokenizer = Tokenizer(WordLevel({"[UNK]": 0}, unk_token="[UNK]"))
    tokenizer.normalizer = normalizers.BertNormalizer(clean_text=False, handle_chinese_chars=True,
                                                      strip_accents=False, lowercase=False)
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    return TokenizerSpans(tokenizer)


def _current_signature(path: str) -> Signature | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return Signature(st.st_size, st.st_mtime_ns, st.st_ino)


__all__ = ["IndexSettings", "Indexer", "IndexerStats", "PlanReport"]
