"""Exercises of notebook 04a (feature crossing: FM and the cross network).

The references are plain loops, different from the vectorised model answers, so the test that
runs the model answers through these checks compares two independent routes.
"""
from __future__ import annotations

import numpy as np

from course.exercises.registry import register


def _fields_case(rng: np.random.Generator) -> dict:
    batch, n_fields, k = int(rng.integers(1, 6)), int(rng.integers(1, 8)), int(rng.integers(1, 6))
    return {"embeddings": rng.normal(size=(batch, n_fields, k))}


@register("04a.1", "function", make_case=_fields_case,
          hint="square_of_sum = embeddings.sum(axis=1) ** 2 and sum_of_squares = (embeddings ** 2).sum(axis=1), "
               "both (batch, k); then half their difference summed over k")
def fm_pairs_identity(embeddings):
    """Σ_{f<g} <v_f, v_g> of each row, by the pair loop (what the identity must equal)."""
    batch, n_fields, _ = embeddings.shape
    out = np.zeros(batch)
    for row in range(batch):
        for f in range(n_fields):
            for g in range(f + 1, n_fields):
                out[row] += float(np.dot(embeddings[row, f], embeddings[row, g]))
    return out


def _cross_case(rng: np.random.Generator) -> dict:
    batch, d = int(rng.integers(1, 6)), int(rng.integers(1, 7))
    return {"x0": rng.normal(size=(batch, d)), "x": rng.normal(size=(batch, d)),
            "W": rng.normal(size=(d, d)), "b": rng.normal(size=d)}


@register("04a.2", "function", make_case=_cross_case,
          hint="W x for a batch of rows is x @ W.T; then x0 * (... + b) + x")
def cross_layer(x0, x, W, b):
    """x0 ⊙ (W x + b) + x for each row, unit by unit."""
    batch, d = x0.shape
    out = np.empty((batch, d))
    for row in range(batch):
        for i in range(d):
            out[row, i] = x0[row, i] * (sum(W[i, j] * x[row, j] for j in range(d)) + b[i]) + x[row, i]
    return out


@register("04a.3", "answer", tolerance=0,
          hint="a rank-r layer has U (d x r), V (d x r) and the bias b (d): 2dr + d")
def low_rank_cross_parameters(d=256, rank=32, n_layers=3):
    """Parameters of a low-rank DCN-V2 cross network, counted from the course's module."""
    from course.crossing import CrossNetwork, count_parameters

    return count_parameters(CrossNetwork(d, n_layers, rank=rank))
