"""Exercises of notebook 03b (MMoE and PLE): a gate's mixture, expert dropout, the synthetic
tasks' correlation.

The references loop where the model answers vectorise, so the test that runs the model answers
through these checks compares two independent routes.
"""
from __future__ import annotations

import math

import numpy as np

from course.exercises.registry import register


def _mixture_case(rng: np.random.Generator) -> dict:
    n, h = int(rng.integers(1, 7)), int(rng.integers(1, 5))
    return dict(gate_logits=rng.normal(scale=3.0, size=n), expert_outputs=rng.normal(size=(n, h)))


@register("03b.1", "function", make_case=_mixture_case,
          hint="subtract the max logit before np.exp (it cancels), divide by the sum, then g @ expert_outputs")
def gate_mixture(gate_logits, expert_outputs):
    """softmax(gate_logits) · expert_outputs, shape (H,)."""
    top = max(gate_logits)
    weights = [math.exp(z - top) for z in gate_logits]
    total = sum(weights)
    mixed = np.zeros(expert_outputs.shape[1])
    for weight, output in zip(weights, expert_outputs):
        mixed += weight / total * output
    return mixed


def _dropout_case(rng: np.random.Generator) -> dict:
    n = int(rng.integers(1, 8))
    weights = rng.dirichlet(np.ones(n))
    return dict(weights=weights, kept=rng.random(n) < rng.choice([0.0, 0.5, 0.9]))


@register("03b.2", "function", make_case=_dropout_case,
          hint="np.where(kept, weights, 0) divided by its sum; check kept.any() first")
def drop_experts(weights, kept):
    """Gate weights after dropping the experts not kept, renormalised; all kept if none is."""
    if not any(kept):
        return np.array(weights, dtype=float)
    total = sum(w for w, k in zip(weights, kept) if k)
    return np.array([w / total if k else 0.0 for w, k in zip(weights, kept)])


def _linear_case(rng: np.random.Generator) -> dict:
    n, d = int(rng.integers(5, 60)), int(rng.integers(2, 8))
    return dict(x=rng.normal(size=(n, d)), w=rng.normal(size=(2, d)))


@register("03b.3", "function", make_case=_linear_case,
          hint="z = x @ w.T gives the two linear parts as columns; then np.corrcoef of its columns")
def linear_correlation(x, w):
    """Pearson correlation of the linear parts x·w[0] and x·w[1] over the rows."""
    a, b = x @ w[0], x @ w[1]
    a, b = a - a.mean(), b - b.mean()
    return float((a * b).sum() / math.sqrt((a * a).sum() * (b * b).sum()))
