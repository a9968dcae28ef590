"""Load a model folder into the parts an Embedder runs on, and prove it works with one probe text.

The probe catches graphs that load but cannot embed (wrong output, bad shapes, NaN) at load time,
where the error message can name the folder, instead of in the middle of indexing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from tokenizers import Tokenizer

from qfinder.core.errors import EmbeddingError, ModelError
from qfinder.core.model import runtime
from qfinder.core.model.feeds import GraphSpec, read_graph
from qfinder.core.model.folder import ModelFolder, find_model_folder
from qfinder.core.model.info import EmbedOptions, ModelInfo, build_info, detect_family
from qfinder.core.model.tokenize import TextEncoder, eos_id_of, load_tokenizer
from qfinder.core.state import ProviderReport

log = logging.getLogger(__name__)


@dataclass
class LoadedModel:
    folder: ModelFolder
    session: Any
    provider: ProviderReport
    spec: GraphSpec
    tokenizer: Tokenizer
    encoder: TextEncoder
    info: ModelInfo
    options: EmbedOptions


def load_model(path: Path, provider: str, variant: str | None, options: EmbedOptions) -> LoadedModel:
    folder = find_model_folder(path, variant)
    family = detect_family(folder)
    tokenizer = load_tokenizer(folder.tokenizer_path)
    encoder = TextEncoder(tokenizer, force_eos_id=eos_id_of(tokenizer) if family == "qwen3" else None)
    session, report = runtime.create_session(folder.onnx_path, provider, options.threads)
    spec = read_graph(session, folder.config)
    declared = spec.output_dim or _config_dim(folder)
    info = build_info(folder, family, declared or 0, folder.quantization, options)
    parts = LoadedModel(folder, session, report, spec, tokenizer, encoder, info, options)
    measured = _probe_dim(parts)
    if declared and measured != declared:
        log.warning("%s declares %d dimensions but returns %d", folder.root, declared, measured)
    if measured != info.full_dim:
        parts.info = build_info(folder, family, measured, folder.quantization, options)
    log.info("loaded %s (%s, %d-d, %s) on %s", parts.info.name, family, parts.info.full_dim,
             parts.info.quantization, report.used)
    return parts


def _config_dim(folder: ModelFolder) -> int | None:
    hidden = folder.config.get("hidden_size")
    return int(hidden) if isinstance(hidden, int) and hidden > 0 else None


def _probe_dim(parts: LoadedModel) -> int:
    """Embed one short text; its vector length is the model's true full size."""
    from qfinder.core.model.embedder import Embedder

    probe_info = replace(parts.info, full_dim=max(parts.info.full_dim, 1), min_dim=1)
    embedder = Embedder(replace(parts, info=probe_info))
    try:
        vectors = embedder.embed_documents(["a"])
    except EmbeddingError as exc:
        raise ModelError(f"{parts.folder.onnx_path} loads but cannot embed: {exc.message}",
                         "Use a complete text-embedding export (sentence-transformers or onnx-community). "
                         + exc.hint) from exc
    except (ValueError, IndexError) as exc:  # output of an unexpected shape
        raise ModelError(f"{parts.folder.onnx_path} returns an output qfinder cannot pool ({exc}).",
                         "Use an export whose output is [batch, tokens, dim] or [batch, dim].") from exc
    if vectors.ndim != 2 or vectors.shape[1] < 1:
        raise ModelError(f"{parts.folder.onnx_path} returns vectors of shape {vectors.shape}.",
                         "Use an export whose output is [batch, tokens, dim] or [batch, dim].")
    return int(vectors.shape[1])
