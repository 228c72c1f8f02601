"""Per-user views of :func:`course.world.interest_balance`: the lists behind its averages.

:func:`~course.world.interest_balance` reports means over users ("the best single list holds
0.143 of a user's true top-50"). A mean hides the spread: is it every user at 0.14, or a few
users fully served and most not at all? :func:`overlap_per_user` returns the per-user figures
whose means those are, and :func:`most_clicked` the non-personalised list they are measured on.

>>> from course import world
>>> w = world.generate("tiny")
>>> per_user = overlap_per_user(w, day=1, n_users=30, k=5, seed=3)
>>> list(per_user.columns)
['user_id', 'best_list', 'most_clicked']
>>> bool(abs(per_user["best_list"].mean()
...          - world.interest_balance(w, day=1, n_users=30, k=5, seed=3).best_list_share) < 1e-12)
True
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from course._checks import check_positive_int, check_world
from course.world.balance import logged_day, oracle_sample, servable_items, top_k_mask
from course.world.oracle import sigmoid

__all__ = ["most_clicked", "overlap_per_user"]


def most_clicked(world, day: int | None = None, k: int = 50) -> np.ndarray:
    """The k notes servable on ``day`` with the most logged clicks on days <= ``day``.

    The one-size-fits-all list a platform can build from its logs (the popularity baseline),
    best first; ties go to the lower item id, as in :func:`course.world.interest_balance`.

    Returns
    -------
    ndarray of shape (k,)
        Item ids.
    """
    check_world(world)
    day = logged_day(world, day)
    k = check_positive_int(k, "k")
    items = servable_items(world, day)
    if k > len(items):
        raise ValueError(f"k={k} exceeds the {len(items)} servable notes on day {day}")
    logs = world.impressions
    clicks = logs.loc[(logs["day"] <= day) & (logs["click"] == 1), "item_id"].to_numpy()
    counts = np.bincount(clicks, minlength=len(world.items))[items]               # (I,)
    return items[np.argsort(-counts, kind="stable")[:k]]


def overlap_per_user(world, day: int | None = None, n_users: int = 400, k: int = 50,
                     seed: int = 0) -> pd.DataFrame:
    """Per user, the share of their true top-k held by the best single list and by the k
    most-clicked notes: the figures whose means :func:`course.world.interest_balance` reports.

    Same users (seeded sample), same day, same truth (the oracle's click logit over the
    servable notes, hour averaged, top of the slate) and same two lists as ``interest_balance``
    with the same arguments: the best single list is the k notes with the highest mean true
    P(click) over the sampled users.

    Returns
    -------
    DataFrame of shape (n_users, 3)
        Columns ``user_id``, ``best_list``, ``most_clicked`` (shares in [0, 1]), sorted by user.
    """
    day, users, items, logit = oracle_sample(world, day, n_users, k, seed)
    truth = top_k_mask(logit, k)                                                  # (U, I)
    best = np.argsort(-sigmoid(logit).mean(axis=0), kind="stable")[:k]           # columns
    popular = np.searchsorted(items, most_clicked(world, day, k))                 # columns
    return pd.DataFrame({"user_id": users,
                         "best_list": truth[:, best].sum(axis=1) / k,
                         "most_clicked": truth[:, popular].sum(axis=1) / k})
