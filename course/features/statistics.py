"""Windowed counts and smoothed rates: the statistics features (统计特征) of users and items.

A ranking model reads, beside the ids and profiles, how each user and each note behaved
recently: "the note's click rate over the last 7 days", "how many notes the user clicked
yesterday". Wang Shusen's lectures (工业界的推荐系统, ranking, "features of the ranking
model") list them per window (1, 3, 7, 30 days, …) for the user, the item, and the user's
interest in the item's category.

The rule that makes them honest: a row on day d sees only days ``d - w … d - 1``, never day d
itself (its own label would leak in) nor any later day. :func:`window_sums` computes every
window at once from one cumulative table ``C[t] = Σ_{day < t} x`` of shape
(n_days + 1, n_keys)::

    S_w(key, d) = C[d, key] - C[max(d - w, 0), key]

which is two lookups per row whatever the window, and by construction reads days < d only.
"""
from __future__ import annotations

import numpy as np

from course._checks import check_array, check_int, check_real

__all__ = ["window_sums", "smoothed_rate"]


def window_sums(history_days, history_keys, values, query_days, query_keys, *, n_keys: int,
                windows) -> np.ndarray:
    """Sums of ``values`` over the rows of each key in the ``w`` days before each query day.

    Parameters
    ----------
    history_days, history_keys : int arrays of shape (n_history,)
        Day (>= 0) and key (``0..n_keys-1``: a user, a note, a user × category cell) of each
        logged row.
    values : array of shape (n_history, n_values)
        What to sum (ones for impressions, the click column for clicks, …).
    query_days, query_keys : int arrays of shape (n_queries,)
        The day d and key of each row whose features are wanted; ``d`` may be at most one past
        the last history day (the next day to be served).
    n_keys : int
        Number of keys (sizes are given, never guessed from the data).
    windows : sequence of int
        Window lengths in days, each >= 1.

    Returns
    -------
    ndarray of float64, shape (n_queries, len(windows), n_values)
        ``out[r, j, v] = Σ values[i, v]`` over history rows i with ``key_i = query_keys[r]`` and
        ``query_days[r] - windows[j] <= day_i < query_days[r]``.

    Examples
    --------
    >>> days, keys = np.array([0, 1, 1, 2]), np.array([0, 0, 1, 0])
    >>> window_sums(days, keys, np.ones((4, 1)), np.array([2, 3]), np.array([0, 0]),
    ...             n_keys=2, windows=(1, 3))[:, :, 0]   # day 2 sees days 1 / 0-1; day 3 sees 2 / 0-2
    array([[1., 2.],
           [1., 3.]])
    """
    history_days = check_array(history_days, 1, "history_days", "iu")
    history_keys = check_array(history_keys, 1, "history_keys", "iu")
    values = check_array(values, 2, "values", "biuf")
    query_days = check_array(query_days, 1, "query_days", "iu")
    query_keys = check_array(query_keys, 1, "query_keys", "iu")
    n_keys = check_int(n_keys, "n_keys", minimum=1)
    windows = tuple(check_int(w, "windows", minimum=1) for w in windows)
    if not (len(history_days) == len(history_keys) == len(values)):
        raise ValueError(f"history_days, history_keys and values must have one row each per logged "
                         f"row, got {len(history_days)}, {len(history_keys)}, {len(values)}")
    if len(query_days) != len(query_keys):
        raise ValueError(f"query_days and query_keys must have the same length, got "
                         f"{len(query_days)} and {len(query_keys)}")
    for name, keys in (("history_keys", history_keys), ("query_keys", query_keys)):
        if keys.size and (keys.min() < 0 or keys.max() >= n_keys):
            raise ValueError(f"{name} must lie in [0, {n_keys}), got min {keys.min()}, max {keys.max()}")
    if history_days.size and history_days.min() < 0:
        raise ValueError(f"history_days must be >= 0, got min {history_days.min()}")
    n_days = int(history_days.max()) + 1 if history_days.size else 0
    if query_days.size and (query_days.min() < 0 or query_days.max() > n_days):
        raise ValueError(f"query days must lie in [0, {n_days}] (at most the day after the last "
                         f"logged day), got min {query_days.min()}, max {query_days.max()}")
    n_values = values.shape[1]
    # daily[t, key, v] summed by one bincount over the flat (day, key, v) index
    flat = (history_days.astype(np.int64) * n_keys + history_keys)[:, None] * n_values \
        + np.arange(n_values)
    daily = np.bincount(flat.ravel(), weights=values.astype(np.float64).ravel(),
                        minlength=n_days * n_keys * n_values).reshape(n_days, n_keys, n_values)
    cumulative = np.zeros((n_days + 1, n_keys, n_values))          # C[t] = Σ_{day < t}
    np.cumsum(daily, axis=0, out=cumulative[1:])
    out = np.empty((len(query_days), len(windows), n_values))
    upper = cumulative[query_days, query_keys]                                  # (Q, V)
    for j, window in enumerate(windows):  # a loop over the few windows, not over rows
        start = np.maximum(query_days - window, 0)
        out[:, j] = upper - cumulative[start, query_keys]
    return out


def smoothed_rate(successes, trials, prior: float, strength: float):
    """The Bayesian-average rate ``(successes + m·p₀) / (trials + m)``.

    A note shown twice and clicked once does not have a 50 % click rate: with a Beta prior of
    mean ``p₀`` worth ``m`` pseudo-trials the rate shrinks towards the global rate when there
    is little evidence and tends to ``successes / trials`` when there is a lot; with no trials
    it is ``p₀`` itself (the missing value of a rate). The note's "smoothing" of CTR features.

    Parameters
    ----------
    successes, trials : arrays of the same shape
        Counts (clicks and impressions, likes and clicks, …), ``0 <= successes <= trials``.
    prior : float
        ``p₀`` in [0, 1], usually the rate over the training rows.
    strength : float
        ``m >= 0`` pseudo-trials (0: the raw rate, undefined without trials).

    Returns
    -------
    ndarray of float64, the shape of the inputs

    Examples
    --------
    >>> smoothed_rate(np.array([1, 0, 50]), np.array([2, 0, 100]), prior=0.1, strength=10)
    array([0.16666667, 0.1       , 0.46363636])
    """
    successes = np.asarray(successes, dtype=np.float64)
    trials = np.asarray(trials, dtype=np.float64)
    check_real(prior, "prior", low=0, high=1)
    check_real(strength, "strength", low=0)
    if successes.shape != trials.shape:
        raise ValueError(f"successes and trials must have the same shape, got {successes.shape} "
                         f"and {trials.shape}")
    if (successes.min(initial=0) < 0) or not (successes <= trials).all():
        raise ValueError("counts must satisfy 0 <= successes <= trials")
    if strength == 0 and np.any(trials == 0):
        raise ValueError("strength 0 (the raw rate) needs trials > 0 everywhere")
    return (successes + strength * prior) / (trials + strength)
