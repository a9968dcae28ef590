"""What the client side needs of the served model: its tokenizer and how it wants its text.

    hints = ModelHints.read(Path("~/models/Qwen3-Embedding-0.6B"), served="Qwen/Qwen3-Embedding-0.6B")
    tokenizer = load_tokenizer(tokenizer_file(folder_or_file))

Counting tokens, cutting chunks at token boundaries and truncating to the server's input limit
with room for the end-of-text token all need the model's own tokenizer here, on this computer:
the local copy's folder when one is set, else a `tokenizer.json` (or a folder with one). Qwen3 is
recognised from config.json's model_type, a query prompt that starts "Instruct:", or "qwen3"
in the served model's name; it gets the instruction prefix on queries, documents none.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from qfinder.core.errors import ModelError
from qfinder.core.model.info import QWEN3_QUERY_PROMPT
from qfinder.core.model.registry import DEFAULT_INSTRUCTION
from qfinder.core.paths import read_json_object as _json


@dataclass(frozen=True)
class ModelHints:
    family: str  # "qwen3" | "generic"
    default_instruction: str | None
    query_prompt: str = ""
    document_prompt: str = ""
    max_tokens: int | None = None  # the model's own limit, when its folder says

    @classmethod
    def read(cls, folder: Path | None, served: str) -> ModelHints:
        config = _json(folder / "config.json") if folder else {}
        prompts = _json(folder / "config_sentence_transformers.json").get("prompts", {}) if folder else {}
        prompts = prompts if isinstance(prompts, dict) else {}
        query = str(prompts.get("query", ""))
        qwen3 = (str(config.get("model_type", "")).lower() == "qwen3" or bool(QWEN3_QUERY_PROMPT.match(query))
                 or "qwen3" in served.lower())
        limit = _json(folder / "sentence_bert_config.json").get("max_seq_length") if folder else None
        max_tokens = limit if isinstance(limit, int) and limit > 0 else None
        if qwen3:
            match = QWEN3_QUERY_PROMPT.match(query)
            task = match.group("task") if match and match.group("task") else DEFAULT_INSTRUCTION
            return cls("qwen3", task, max_tokens=max_tokens)
        document = str(prompts.get("document", prompts.get("passage", "")))
        return cls("generic", None, query, document, max_tokens)


def tokenizer_file(where: str | Path | None) -> Path:
    """The tokenizer.json at `where` (a file, or a folder holding one)."""
    if not where:
        raise ModelError("Embedding on a server needs the model's tokenizer on this computer.",
                         "Set a local copy of the model (its folder), or the tokenizer: "
                         "--server-tokenizer FILE (the model's tokenizer.json).")
    path = Path(where).expanduser()
    path = path / "tokenizer.json" if path.is_dir() else path
    if not path.is_file():
        raise ModelError(f"No tokenizer at {path}.",
                         "Give the model's tokenizer.json, or the folder of a local copy of the model.")
    return path
