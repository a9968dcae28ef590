"""What the window needs to know about a model: its dimensions and instruction-awareness.

Prefer the engine's loaded `ModelInfo`; before the engine reports one, read the folder's
config.json (a small local file) so the slider and instruction picker are right from the start.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

QWEN3_MIN_DIM = 32


@dataclass(frozen=True)
class ModelFacts:
    name: str
    min_dim: int
    full_dim: int
    default_dim: int
    instruction_aware: bool


def facts_from_folder(folder: str | Path) -> ModelFacts | None:
    """Best-effort facts from config.json; None when the folder does not say."""
    root = Path(folder)
    for candidate in (root / "config.json", root / "onnx" / "config.json"):
        try:
            config = json.loads(candidate.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        hidden = config.get("hidden_size") or config.get("dim") or config.get("d_model")
        if not isinstance(hidden, int):
            return None
        qwen3 = str(config.get("model_type", "")).lower().startswith("qwen3")
        min_dim = QWEN3_MIN_DIM if qwen3 else hidden
        default = min(512, hidden) if qwen3 else hidden
        return ModelFacts(root.name, min_dim, hidden, default, qwen3)
    return None


def facts_for_model(model_folder: str | None, model_name: str | None) -> ModelFacts | None:
    """Until the engine reports ModelInfo: the model folder's config, else the registry."""
    if model_folder:
        facts = facts_from_folder(model_folder)
        if facts is not None:
            return facts
    from qfinder.core.model.registry import spec_for_folder_name

    spec = spec_for_folder_name(model_name or "")
    if spec is None:
        return None
    return ModelFacts(spec.name, spec.min_dim, spec.full_dim, spec.default_dim, spec.family == "qwen3")


def index_memory(engine: Any) -> float | None:
    """The engine's measured index memory in bytes, when it reports one."""
    value = getattr(engine, "index_memory_bytes", None)
    value = value() if callable(value) else value
    return float(value) if isinstance(value, (int, float)) else None
