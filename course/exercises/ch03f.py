"""Exercises of notebook 03f (MovieLens-100K as a two-task funnel): GAUC by hand.

The reference loops over users and over pairs where the model answer ranks, so the test that
runs the model answer through this check compares two routes (and ``course.metrics.gauc`` is a
third: the unit tests compare it with this loop's definition).
"""
from __future__ import annotations

import numpy as np

from course.exercises.registry import register


def _gauc_case(rng: np.random.Generator) -> dict:
    n_users = int(rng.integers(1, 6))
    users = rng.integers(0, n_users, int(rng.integers(4, 30)))
    labels = rng.integers(0, 2, len(users))
    labels[:2], users[:2] = (1, 0), users[0]                 # at least one user with both classes
    scores = rng.integers(0, 5, len(users)) / 4.0            # coarse scores: ties happen
    return dict(user_ids=users, labels=labels, scores=scores)


@register("03f.1", "function", make_case=_gauc_case,
          hint="for each user with both a 1 and a 0: the share of (liked, not liked) pairs whose liked "
               "row scores higher, a tie counting 1/2; weight that AUC by the user's number of rows; skip "
               "users with one class only")
def gauc_np(user_ids, labels, scores):
    """Impression-weighted mean of per-user AUC over users with both classes (ties count 1/2)."""
    total = weight = 0.0
    for user in sorted(set(user_ids.tolist())):
        mine = [(s, y) for u, s, y in zip(user_ids, scores, labels) if u == user]
        pos = [s for s, y in mine if y == 1]
        neg = [s for s, y in mine if y == 0]
        if not pos or not neg:
            continue                                     # AUC undefined for this user
        wins = sum(1.0 if p > q else 0.5 if p == q else 0.0 for p in pos for q in neg)
        total += len(mine) * wins / (len(pos) * len(neg))
        weight += len(mine)
    return total / weight
