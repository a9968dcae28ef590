"""Where a library's vectors come from: the local model, or a server (with the local copy beside).

    embedder = embedder_for(config, runtime, data_dir)          # TextEmbedder
    embedder = aligned(embedder, catalog.stamp(), data_dir)     # adopts the stamp when fingerprints agree

An index embedded by one engine may go on with another of the same model — documents on a GPU
server and queries here, or the server's index searched with the local copy — when their
probe fingerprints agree (qfinder.core.model.identity): the new engine then embeds under the
stamp's model id, remembered as an alias so later opens need no network. When they do not
agree the stamp differs and the indexer re-embeds, as for any other model change.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

from qfinder.core.config import LibraryConfig, ModelRuntime
from qfinder.core.errors import ModelError
from qfinder.core.indexing.indexer import WORDS_ONLY_MODEL
from qfinder.core.model.identity import IdentityBook, check_against, fingerprint_of
from qfinder.core.model.info import EmbedOptions, ModelInfo
from qfinder.core.model.lazy import LazyEmbedder, open_lazily  # onnxruntime only once a model opens
from qfinder.core.model.protocol import Embedded, TextEmbedder
from qfinder.core.model.remote.embedder import RemoteEmbedder, ServerAccess
from qfinder.core.model.remote.errors import IdentityMismatch
from qfinder.core.model.remote.facts import FactsCache
from qfinder.core.model.remote.fallback import QueryFallback
from qfinder.core.model.remote.hints import ModelHints, tokenizer_file
from qfinder.core.model.tokenize import load_tokenizer
from qfinder.core.secrets import KeyStore
from qfinder.core.state import ProviderReport
from qfinder.core.storage.types import PipelineStamp

log = logging.getLogger(__name__)

MODEL_CACHE = "model-cache"  # the model's facts and optimized graph (qfinder.core.model.lazy)


def local_model(config: LibraryConfig, runtime: ModelRuntime, data_dir: Path) -> TextEmbedder:
    """The configured model folder, opened when first used (qfinder.core.model.lazy)."""
    folder = config.model_folder or ""
    if not Path(folder).is_dir():
        raise ModelError(f"The model folder {folder} does not exist.",
                         "Pass --model DIR with a downloaded model folder.")
    return open_lazily(Path(folder), config.provider, runtime.variant, EmbedOptions(threads=runtime.threads),
                       data_dir / MODEL_CACHE)


def server_model(config: LibraryConfig, data_dir: Path, api_key: str | None = None,
                 sleep: Callable[[float], None] | None = None) -> RemoteEmbedder:
    """The configured server as a RemoteEmbedder (not connected yet); the key from `api_key`,
    else the environment, the keyring or the key file."""
    assert config.server_url
    where = config.server_tokenizer or config.model_folder
    found = tokenizer_file(where)
    tokenizer = load_tokenizer(found)
    hints = ModelHints.read(found.parent, config.server_model or "")  # its config files describe the model
    key = api_key if api_key is not None else KeyStore(data_dir).load(config.server_url)
    access = ServerAccess(config.server_url, config.server_api, config.server_model, key)
    return RemoteEmbedder(access, tokenizer, hints, FactsCache(data_dir / MODEL_CACHE),
                          IdentityBook(data_dir), sleep=sleep)


def embedder_for(config: LibraryConfig, runtime: ModelRuntime, data_dir: Path) -> TextEmbedder:
    if not config.on_server:
        return local_model(config, runtime, data_dir)
    remote = server_model(config, data_dir)
    local = local_model(config, runtime, data_dir) if config.model_folder else None
    if remote.hints.family == "generic" and local is None and "qwen3" not in (config.server_model or "").lower():
        log.info("%s: no Qwen3 model recognised; queries get the model's own prompts", config.server_url)
    return QueryFallback(remote, local, IdentityBook(data_dir))


class Aliased:
    """A local model embedding under another engine's model id (their fingerprints agreed)."""

    def __init__(self, inner: TextEmbedder, model_id: str) -> None:
        self.inner = inner
        self.model_id = model_id

    @property
    def info(self) -> ModelInfo:
        return replace(self.inner.info, model_id=self.model_id)

    @property
    def provider(self) -> ProviderReport:
        return self.inner.provider

    def count_tokens(self, text: str) -> int:
        return self.inner.count_tokens(text)

    def token_spans(self, texts: Sequence[str]) -> list[list[tuple[int, int]]]:
        return self.inner.token_spans(texts)

    def embed_documents_with_stats(self, texts: Sequence[str], dim: int | None = None) -> Embedded:
        return self.inner.embed_documents_with_stats(texts, dim)

    def embed_queries_with_stats(self, texts: Sequence[str], instruction: str | None = None,
                                 dim: int | None = None) -> Embedded:
        return self.inner.embed_queries_with_stats(texts, instruction, dim)

    def cancel(self) -> None:
        self.inner.cancel()

    def reset_cancel(self) -> None:
        self.inner.reset_cancel()

    def close(self) -> None:
        self.inner.close()


def aligned(embedder: TextEmbedder, stamp: PipelineStamp | None, data_dir: Path) -> TextEmbedder:
    """`embedder`, embedding under `stamp`'s model id when it is another engine of the same model."""
    if stamp is None or stamp.model_id == WORDS_ONLY_MODEL:
        return embedder
    book = IdentityBook(data_dir)
    remote = embedder.remote if isinstance(embedder, QueryFallback) else None
    own_id = _own_id(embedder, remote)
    if own_id == stamp.model_id:
        return embedder
    if book.alias(own_id) == stamp.model_id or _agrees(embedder, stamp, book):
        book.put_alias(own_id, stamp.model_id)
        if remote is not None:
            remote.model_id = stamp.model_id
            return embedder
        return Aliased(embedder, stamp.model_id)
    return embedder


def _own_id(embedder: TextEmbedder, remote: RemoteEmbedder | None) -> str:
    if remote is not None:
        return remote.info.model_id
    return embedder.info.model_id


def _agrees(embedder: TextEmbedder, stamp: PipelineStamp, book: IdentityBook) -> bool:
    """Whether the stamp's recorded fingerprint (recorded now from the local copy when that is the
    stamp's model) agrees with `embedder`'s. Connects to a server: ServerUnavailable may rise."""
    if not isinstance(embedder, QueryFallback):  # a local model: measured against the stamp's record
        return (embedder.info.full_dim == stamp.full_dim
                and check_against(book, stamp.model_id, lambda: fingerprint_of(embedder)).agrees)
    if not _kept_for(stamp, embedder.local, book) or embedder.info.full_dim != stamp.full_dim:
        return False
    remote = embedder.remote
    remote.model_id = stamp.model_id  # connect() checks the probe against the stamp's fingerprint
    remote.disconnect()
    try:
        remote.connect()
    except IdentityMismatch:
        remote.model_id = None
        remote.disconnect()
        return False
    return True


def _kept_for(stamp: PipelineStamp, local: TextEmbedder | None, book: IdentityBook) -> bool:
    """Whether `book` keeps a fingerprint for the stamp's model id, recorded now from the local
    copy when that is the stamp's model (the local copy opens only then)."""
    if book.get(stamp.model_id) is not None:
        return True
    if local is None or local.info.model_id != stamp.model_id:
        return False
    book.put(stamp.model_id, fingerprint_of(local))
    return True


def lazily_opened(embedder: TextEmbedder | None) -> LazyEmbedder | None:
    """The local model a library opens on demand, inside whatever `embedder_for` and `aligned`
    wrapped it in (a server's query fallback, an alias): the one whose memory an idle app gives
    back, and whose opening time status shows. None: no local model (a server alone)."""
    while True:
        if isinstance(embedder, LazyEmbedder) or embedder is None:
            return embedder
        if isinstance(embedder, QueryFallback):
            embedder = embedder.local
        elif isinstance(embedder, Aliased):
            embedder = embedder.inner
        else:
            return None
