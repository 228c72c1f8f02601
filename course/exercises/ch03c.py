"""Exercises of notebook 03c (score fusion).

The references are plain loops, written differently from the model answers (which vectorise),
so that the test running the model answers through these checks compares two routes.
"""
from __future__ import annotations

import numpy as np

from course.exercises.registry import register


def _rank_case(rng: np.random.Generator) -> dict:
    n_items, n_targets = int(rng.integers(1, 9)), int(rng.integers(1, 5))
    # rounded values make ties common: the tie rule (smaller index first) is part of the exercise
    predictions = rng.choice([0.0, 0.1, 0.2, 0.5, 0.9], size=(n_items, n_targets))
    return {"predictions": predictions, "weights": rng.uniform(0.0, 3.0, n_targets),
            "alpha": rng.uniform(0.2, 2.0, n_targets), "beta": rng.uniform(0.0, 5.0, n_targets)}


@register("03c.1", "function", make_case=_rank_case,
          hint="rank of item i under t = 1 + #(items with a larger value, or an equal value and a smaller index)")
def kuaishou_score(predictions, weights, alpha, beta):
    """Σ_t w_t / (r_t^α_t + β_t), r_t the 1-based rank (largest first, ties to the smaller index)."""
    predictions = np.asarray(predictions, dtype=float)
    n_items, n_targets = predictions.shape
    scores = np.zeros(n_items)
    for i in range(n_items):
        for t in range(n_targets):
            column = predictions[:, t]
            rank = 1 + int((column > column[i]).sum() + (column[:i] == column[i]).sum())
            scores[i] += weights[t] / (rank ** alpha[t] + beta[t])
    return scores


def _linear_case(rng: np.random.Generator) -> dict:
    n, m = int(rng.integers(1, 12)), int(rng.integers(1, 5))
    return {"p_click": rng.random(n), "others": rng.random((n, m)), "weights": rng.uniform(-1.0, 3.0, m)}


@register("03c.2", "function", make_case=_linear_case,
          hint="the columns are p_click and p_click * others; the weight vector is 1 followed by the weights")
def per_impression_linear(p_click, others, weights):
    """p_click · (1 + Σ_x w_x p_x), computed item by item."""
    return np.array([pc * (1.0 + sum(w * p for w, p in zip(weights, row)))
                     for pc, row in zip(p_click, others)])
