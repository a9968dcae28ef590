"""Pool token states into one vector per text: last token (Qwen3), mean, or CLS.

The last token is found from the attention mask, never by token id: Qwen3's pad id equals its EOS
id (151643), so searching for the id would pick padding. Works for right and left padding.
"""

from __future__ import annotations

import numpy as np

from qfinder.core.errors import ModelError

POOLING_MODES = ("lasttoken", "mean", "cls")


def pool(hidden: np.ndarray, mask: np.ndarray, mode: str) -> np.ndarray:
    """hidden [B, L, H] float32, mask [B, L] of 0/1 -> [B, H] float32."""
    if mode == "lasttoken":
        return last_token(hidden, mask)
    if mode == "mean":
        return mean_tokens(hidden, mask)
    if mode == "cls":
        return first_token(hidden, mask)
    raise ModelError(f"Unsupported pooling mode '{mode}'.", f"Supported: {', '.join(POOLING_MODES)}.")


def last_token(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    length = mask.shape[1]
    # Index of the last 1 in each row: L - 1 - (position of the first 1 in the reversed row).
    last = length - 1 - np.argmax(mask[:, ::-1] > 0, axis=1)
    return hidden[np.arange(hidden.shape[0]), last]


def first_token(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    first = np.argmax(mask > 0, axis=1)
    return hidden[np.arange(hidden.shape[0]), first]


def mean_tokens(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    weights = mask.astype(np.float32)[:, :, None]
    summed = (hidden * weights).sum(axis=1)
    counts = np.maximum(weights.sum(axis=1), 1.0)
    return (summed / counts).astype(np.float32)
