"""Long ("lifelong") behaviour histories drawn from the world's truth, for notebook 05b.

The shipped world logs 8 days, about 9 clicks per user: too short to study histories of
thousands of events (SIM's subject). Regenerating a world with hundreds of days and many more
requests takes minutes; instead we draw the events a user *would* click directly from the
oracle, day by day, which keeps the property that matters: each day's choices follow the user's
fixed long-term interests plus that day's drifting short-term interest (``oracle.drift(day)``,
an AR(1) walk), so an old event speaks for an interest the user may no longer have today.

Each day, a user's ``events_per_day`` events are a sample without replacement from the
catalogue slice with probabilities ∝ exp(true click logit of that day) (the Gumbel top-k trick:
add Gumbel noise to the logits and keep the k largest). Hours are uniform; ``request_id``
numbers a user's events of the day in time order. Deterministic given ``seed``.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from course._checks import check_positive_int, check_world
from course.seed import as_generator

__all__ = ["lifelong_histories", "candidate_rows"]


def _check_ids(ids, n, name):
    ids = np.asarray(ids)
    if ids.ndim != 1 or not np.issubdtype(ids.dtype, np.integer) or not len(ids):
        raise ValueError(f"{name} must be a non-empty 1-D array of integer ids")
    if ids.min() < 0 or ids.max() >= n:
        raise ValueError(f"{name} must lie in [0, {n}), got [{ids.min()}, {ids.max()}]")
    return ids.astype(np.int64)


def lifelong_histories(world, user_ids, item_ids, n_days: int, events_per_day: int,
                       seed=0) -> pd.DataFrame:
    """Events (user_id, item_id, day, hour, request_id) of ``user_ids`` on days 0..n_days-1.

    Parameters
    ----------
    world : course.world.World
    user_ids, item_ids : int arrays
        The users, and the catalogue slice they choose from.
    n_days, events_per_day : int
        History length = n_days · events_per_day per user.
    seed : int or numpy.random.Generator

    Returns
    -------
    DataFrame sorted by user, then time.
    """
    check_world(world)
    users = _check_ids(user_ids, len(world.users), "user_ids")
    items = _check_ids(item_ids, len(world.oracle.items["quality"]), "item_ids")
    n_days, k = check_positive_int(n_days, "n_days"), check_positive_int(events_per_day, "events_per_day")
    if k > len(items):
        raise ValueError(f"events_per_day ({k}) must not exceed the catalogue slice ({len(items)})")
    rng = as_generator(seed, "seed")
    frames = []
    for day in range(n_days):                          # a loop over days: the drift is per day
        logit = world.oracle.click_logit_matrix(users, items, day=day)            # (U, I)
        noisy = logit + rng.gumbel(size=logit.shape)
        chosen = np.argpartition(-noisy, k - 1, axis=1)[:, :k]                    # (U, k)
        hours = np.sort(rng.integers(0, 24, size=(len(users), k)), axis=1)
        frames.append(pd.DataFrame({"user_id": np.repeat(users, k), "item_id": items[chosen].ravel(),
                                    "day": day, "hour": hours.ravel(),
                                    "request_id": np.tile(np.arange(k), len(users))}))
    events = pd.concat(frames, ignore_index=True)
    return events.sort_values(["user_id", "day", "hour", "request_id"], kind="stable",
                              ignore_index=True)


def candidate_rows(world, user_ids, item_ids, day: int, n_random: int, n_recalled: int,
                   seed=0) -> pd.DataFrame:
    """Candidates of one request per user on ``day`` with a click drawn from the truth.

    ``n_random`` candidates uniform over the slice and ``n_recalled`` drawn ∝ exp(true logit)
    (what a good recall stage would bring), without replacement; ``click`` ~ Bernoulli(P(click))
    at the top of a slate. Columns: user_id, item_id, day, hour (0), request_id (0),
    p_click, click.
    """
    check_world(world)
    users = _check_ids(user_ids, len(world.users), "user_ids")
    items = _check_ids(item_ids, len(world.oracle.items["quality"]), "item_ids")
    n = check_positive_int(n_random + n_recalled, "n_random + n_recalled")
    if n > len(items):
        raise ValueError(f"n_random + n_recalled ({n}) must not exceed the catalogue slice ({len(items)})")
    rng = as_generator(seed, "seed")
    logit = world.oracle.click_logit_matrix(users, items, day=day)                # (U, I)
    recalled = np.argpartition(-(logit + rng.gumbel(size=logit.shape)), max(n_recalled - 1, 0),
                               axis=1)[:, :n_recalled]
    taken = np.zeros(logit.shape, dtype=bool)
    np.put_along_axis(taken, recalled, True, axis=1)
    # uniform draws among the rest: random keys, the taken ones pushed to the end
    keys = np.where(taken, np.inf, rng.random(logit.shape))
    random = np.argpartition(keys, max(n_random - 1, 0), axis=1)[:, :n_random]
    chosen = np.concatenate([recalled, random], axis=1)                          # (U, n)
    p = 1 / (1 + np.exp(-np.take_along_axis(logit, chosen, axis=1)))
    return pd.DataFrame({"user_id": np.repeat(users, n), "item_id": items[chosen].ravel(),
                         "day": day, "hour": 0, "request_id": 0, "p_click": p.ravel(),
                         "click": (rng.random(p.shape) < p).astype(np.int8).ravel()})
