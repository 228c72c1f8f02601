"""Exercises of notebook 03d (video: watch time, completion, the length adjustment).

The references are plain loops, written differently from the model answers (which vectorise),
so that the test running the model answers through these checks compares two routes.
"""
from __future__ import annotations

import math

import numpy as np

from course.exercises.registry import register


def _impressions_case(rng: np.random.Generator) -> dict:
    n = int(rng.integers(2, 30))
    clicked = (rng.random(n) < 0.4).astype(int)
    clicked[int(rng.integers(0, n))] = 0                 # at least one negative: finite odds
    t = np.where(clicked == 1, rng.exponential(30.0, n).round(1), 0.0)
    return {"clicked": clicked, "t": t}


@register("03d.1", "function", make_case=_impressions_case,
          hint="at the optimum Σ_clicked T_i (1 - p) = #unclicked · p; the odds are p / (1 - p)")
def weighted_logistic_optimum(clicked, t):
    """Σ_{clicked} t_i / #(unclicked): the odds of the constant logit minimising the weighted loss."""
    total, negatives = 0.0, 0
    for c, ti in zip(clicked, t):
        if c:
            total += float(ti)
        else:
            negatives += 1
    return total / negatives


def _length_case(rng: np.random.Generator) -> dict:
    n = int(rng.integers(1, 40))
    length = rng.choice([5.0, 20.0, 60.0, 61.5, 200.0, 600.0], n)   # values on the edges included
    edges = np.sort(rng.choice([5.0, 20.0, 45.0, 60.0, 120.0, 600.0], int(rng.integers(2, 6)), replace=False))
    return {"length": length, "completion": rng.random(n).round(3), "edges": edges}


@register("03d.2", "function", make_case=_length_case,
          hint="np.searchsorted(edges, length, side='right') - 1 gives the bin; the right edge belongs to the last bin")
def completion_by_length(length, completion, edges):
    """Mean completion per bin [edges[b], edges[b+1]), the last bin closed; NaN when empty."""
    n_bins = len(edges) - 1
    out = []
    for b in range(n_bins):
        last = b == n_bins - 1
        values = [c for x, c in zip(length, completion)
                  if edges[b] <= x < edges[b + 1] or (last and x == edges[b + 1])]
        out.append(sum(values) / len(values) if values else math.nan)
    return np.array(out)
