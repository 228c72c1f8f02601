"""Exercises of notebook 04b (the crossing blocks on the world's click task).

The references are loops or the course's own modules, different from the vectorised model
answers, so the test that runs the model answers through these checks compares two routes.
"""
from __future__ import annotations

import numpy as np

from course.exercises.registry import register


def _table_case(rng: np.random.Generator) -> dict:
    return {"M": rng.normal(size=(int(rng.integers(2, 7)), int(rng.integers(2, 7))))}


@register("04b.1", "function", make_case=_table_case,
          hint="M.mean(axis=1, keepdims=True) are the row means; keepdims makes them broadcast")
def double_centre_table(M):
    """Each entry minus its row's mean, minus its column's mean, plus the grand mean (loops)."""
    rows, cols = M.shape
    grand = sum(M[i, j] for i in range(rows) for j in range(cols)) / (rows * cols)
    out = np.empty((rows, cols))
    for i in range(rows):
        for j in range(cols):
            out[i, j] = M[i, j] - M[i].sum() / cols - M[:, j].sum() / rows + grand
    return out


@register("04b.2", "answer", tolerance=0,
          hint="field_interaction: one D x D matrix per pair, P = F(F-1)/2 pairs, plus P·D for the ⊙")
def bilinear_field_interaction_cost(n_fields=13, dim=8):
    """Multiply-adds of FiBiNET's field_interaction bilinear layer, counted by the course."""
    import torch

    from course.crossing import BilinearInteraction, multiply_adds

    return multiply_adds(BilinearInteraction(n_fields, dim, "field_interaction"), torch.zeros(1, n_fields, dim))
