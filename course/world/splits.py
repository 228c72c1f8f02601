"""Train / validation / test splits of the logs: one place, so chapters never split ad hoc.

Recommenders are trained on the past and served on the future, so the default split is by
time (by day); ``leave_last_out`` holds out each user's last positive interactions, the
protocol of many recall papers.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

TIME_ORDER = ["day", "hour", "request_id", "position"]


def split_by_day(impressions: pd.DataFrame, test_days: int = 1, valid_days: int = 0):
    """Split logs by day: the last ``test_days`` for test, the ``valid_days`` before for validation.

    Returns
    -------
    (train, valid, test) : tuple of DataFrames (``valid`` is empty when ``valid_days == 0``)

    Examples
    --------
    >>> logs = pd.DataFrame({"day": [0, 0, 1, 2, 2], "click": [1, 0, 0, 1, 1]})
    >>> [len(part) for part in split_by_day(logs, test_days=1, valid_days=1)]
    [2, 1, 2]
    """
    if "day" not in impressions:
        raise ValueError("impressions must have a 'day' column")
    if test_days < 1 or valid_days < 0:
        raise ValueError("test_days must be >= 1 and valid_days >= 0")
    days = np.sort(impressions["day"].unique())
    if len(days) <= test_days + valid_days:
        raise ValueError(f"only {len(days)} days of logs: cannot hold out {test_days} test and "
                         f"{valid_days} validation days and still train on something")
    test_start = days[-test_days]
    valid_start = days[-(test_days + valid_days)]
    day = impressions["day"]
    return (impressions[day < valid_start], impressions[(day >= valid_start) & (day < test_start)],
            impressions[day >= test_start])


def leave_last_out(interactions: pd.DataFrame, n: int = 1, min_history: int = 1):
    """Hold out each user's last ``n`` interactions (by time); users with fewer than
    ``n + min_history`` interactions stay entirely in train.

    ``interactions`` needs ``user_id`` and the time columns present among
    ``day, hour, request_id, position``.

    Returns
    -------
    (train, test) : tuple of DataFrames
    """
    if n < 1 or min_history < 0:
        raise ValueError("n must be >= 1 and min_history >= 0")
    order = [c for c in TIME_ORDER if c in interactions]
    if "user_id" not in interactions or not order:
        raise ValueError("interactions need a user_id column and at least a 'day' column")
    ordered = interactions.sort_values(["user_id"] + order, kind="stable")
    rank_from_end = ordered.groupby("user_id").cumcount(ascending=False)
    size = ordered.groupby("user_id")["user_id"].transform("size")
    held_out = (rank_from_end < n) & (size >= n + min_history)
    return ordered[~held_out], ordered[held_out]
