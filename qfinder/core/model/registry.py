"""The models qfinder knows by name: Qwen3-Embedding 0.6B / 4B / 8B and their ONNX exports.

Sizes and RAM are approximate (weights only, plus working memory for a 1024-token batch) and are
shown before a download. The 8-bit variant is not downloaded: `qfinder models optimize` makes it
from the fp32 files on the user's machine (MatMulNBits or dynamic int8 with the sensitive MatMuls
kept fp32, whichever is fastest there) and keeps it only if it matches fp32 on real text
(design.md §3; the hub's `model_quantized.onnx` files use plain dynamic int8, ungated, which can
break Qwen3).
"""

from __future__ import annotations

from dataclasses import dataclass

from qfinder.core.errors import ModelError

DEFAULT_INSTRUCTION = "Given a web search query, retrieve relevant passages that answer the query"
COMMON_FILES = ("tokenizer.json", "tokenizer_config.json", "config.json", "config_sentence_transformers.json",
                "modules.json", "1_Pooling/config.json", "sentence_bert_config.json", "special_tokens_map.json")


@dataclass(frozen=True)
class Variant:
    name: str  # "fp32" | "fp16" | "q4" | "int8"
    patterns: tuple[str, ...]  # Hub file patterns for this variant (fnmatch, relative to the repo)
    download_mb: int
    ram_mb: int
    note: str = ""
    made_locally: bool = False  # produced by `qfinder models optimize`, never downloaded


@dataclass(frozen=True)
class ModelSpec:
    name: str
    repo: str
    family: str
    full_dim: int
    min_dim: int
    default_dim: int
    layers: int
    hidden: int
    variants: tuple[Variant, ...]
    default_instruction: str = DEFAULT_INSTRUCTION
    max_tokens: int = 32768

    def variant(self, name: str | None) -> Variant:
        wanted = name or self.variants[0].name
        for variant in self.variants:
            if variant.name == wanted:
                return variant
        raise ModelError(f"{self.name} has no variant '{wanted}'.",
                         f"Choose one of: {', '.join(v.name for v in self.variants)}.")


def _community(size: str, fp32_mb: int, int8_mb: int, layers: int, hidden: int, dim_default: int) -> ModelSpec:
    files = "onnx/model{}.onnx*"
    return ModelSpec(
        name=f"Qwen3-Embedding-{size}", repo=f"onnx-community/Qwen3-Embedding-{size}-ONNX", family="qwen3",
        full_dim=hidden, min_dim=32, default_dim=dim_default, layers=layers, hidden=hidden,
        variants=(
            Variant("fp32", (files.format(""),), fp32_mb, fp32_mb + 600, "reference quality; CPU or GPU"),
            Variant("fp16", (files.format("_fp16"),), fp32_mb // 2, fp32_mb // 2 + 600, "GPU only (slow on CPU)"),
            Variant("q4", (files.format("_q4"),), fp32_mb // 6, fp32_mb // 6 + 600,
                    "smallest; cosine to fp32 ≈ 0.94"),
            # 8-bit matrices plus the fp32 embedding table (Gather is not quantized)
            Variant("int8", (), int8_mb, int8_mb + 600,
                    "made from fp32 by `qfinder models optimize` where int8 is faster here; cosine ≥ 0.995",
                    made_locally=True),
        ),
    )


REGISTRY: tuple[ModelSpec, ...] = (
    _community("0.6B", 2400, 1200, 28, 1024, 512),
    _community("4B", 16100, 5200, 36, 2560, 512),
    _community("8B", 30300, 9900, 36, 4096, 512),
    ModelSpec(
        name="Qwen3-Embedding-4B-ONNX-ST", repo="sigalr/Qwen3-Embedding-4B-ONNX-ST", family="qwen3",
        full_dim=2560, min_dim=32, default_dim=512, layers=36, hidden=2560,
        variants=(
            Variant("fp32", ("onnx/model.onnx", "onnx/model.onnx_data"), 16100, 16700,
                    "Qwen3-Embedding-4B, sentence-transformers ONNX export"),
            Variant("int8", (), 5200, 5800, "made from fp32 by `qfinder models optimize`", made_locally=True),
        ),
    ),
)


def find_spec(name: str) -> ModelSpec:
    """A registry entry by name or repo (case-insensitive)."""
    wanted = name.lower()
    for spec in REGISTRY:
        if wanted in (spec.name.lower(), spec.repo.lower()):
            return spec
    raise ModelError(f"Unknown model '{name}'.", f"Known models: {', '.join(s.name for s in REGISTRY)}.")


def spec_for_folder_name(folder_name: str) -> ModelSpec | None:
    """The registry entry a downloaded folder came from (folders are named after the entry)."""
    lowered = folder_name.lower()
    matches = [s for s in REGISTRY if lowered.startswith(s.name.lower())]
    return max(matches, key=lambda s: len(s.name)) if matches else None
