"""Exercises of notebook 04c (the crossing models on MovieLens-100K, split by time).

The reference is a loop over the rows, different from the vectorised model answer in
``solutions/04c_crossing_on_movielens.md``, so the test that runs the model answer through this
check compares two routes.
"""
from __future__ import annotations

import numpy as np

from course.exercises.registry import register


def _user_rate_case(rng: np.random.Generator) -> dict:
    n_users, n_train, n_test = int(rng.integers(1, 8)), int(rng.integers(1, 40)), int(rng.integers(1, 20))
    return dict(train_users=rng.integers(0, n_users, n_train), train_labels=rng.integers(0, 2, n_train),
                test_users=rng.integers(0, n_users + 3, n_test),      # some users absent from training
                prior=float(rng.choice([0.3, 0.5537])), strength=float(rng.choice([1.0, 5.0, 10.0])))


@register("04c.2", "function", make_case=_user_rate_case,
          hint="np.bincount(train_users, weights=train_labels, minlength=...) counts each user's likes, "
               "np.bincount(train_users, minlength=...) their ratings; minlength must cover the test users "
               "too; then index both with test_users")
def user_like_rate(train_users, train_labels, test_users, prior, strength):
    """Each test row's user's smoothed share of liked training ratings (prior for a new user)."""
    out = np.empty(len(test_users))
    for row, user in enumerate(test_users):
        liked = rated = 0
        for u, label in zip(train_users, train_labels):     # one pass over training per test row
            if u == user:
                rated += 1
                liked += int(label)
        out[row] = (liked + strength * prior) / (rated + strength)
    return out
