"""Load a model folder into the parts an Embedder runs on: folder, session, graph, tokenizer, info.

`info.full_dim` is what the graph or its config declares (0 when neither says);
`Embedder.from_folder` then measures the true size with one probe text.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tokenizers import Tokenizer

from qfinder.core.model import runtime
from qfinder.core.model.feeds import GraphSpec, read_graph
from qfinder.core.model.folder import ModelFolder, find_model_folder
from qfinder.core.model.info import EmbedOptions, ModelInfo, build_info, detect_family
from qfinder.core.model.tokenize import TextEncoder, eos_id_of, load_tokenizer
from qfinder.core.state import GraphOrigin, ProviderReport


@dataclass(frozen=True)
class LoadedModel:
    folder: ModelFolder
    session: Any  # an onnxruntime.InferenceSession (its stubs type run() loosely anyway)
    provider: ProviderReport
    spec: GraphSpec
    tokenizer: Tokenizer
    encoder: TextEncoder
    info: ModelInfo
    options: EmbedOptions
    graph: GraphOrigin = "optimized"  # where onnxruntime's optimized graph came from


def load_model(path: Path, provider: str, variant: str | None, options: EmbedOptions,
               cache_dir: Path | None = None) -> LoadedModel:
    """`cache_dir`: where the optimized graph is kept (runtime.create_session); None: not cached."""
    folder = find_model_folder(path, variant)
    family = detect_family(folder)
    tokenizer, encoder = text_encoder(folder, family)
    session, report, graph = runtime.create_session(folder.onnx_path, provider, options.threads, cache_dir)
    spec = read_graph(session, folder.config)
    declared = spec.output_dim or _config_dim(folder)
    info = build_info(folder, family, declared or 0, folder.quantization, options)
    return LoadedModel(folder, session, report, spec, tokenizer, encoder, info, options, graph)


def text_encoder(folder: ModelFolder, family: str) -> tuple[Tokenizer, TextEncoder]:
    """The folder's tokenizer and the encoder the engine feeds the model with (Qwen3: a final EOS,
    the token its embedding is pooled from, always there)."""
    tokenizer = load_tokenizer(folder.tokenizer_path)
    return tokenizer, TextEncoder(tokenizer, force_eos_id=eos_id_of(tokenizer) if family == "qwen3" else None)


def _config_dim(folder: ModelFolder) -> int | None:
    hidden = folder.config.get("hidden_size")
    return int(hidden) if isinstance(hidden, int) and hidden > 0 else None
