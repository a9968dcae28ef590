"""Write a complete Qwen3-Embedding-style model folder around a built ONNX graph.

Layouts (``shape``), as published Qwen3-Embedding exports come:

* ``plain``: ``model.onnx`` (inputs ``input_ids, attention_mask, position_ids``) at the top;
* ``kv``: onnx-community layout, ``onnx/model.onnx`` with ``past_key_values.{i}.key|value``
  inputs and ``present.*`` outputs;
* ``st``: sentence-transformers ONNX layout, ``onnx/model.onnx`` + ``onnx/model.onnx_data``
  (external weights), plain inputs.

Beside the graph: ``tokenizer.json`` (copied), ``tokenizer_config.json``, ``config.json``
(``model_type: qwen3``), ``config_sentence_transformers.json`` (the Qwen3 query prompt),
``1_Pooling/config.json`` (last-token pooling), ``modules.json`` (with Normalize).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from qfinder.devtools.qwen3_config import Qwen3Config
from qfinder.devtools.qwen3_onnx import build_qwen3_onnx

SHAPES = ("plain", "kv", "st")
EOS_TOKEN = "<|endoftext|>"
DEFAULT_TASK = "Given a web search query, retrieve relevant passages that answer the query"
QUERY_PROMPT = f"Instruct: {DEFAULT_TASK}\nQuery:"


def onnx_path(dest: Path, shape: str) -> Path:
    """Where the graph of a folder of this shape lives."""
    if shape not in SHAPES:
        raise ValueError(f"shape must be one of {SHAPES}, not {shape!r}")
    return dest / "model.onnx" if shape == "plain" else dest / "onnx" / "model.onnx"


def write_model_folder(dest: Path, cfg: Qwen3Config, weights: Mapping[str, np.ndarray],
                       tokenizer_json: Path, *, shape: str = "plain", dtype: str = "float32",
                       external_data: bool | None = None) -> Path:
    """Build the graph and every config file; returns ``dest``."""
    path = onnx_path(dest, shape)
    dest.mkdir(parents=True, exist_ok=True)
    external = shape == "st" if external_data is None else external_data
    build_qwen3_onnx(cfg, weights, path, kv_cache=shape == "kv", dtype=dtype, external_data=external)
    shutil.copyfile(tokenizer_json, dest / "tokenizer.json")
    eos_id = _token_id(tokenizer_json, EOS_TOKEN)
    write_configs(dest, cfg, eos_id, dtype)
    return dest


def _token_id(tokenizer_json: Path, token: str) -> int:
    data = json.loads(tokenizer_json.read_text(encoding="utf-8"))
    for added in data.get("added_tokens", []):
        if added["content"] == token:
            return int(added["id"])
    raise ValueError(f"{tokenizer_json} has no {token}")


def write_configs(dest: Path, cfg: Qwen3Config, eos_id: int, dtype: str = "float32") -> None:
    """The transformers and sentence-transformers files of a Qwen3-Embedding folder."""
    config = {
        "architectures": ["Qwen3ForCausalLM"], "model_type": "qwen3",
        "vocab_size": cfg.vocab_size, "hidden_size": cfg.hidden_size,
        "intermediate_size": cfg.intermediate_size, "num_hidden_layers": cfg.num_hidden_layers,
        "num_attention_heads": cfg.num_attention_heads, "num_key_value_heads": cfg.num_key_value_heads,
        "head_dim": cfg.head_dim, "rms_norm_eps": cfg.rms_norm_eps, "rope_theta": cfg.rope_theta,
        "max_position_embeddings": cfg.max_position_embeddings, "hidden_act": "silu",
        "attention_bias": False, "tie_word_embeddings": False, "torch_dtype": dtype,
        "bos_token_id": eos_id, "eos_token_id": eos_id, "pad_token_id": eos_id,
    }
    st_config = {"prompts": {"query": QUERY_PROMPT, "document": ""}, "default_prompt_name": None,
                 "similarity_fn_name": "cosine"}
    pooling = {"word_embedding_dimension": cfg.hidden_size, "pooling_mode_cls_token": False,
               "pooling_mode_mean_tokens": False, "pooling_mode_max_tokens": False,
               "pooling_mode_mean_sqrt_len_tokens": False, "pooling_mode_weightedmean_tokens": False,
               "pooling_mode_lasttoken": True, "include_prompt": True}
    modules = [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
    ]
    tokenizer_config = {"eos_token": EOS_TOKEN, "pad_token": EOS_TOKEN, "padding_side": "left",
                        "model_max_length": cfg.max_position_embeddings}
    files: dict[str, object] = {
        "config.json": config, "config_sentence_transformers.json": st_config,
        "1_Pooling/config.json": pooling, "modules.json": modules,
        "tokenizer_config.json": tokenizer_config,
        "sentence_bert_config.json": {"max_seq_length": 8192, "do_lower_case": False},
    }
    for name, content in files.items():
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(content, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
