"""Online metrics computed from logs: CTR, interactions per user, DAU and LTk retention.

These are the numbers an A/B test (AB测试) reads. The note (Part 8) splits them into core
metrics that the platform must grow (retention LT7/LT30, DAU, time spent, total clicks and
impressions) and non-core ones that may drop if the core ones rise (CTR, interaction rates).

Log conventions (the simulator's and the Open Bandit sample's):

- ``impressions`` (曝光日志): one row per impression, columns ``user_id``, ``click`` (0/1) and
  one 0/1 column per interaction (``like``, ``collect``, ``share``, ``comment``).
- ``activity`` (活跃日志): one row per active (user, day), columns ``user_id``, ``day`` (int day
  index); duplicate rows are tolerated and counted once.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from course._checks import check_int
from course.metrics._validation import check_positive_int

__all__ = ["ctr", "interactions_per_user", "daily_active_users", "lt_retention"]


def _check_frame(frame, name: str, columns) -> pd.DataFrame:
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"{name} must be a pandas DataFrame, got {type(frame).__name__}")
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise ValueError(f"{name} is missing columns {missing}; it has {list(frame.columns)}")
    if len(frame) == 0:
        raise ValueError(f"{name} is empty")
    return frame


def _check_binary_columns(frame: pd.DataFrame, columns, name: str) -> None:
    values = frame[list(columns)].to_numpy()
    if values.dtype.kind not in "biuf" or not np.isin(values, (0, 1)).all():
        raise ValueError(f"{name} columns {list(columns)} must hold 0/1 labels")


def ctr(impressions: pd.DataFrame) -> float:
    """Click-through rate, CTR (点击率): clicks / impressions.

    Parameters
    ----------
    impressions : pandas.DataFrame of shape (n_impressions, ...)
        With a 0/1 ``click`` column.

    Returns
    -------
    float

    Examples
    --------
    >>> ctr(pd.DataFrame({"click": [1, 0, 0, 1, 0]}))
    0.4
    """
    _check_frame(impressions, "impressions", ["click"])
    _check_binary_columns(impressions, ["click"], "impressions")
    return float(impressions["click"].mean())


def interactions_per_user(impressions: pd.DataFrame, actions=("like", "collect", "share", "comment")) -> float:
    """Interactions per user (人均交互数): total interactions / number of distinct users.

        interactions per user = sum over impressions and actions of label / |distinct user_id|

    Every user with at least one impression counts in the denominator, including users who
    never interacted (otherwise a policy that drives light users away would look better).
    Pass ``actions=("like",)`` for likes per user, and so on.

    Parameters
    ----------
    impressions : pandas.DataFrame of shape (n_impressions, ...)
        With ``user_id`` and a 0/1 column per action.
    actions : tuple of str
        The interaction columns to add up.

    Returns
    -------
    float

    Examples
    --------
    >>> log = pd.DataFrame({"user_id": [1, 1, 2], "like": [1, 1, 0], "share": [0, 1, 0]})
    >>> interactions_per_user(log, actions=("like", "share"))  # 3 interactions, 2 users
    1.5
    """
    if isinstance(actions, str) or not all(isinstance(action, str) for action in actions):
        raise TypeError(f"actions must be a tuple of column names, got {actions!r}")
    if len(actions) == 0:
        raise ValueError("actions is empty")
    _check_frame(impressions, "impressions", ["user_id", *actions])
    _check_binary_columns(impressions, actions, "impressions")
    total = impressions[list(actions)].to_numpy().sum()
    return float(total / impressions["user_id"].nunique())


def _check_activity(activity) -> pd.DataFrame:
    _check_frame(activity, "activity", ["user_id", "day"])
    if not pd.api.types.is_integer_dtype(activity["day"]):
        raise TypeError(f"activity['day'] must hold integer day indices, got dtype {activity['day'].dtype}")
    return activity[["user_id", "day"]].drop_duplicates()


def daily_active_users(activity: pd.DataFrame) -> pd.Series:
    """Daily active users, DAU (日活跃用户数): distinct users active on each day.

    Parameters
    ----------
    activity : pandas.DataFrame of shape (n_rows, ...)
        Columns ``user_id`` and ``day`` (int), one row per active user-day.

    Returns
    -------
    pandas.Series
        Indexed by every day from the first to the last observed one (days nobody was active
        show 0), named ``"dau"``.

    Examples
    --------
    >>> activity = pd.DataFrame({"user_id": [1, 2, 1, 1], "day": [0, 0, 2, 2]})
    >>> daily_active_users(activity).tolist()
    [2, 0, 1]
    """
    active = _check_activity(activity)
    counts = active.groupby("day")["user_id"].size()
    days = pd.RangeIndex(counts.index.min(), counts.index.max() + 1, name="day")
    return counts.reindex(days, fill_value=0).rename("dau")


def lt_retention(activity: pd.DataFrame, start_day: int, horizon: int = 7) -> float:
    """LTk retention (LT留存), the note's LT7/LT30: mean active days in a k-day window.

    The note (Part 8, 留存率) defines it as: for a user who logged in on t0, if they logged in on
    n of the next 7 days (t0..t6), their LT7 = n, so 1 <= LT7 <= 7; the platform's LT7 is the
    mean over all users who logged in on t0, i.e. LT = (total active days in the window) /
    (number of users active on t0). This code does exactly that with ``k = horizon``: the
    window is ``start_day .. start_day + horizon - 1`` (t0 itself included, hence >= 1) and
    only users active on ``start_day`` are counted, in numerator and denominator.

    Unlike a classic day-k retention rate (the share of users back on day k), LTk counts every
    return, so it rises with how *often* users come back, which is why the note prefers it.

    Parameters
    ----------
    activity : pandas.DataFrame of shape (n_rows, ...)
        Columns ``user_id`` and ``day`` (int), one row per active user-day.
    start_day : int
        t0.
    horizon : int
        k, the window length (7 for LT7, 30 for LT30).

    Returns
    -------
    float
        In [1, horizon].

    Raises
    ------
    ValueError
        If the window runs past the last observed day (the later days are unknown, not
        inactive), or nobody was active on ``start_day``.

    Examples
    --------
    >>> activity = pd.DataFrame({"user_id": [1, 1, 1, 2, 3], "day": [0, 1, 2, 0, 1]})
    >>> lt_retention(activity, start_day=0, horizon=3)  # user 1: 3 days, user 2: 1; user 3 not in t0
    2.0
    """
    active = _check_activity(activity)
    horizon = check_positive_int(horizon, "horizon")
    start_day = check_int(start_day, "start_day")
    last_day = int(active["day"].max())
    window_end = start_day + horizon - 1
    if window_end > last_day:
        raise ValueError(
            f"the LT{horizon} window {start_day}..{window_end} runs past the last observed day {last_day}"
        )
    cohort = active.loc[active["day"] == start_day, "user_id"]
    if cohort.empty:
        raise ValueError(f"no user was active on start_day={start_day}")
    in_window = active["day"].between(start_day, window_end) & active["user_id"].isin(cohort)
    # Rows are distinct user-days, so the row count is the cohort's total active days.
    return float(in_window.sum() / len(cohort))
