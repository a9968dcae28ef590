"""Matryoshka (MRL) truncation: keep the first d dimensions and re-normalise.

Stored vectors are full-size; search truncates with `truncate_normalize`, so moving the dimension
slider never re-runs the model (design.md §3).
"""

from __future__ import annotations

import numpy as np

from qfinder.core.errors import EmbeddingError

MIN_MRL_DIM = 32


def l2_normalize(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return (vectors / np.maximum(norms, 1e-12)).astype(np.float32, copy=False)


def truncate_normalize(vectors: np.ndarray, dim: int | None) -> np.ndarray:
    """First `dim` components of each vector (all when None), L2-normalised, float32."""
    vectors = np.asarray(vectors, dtype=np.float32)
    full = vectors.shape[-1]
    if dim is not None and not 1 <= dim <= full:
        raise ValueError(f"dimension {dim} is outside 1..{full}")
    return l2_normalize(vectors[..., :dim] if dim is not None else vectors)


def check_dim(dim: int | None, min_dim: int, full_dim: int) -> None:
    """Reject a dimension the model was not trained for (MRL range, or full size only)."""
    if dim is None or dim == full_dim:
        return
    if not min_dim <= dim <= full_dim:
        allowed = f"{min_dim}..{full_dim}" if min_dim < full_dim else f"only {full_dim} (not MRL-trained)"
        raise EmbeddingError(f"Dimension {dim} is not allowed for this model.", f"Allowed: {allowed}.")
