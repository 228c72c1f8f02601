"""Exercises of notebook 03e (pre-ranking: the three-tower model, the cost of a request).

The references are plain loops, written differently from the model answers (which vectorise),
so that the test running the model answers through these checks compares two routes.
"""
from __future__ import annotations

import numpy as np

from course.exercises.registry import register


def _cost_case(rng: np.random.Generator) -> dict:
    widths = [int(w) for w in rng.integers(1, 200, int(rng.integers(2, 6)))]
    n = int(rng.integers(1, 1000))
    return {"user_widths": widths, "item_widths": [int(w) for w in rng.integers(1, 200, 3)],
            "cross_widths": [int(w) for w in rng.integers(1, 20, 2)],
            "upper_widths": [widths[-1] + 7, 16, 1], "n_candidates": n,
            "n_uncached": int(rng.integers(0, n + 1))}


@register("03e.1", "function", make_case=_cost_case,
          hint="an MLP with widths [w0, w1, ..., wL] costs w0·w1 + w1·w2 + ... per row; multiply by its passes")
def request_multiply_adds(user_widths, item_widths, cross_widths, upper_widths, n_candidates, n_uncached):
    """Multiply-adds of one three-tower request: user once, item n_uncached times, cross and upper n times."""
    def per_row(widths):
        total = 0
        for a, b in zip(widths[:-1], widths[1:]):
            total += a * b
        return total

    return (per_row(user_widths) + n_uncached * per_row(item_widths)
            + n_candidates * (per_row(cross_widths) + per_row(upper_widths)))


def _overlap_case(rng: np.random.Generator) -> dict:
    n = int(rng.integers(5, 60))
    # rounded scores: ties happen, and go to the smaller index in both lists
    return {"pre_scores": rng.random(n).round(1), "rank_scores": rng.random(n).round(2),
            "k": int(rng.integers(1, n + 1)), "top": int(rng.integers(1, 6))}


@register("03e.2", "function", make_case=_overlap_case,
          hint="sort each by -score with kind='stable'; count the ranker's top items found in the pre-ranker's top k")
def kept_share(pre_scores, rank_scores, k, top):
    """Share of the ranker's top-``top`` items that are in the pre-ranker's top ``k``."""
    def best(scores, m):
        order = sorted(range(len(scores)), key=lambda i: (-scores[i], i))
        return order[:m]

    kept = set(best(pre_scores, k))
    wanted = best(rank_scores, top)
    return sum(i in kept for i in wanted) / len(wanted)
