"""What a loaded model is: family, sizes, prompts, pooling — decided once from its folder.

Qwen3-Embedding is recognised by config.json's model_type "qwen3", by a registry folder name, or
by an "Instruct:" query prompt. It is instruction-aware, pools the last token and is MRL-trained
(32 … full size). Other models keep their own sentence-transformers prompts and full size only.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from qfinder.core.model.mrl import MIN_MRL_DIM
from qfinder.core.model.registry import DEFAULT_INSTRUCTION, spec_for_folder_name

if TYPE_CHECKING:  # folder.py loads the onnx package (a second and more): a cached ModelInfo needs none of it
    from qfinder.core.model.folder import ModelFolder

QWEN3_QUERY_PROMPT = re.compile(r"^Instruct:\s*(?P<task>.*?)\s*\nQuery:\s*$", re.DOTALL)


@dataclass(frozen=True)
class EmbedOptions:
    """Engine settings a user or the indexer may change."""

    max_tokens_document: int = 1024  # cap per document chunk; longer text is truncated and flagged
    max_tokens_query: int = 512
    # rows × longest row per batch. Bounds peak memory: onnx-community graphs also return the KV cache
    # (0.6B: ~230 KB per token), and attention grows with the longest row squared.
    max_padded_tokens: int = 4096
    max_batch: int = 64
    max_padding_waste: float = 0.1  # start a new batch rather than pad a row by more than this share
    threads: int | None = None  # onnxruntime intra-op threads; None = onnxruntime's choice
    force_mrl: bool = False  # allow dims below full size on models not trained for MRL


@dataclass(frozen=True)
class ModelInfo:
    name: str
    model_id: str
    family: str  # "qwen3" | "generic"
    full_dim: int
    min_dim: int
    default_dim: int
    instruction_aware: bool
    default_instruction: str | None
    pooling: str
    max_tokens: int
    quantization: str
    query_prompt: str = ""  # generic models: prefix for queries (e5: "query: ")
    document_prompt: str = ""  # generic models: prefix for documents (e5: "passage: ")


def detect_family(folder: ModelFolder) -> str:
    if str(folder.config.get("model_type", "")).lower() == "qwen3":
        return "qwen3"
    if QWEN3_QUERY_PROMPT.match(folder.prompts.get("query", "")):
        return "qwen3"
    spec = spec_for_folder_name(folder.root.name)
    return spec.family if spec else "generic"


def build_info(folder: ModelFolder, family: str, full_dim: int, quantization: str,
               options: EmbedOptions) -> ModelInfo:
    qwen3 = family == "qwen3"
    spec = spec_for_folder_name(folder.root.name)
    min_dim = MIN_MRL_DIM if (qwen3 or options.force_mrl) and full_dim > MIN_MRL_DIM else full_dim
    default_dim = spec.default_dim if spec and qwen3 else (min(512, full_dim) if qwen3 else full_dim)
    return ModelInfo(
        name=spec.name if spec and folder.root.name.lower() == spec.name.lower() else folder.root.name,
        model_id=model_id(folder, quantization),
        family=family,
        full_dim=full_dim,
        min_dim=min_dim,
        default_dim=default_dim,
        instruction_aware=qwen3,
        default_instruction=_default_instruction(folder) if qwen3 else None,
        pooling=folder.pooling or ("lasttoken" if qwen3 else "mean"),
        max_tokens=_max_tokens(folder, qwen3),
        quantization=quantization,
        query_prompt="" if qwen3 else folder.prompts.get("query", ""),
        document_prompt="" if qwen3 else folder.prompts.get("document", folder.prompts.get("passage", "")),
    )


def model_id(folder: ModelFolder, quantization: str) -> str:
    """Stable id stamped on stored vectors. It changes when the model's weights change, but not when
    the folder is copied or moved (no path, no mtime): a fingerprint of the graph file's ends and
    the total size of the graph and its weight files."""
    path = folder.onnx_path
    size = path.stat().st_size
    digest = hashlib.sha1(usedforsecurity=False)
    with path.open("rb") as handle:
        digest.update(handle.read(1 << 20))
        handle.seek(max(0, size - (1 << 20)))
        digest.update(handle.read(1 << 20))
    weights = sum(p.stat().st_size for p in path.parent.glob(path.name + "_data*") if p.is_file())
    return f"{folder.root.name}:{folder.variant}:{quantization}:{size + weights}:{digest.hexdigest()[:16]}"


def _default_instruction(folder: ModelFolder) -> str:
    match = QWEN3_QUERY_PROMPT.match(folder.prompts.get("query", ""))
    return match.group("task") if match and match.group("task") else DEFAULT_INSTRUCTION


def _max_tokens(folder: ModelFolder, qwen3: bool) -> int:
    if folder.max_seq_length:
        return folder.max_seq_length
    positions = folder.config.get("max_position_embeddings")
    if isinstance(positions, int) and positions > 0:
        # BERT-style models reserve two positions (XLM-R's offset); stay safely inside.
        return positions if qwen3 else min(positions, 512)
    return 32768 if qwen3 else 512


def format_query(info: ModelInfo, text: str, instruction: str | None) -> str:
    if info.instruction_aware:
        task = instruction if instruction is not None else (info.default_instruction or DEFAULT_INSTRUCTION)
        return f"Instruct: {task}\nQuery:{text.strip()}" if task else text.strip()
    return info.query_prompt + text


def format_document(info: ModelInfo, text: str) -> str:
    return text if info.instruction_aware else info.document_prompt + text
