"""Exercises of notebook 05b (long sequences: SIM's search).

The reference is a plain loop, different from the vectorised model answer.
"""
from __future__ import annotations

import numpy as np

from course.exercises.registry import register


def _search_case(rng: np.random.Generator) -> dict:
    length = int(rng.integers(1, 30))
    return {"candidate_category": int(rng.integers(0, 4)),
            "history_category": rng.integers(0, 4, length),
            "mask": rng.random(length) < 0.8, "k": int(rng.integers(1, 8))}


@register("05b.1", "function", make_case=_search_case,
          hint="np.flatnonzero(mask & (history_category == candidate_category))[:k], then pad with -1")
def hard_search_np(candidate_category, history_category, mask, k):
    """Positions of the first k real events of the candidate's category, -1 padded, by a loop."""
    out = []
    for j in range(len(history_category)):
        if mask[j] and history_category[j] == candidate_category and len(out) < k:
            out.append(j)
    return out + [-1] * (k - len(out))
