"""Input checks and small helpers shared by :mod:`course.recall.vector_index` and :mod:`course.recall.ivf`.

Private: a separate module only so that the two public modules can both use these without
importing each other in a circle.
"""
from __future__ import annotations

import numpy as np

METRICS = ("inner_product", "cosine")

def _as_matrix(values, name: str) -> np.ndarray:
    """Validate a 2-D finite float matrix; integer input becomes float64."""
    array = np.asarray(values)
    if array.ndim != 2:
        raise ValueError(f"{name} must be 2-D (n, dim), got shape {array.shape}")
    if array.shape[0] == 0 or array.shape[1] == 0:
        raise ValueError(f"{name} must be non-empty, got shape {array.shape}")
    if not np.issubdtype(array.dtype, np.floating):
        if not np.issubdtype(array.dtype, np.number) or np.issubdtype(array.dtype, np.complexfloating):
            raise TypeError(f"{name} must be real numbers, got dtype {array.dtype}")
        array = array.astype(np.float64)
    if not np.isfinite(array).all():
        raise ValueError(f"{name} contains NaN or infinity")
    return array


def _check_metric(metric: str) -> None:
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {METRICS}, got {metric!r}")


def _check_k(k, n_items: int) -> int:
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)):
        raise TypeError(f"k must be an int, got {type(k).__name__}")
    if not 1 <= k <= n_items:
        raise ValueError(f"k must be in [1, n_items={n_items}], got {k}")
    return int(k)


def _normalise_rows(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    # A zero vector has no direction: leave it at zero so its cosine with everything is 0.
    return matrix / np.where(norms > 0, norms, 1)


def _sort_top(indices: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sort each row by descending score, ties by ascending item index (deterministic)."""
    order = np.lexsort((indices, -scores), axis=-1)  # last key is the primary one
    indices = np.take_along_axis(indices, order, axis=1)
    scores = np.take_along_axis(scores, order, axis=1)
    indices[np.isneginf(scores)] = -1  # an excluded / unreachable slot is not an item
    return indices, scores
