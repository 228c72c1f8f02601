"""Exercises of notebook 06a (reranking: MMR and rules).

The references are plain loops over the definitions, written independently of
:func:`course.rerank.mmr` and :mod:`course.rerank.rules`, so that the test running the model
answers through these checks compares two routes.
"""
from __future__ import annotations

import numpy as np

from course.exercises.registry import register


def _mmr_case(rng: np.random.Generator) -> dict:
    n = int(rng.integers(2, 12))
    X = rng.normal(size=(n, 3))
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    picked = [int(i) for i in rng.permutation(n)[:int(rng.integers(0, n))]]
    return dict(rewards=rng.random(n), similarity=X @ X.T, picked=picked,
                theta=float(rng.choice([0.0, 0.3, 0.5, 0.8, 1.0])))


@register("06a.1", "function", make_case=_mmr_case,
          hint="score θ·reward_i − (1 − θ)·max_{j∈picked} sim(i, j) for i not picked (penalty 0 "
               "when nothing is picked); return the best i, the smaller index on ties")
def mmr_next(rewards, similarity, picked, theta):
    """The item MMR adds next to the list ``picked``."""
    best, best_score = -1, -np.inf
    for i in range(len(rewards)):
        if i in picked:
            continue
        penalty = max(similarity[i][j] for j in picked) if picked else 0.0
        score = theta * rewards[i] - (1 - theta) * penalty
        if score > best_score:
            best, best_score = i, score
    return best


def _types_case(rng: np.random.Generator) -> dict:
    return dict(types=rng.integers(0, 3, int(rng.integers(0, 15))).tolist(),
                max_run=int(rng.integers(1, 4)))


@register("06a.2", "function", make_case=_types_case,
          hint="walk the list keeping the length of the current run of one type")
def longest_run_ok(types, max_run):
    """True if no type appears more than ``max_run`` times in a row in ``types``."""
    for start in range(len(types)):
        end = start
        while end < len(types) and types[end] == types[start]:
            end += 1
        if end - start > max_run:
            return False
    return True
