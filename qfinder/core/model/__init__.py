"""The embedding engine: load a model folder and turn texts into normalised vectors.

    from qfinder.core.model.embedder import Embedder
    from qfinder.core.model.info import EmbedOptions
    emb = Embedder.from_folder(folder, provider="auto", variant=None, options=EmbedOptions())
    vectors = emb.embed_documents(texts)            # float32 [n, full_dim], L2-normalised
    query = emb.embed_queries(["..."], dim=256)     # instruction: model default when None
    done = emb.embed_documents_with_stats(texts)    # Embedded(vectors, stats: EmbedStats)

Callers outside this package hold a `TextEmbedder` (protocol.py), which a remote engine can
implement too.

onnxruntime telemetry is switched off before onnxruntime is imported (see runtime.py). The
package itself imports nothing: the registry, machine facts and model infos the window shows
load without onnxruntime.
"""

from __future__ import annotations

import os

os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
