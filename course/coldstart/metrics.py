"""Cold-start metrics (冷启动的评价指标), read from the logs (Wang Shusen, Part 7, lecture 1).

Item cold start (物品冷启动) serves notes that have (almost) no interactions yet. Three sides
are measured, each over the days of an experiment:

- **author side** (作者侧): *publish penetration* (发布渗透率) = authors who published on a day
  / daily active authors (or users: the note divides by DAU, a platform where everyone may
  post); *posts per active* (人均发布量) = notes published / daily actives. Exposure motivates
  authors: a new note that is seen and liked makes its author post again.
- **user side** (用户侧): the click rate of new notes (新笔记的点击率), split into *high-exposure*
  notes (the ones the ranker likes anyway: they decide what users think of new content) and
  *low-exposure* ones (where cold start does its work and users may be hurt), and the overall
  consumption (大盘消费指标: clicks and time per active user, retention), which a cold-start
  policy must not degrade.
- **content side** (内容侧): the share of *high-heat* notes (高热笔记占比): notes that reach
  ``threshold`` clicks within ``window`` days of publication. A good cold start finds them.

The note's thresholds (1000 clicks in 30 days...) are for a platform with millions of users;
every threshold here is a parameter, so the world's small numbers can be used.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from course._checks import check_array, check_int, check_positive_int

__all__ = ["author_side_metrics", "new_note_click_rate", "consumption", "high_heat_share",
           "exposure_curves", "note_age"]


def _check_logs(logs: pd.DataFrame, columns, name: str = "logs") -> pd.DataFrame:
    if not isinstance(logs, pd.DataFrame):
        raise TypeError(f"{name} must be a pandas DataFrame, got {type(logs).__name__}")
    missing = [c for c in columns if c not in logs.columns]
    if missing:
        raise ValueError(f"{name} lacks the columns {missing}")
    return logs


def _check_publish_day(publish_day) -> np.ndarray:
    return check_array(publish_day, 1, "publish_day", "iu", allow_empty=False).astype(np.int64)


def note_age(logs: pd.DataFrame, publish_day) -> np.ndarray:
    """Age in days of the note of every impression: ``day - publish_day[item_id]``.

    Parameters
    ----------
    logs : DataFrame with columns day, item_id
    publish_day : array of shape (n_items,)   indexed by item id

    Examples
    --------
    >>> note_age(pd.DataFrame({"day": [3, 4], "item_id": [1, 0]}), np.array([0, 2])).tolist()
    [1, 4]
    """
    _check_logs(logs, ["day", "item_id"])
    publish_day = _check_publish_day(publish_day)
    items = logs["item_id"].to_numpy()
    if len(items) and (items.min() < 0 or items.max() >= len(publish_day)):
        raise ValueError(f"logs hold item ids outside [0, {len(publish_day)}): unknown notes")
    return logs["day"].to_numpy().astype(np.int64) - publish_day[items]


def author_side_metrics(items: pd.DataFrame, days, n_active) -> pd.DataFrame:
    """Publish penetration and posts per active, one row per day.

    ``penetration(t) = |{authors who published on day t}| / n_active(t)``,
    ``posts_per_active(t) = |{notes published on day t}| / n_active(t)``.

    Parameters
    ----------
    items : DataFrame with columns author_id, publish_day   (the world's ``items``)
    days : array-like of int                                  the days to report
    n_active : int or array-like of shape (len(days),)        daily active authors (or users)

    Returns
    -------
    DataFrame indexed by day: notes, publishers, active, penetration, posts_per_active

    Examples
    --------
    >>> items = pd.DataFrame({"author_id": [0, 0, 1, 2], "publish_day": [1, 1, 1, 2]})
    >>> author_side_metrics(items, [1, 2], n_active=4)[["penetration", "posts_per_active"]].values.tolist()
    [[0.5, 0.75], [0.25, 0.25]]
    """
    _check_logs(items, ["author_id", "publish_day"], "items")
    days = check_array(days, 1, "days", "iu", allow_empty=False).astype(np.int64)
    active = np.broadcast_to(np.asarray(n_active), days.shape) if np.ndim(n_active) == 0 \
        else check_array(n_active, 1, "n_active", "iuf")
    if active.shape != days.shape:
        raise ValueError(f"n_active must be a number or one per day ({len(days)}), got {active.shape}")
    if np.asarray(active).dtype.kind not in "iuf" or (np.asarray(active) <= 0).any():
        raise ValueError("n_active must be positive (the denominator of both rates)")
    published = items[items["publish_day"].isin(days)]
    grouped = published.groupby("publish_day")
    notes = grouped.size().reindex(days, fill_value=0).to_numpy()
    publishers = grouped["author_id"].nunique().reindex(days, fill_value=0).to_numpy()
    active = np.asarray(active, dtype=float)
    return pd.DataFrame({"notes": notes, "publishers": publishers, "active": active,
                         "penetration": publishers / active, "posts_per_active": notes / active},
                        index=pd.Index(days, name="day"))


def new_note_click_rate(logs: pd.DataFrame, publish_day, max_age: int, high_exposure: int) -> pd.DataFrame:
    """Click rate of new notes, split by exposure: high (>= ``high_exposure``) and low.

    A note's exposure and clicks are counted over its impressions at age ``0 .. max_age``; the
    rate of a group is its clicks over its impressions (impression-weighted, as a dashboard
    computes it), next to the mean of the per-note rates.

    Parameters
    ----------
    logs : DataFrame with columns day, item_id, click
    publish_day : array of shape (n_items,)
    max_age : int >= 0          a note is "new" up to this age in days
    high_exposure : int >= 1    impressions from which a new note counts as high-exposure

    Returns
    -------
    DataFrame indexed by ``["high exposure", "low exposure", "all new notes"]``:
    notes, impressions, clicks, click_rate, mean_note_click_rate

    Examples
    --------
    >>> logs = pd.DataFrame({"day": [0, 0, 0, 1], "item_id": [0, 0, 1, 1], "click": [1, 0, 1, 0]})
    >>> new_note_click_rate(logs, np.array([0, 0]), max_age=0, high_exposure=2)["click_rate"].tolist()
    [0.5, 1.0, 0.6666666666666666]
    """
    _check_logs(logs, ["day", "item_id", "click"])
    max_age = check_int(max_age, "max_age", minimum=0)
    high_exposure = check_positive_int(high_exposure, "high_exposure")
    age = note_age(logs, publish_day)
    young = (age >= 0) & (age <= max_age)
    items = logs["item_id"].to_numpy()[young]
    n_items = len(publish_day)
    shown = np.bincount(items, minlength=n_items)
    clicked = np.bincount(items, weights=logs["click"].to_numpy()[young], minlength=n_items)
    rows = {}
    for name, mask in [("high exposure", shown >= high_exposure),
                       ("low exposure", (shown > 0) & (shown < high_exposure)),
                       ("all new notes", shown > 0)]:
        impressions, clicks = shown[mask].sum(), clicked[mask].sum()
        rows[name] = {"notes": int(mask.sum()), "impressions": int(impressions), "clicks": int(clicks),
                      "click_rate": clicks / impressions if impressions else np.nan,
                      "mean_note_click_rate": (clicked[mask] / shown[mask]).mean() if mask.any() else np.nan}
    return pd.DataFrame(rows).T.astype({"notes": int, "impressions": int, "clicks": int})


def consumption(user_days: pd.DataFrame) -> pd.DataFrame:
    """Overall consumption (大盘消费) per day, from the environment's ``DayResult.users`` rows.

    Returns
    -------
    DataFrame indexed by day: active_users, clicks_per_active, impressions_per_active,
    watch_time_per_active, return_rate (share of the day's active users active the next day)
    """
    _check_logs(user_days, ["day", "active", "clicks", "impressions", "watch_time",
                            "active_next_day"], "user_days")
    active = user_days[user_days["active"].astype(bool)]
    grouped = active.groupby("day")
    return pd.DataFrame({"active_users": grouped.size(),
                         "clicks_per_active": grouped["clicks"].mean(),
                         "impressions_per_active": grouped["impressions"].mean(),
                         "watch_time_per_active": grouped["watch_time"].mean(),
                         "return_rate": grouped["active_next_day"].mean()})


def high_heat_share(logs: pd.DataFrame, publish_day, notes, window: int, threshold: int) -> float:
    """Share of ``notes`` with at least ``threshold`` clicks at ages ``0 .. window - 1``.

    Only meaningful for notes whose whole window is inside the logs; the caller picks them.

    Examples
    --------
    >>> logs = pd.DataFrame({"day": [0, 0, 1, 5], "item_id": [0, 0, 1, 1], "click": [1, 1, 1, 1]})
    >>> high_heat_share(logs, np.array([0, 0]), notes=[0, 1], window=2, threshold=2)
    0.5
    """
    _check_logs(logs, ["day", "item_id", "click"])
    window = check_positive_int(window, "window")
    threshold = check_positive_int(threshold, "threshold")
    notes = _check_notes(notes, len(publish_day))
    age = note_age(logs, publish_day)
    inside = (age >= 0) & (age < window)
    clicks = np.bincount(logs["item_id"].to_numpy()[inside],
                         weights=logs["click"].to_numpy()[inside], minlength=len(publish_day))
    return float((clicks[notes] >= threshold).mean())


def _check_notes(notes, n_items: int) -> np.ndarray:
    notes = check_array(notes, 1, "notes", "iu", allow_empty=False).astype(np.int64)
    if notes.min() < 0 or notes.max() >= n_items:
        raise ValueError(f"notes must be ids in [0, {n_items}): unknown note ids "
                         f"{notes[(notes < 0) | (notes >= n_items)][:5].tolist()}")
    return notes


def exposure_curves(logs: pd.DataFrame, publish_day, notes, n_ages: int, column: str = "click",
                    cumulative: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Impressions and ``column`` counts of each note by age in days: the exposure curve.

    Parameters
    ----------
    notes : array of shape (n_notes,)   note ids (rows of the result)
    n_ages : int >= 1                   ages 0 .. n_ages - 1 (columns)
    column : str                        a 0/1 label of the logs counted alongside (default click)
    cumulative : bool                   running totals over age (the curve) or per-age counts

    Returns
    -------
    impressions, counts : ndarrays of shape (n_notes, n_ages)

    Examples
    --------
    >>> logs = pd.DataFrame({"day": [2, 2, 3], "item_id": [0, 0, 0], "click": [1, 0, 0]})
    >>> shown, clicks = exposure_curves(logs, np.array([2]), [0], n_ages=3)
    >>> shown.tolist(), clicks.tolist()
    ([[2, 3, 3]], [[1, 1, 1]])
    """
    _check_logs(logs, ["day", "item_id", column])
    n_ages = check_positive_int(n_ages, "n_ages")
    notes = _check_notes(notes, len(publish_day))
    age = note_age(logs, publish_day)
    row = np.full(len(publish_day), -1)
    row[notes] = np.arange(len(notes))
    keep = (age >= 0) & (age < n_ages) & (row[logs["item_id"].to_numpy()] >= 0)
    cell = row[logs["item_id"].to_numpy()[keep]] * n_ages + age[keep]
    size = len(notes) * n_ages
    shown = np.bincount(cell, minlength=size).reshape(len(notes), n_ages)
    counts = np.bincount(cell, weights=logs[column].to_numpy()[keep],
                         minlength=size).reshape(len(notes), n_ages).astype(np.int64)
    if cumulative:
        shown, counts = shown.cumsum(axis=1), counts.cumsum(axis=1)
    return shown, counts

