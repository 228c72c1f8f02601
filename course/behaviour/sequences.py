"""Behaviour sequences (用户行为序列) from the logs: each impression's last N events before it.

The lectures' LastN feature is "the last n notes the user clicked (liked, collected)". Built
from logs, the one rule that matters is *strictly before*: an impression may only see events
that happened before it was served, never its own click (the label) nor anything later. Time
here is the world's ``(day, hour, request_id)``: ``request_id`` numbers a day's requests in the
order they were served, and the notes of one slate are shown together, so a click in the same
request is not "before" any of that slate's impressions.

The construction is one sort and one ``searchsorted``: with the events sorted by
``(user, time)``, the events of user u strictly before time t are the rows in
``[start(u), searchsorted((u, t), side="left"))``; the last N of them are the N rows just before
that boundary, read most recent first. Cost O((E + Q) log E + Q·N) for E events and Q queries.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from course._checks import check_positive_int

__all__ = ["Sequences", "last_n_events", "behaviour_sequences", "PAD"]

PAD = -1          # item id of an empty slot (the course's "missing" id); its mask is False
TIME_COLUMNS = ("day", "hour", "request_id")


@dataclass(frozen=True)
class Sequences:
    """Padded last-N histories, one row per query row, most recent event first.

    Attributes
    ----------
    items : ndarray of int64, shape (n_queries, n)
        Item ids of the events; ``PAD`` (-1) in empty slots.
    mask : ndarray of bool, shape (n_queries, n)
        True for a real event. Real events fill each row from the left.
    hours_ago : ndarray of float32, shape (n_queries, n)
        Time from the event to the query, in hours (``24·Δday + Δhour``, >= 0; 0 for an event
        in an earlier request of the same hour); 0 in empty slots.
    lengths : ndarray of int64, shape (n_queries,)
        Number of real events per row, ``mask.sum(axis=1)``.
    """

    items: np.ndarray
    mask: np.ndarray
    hours_ago: np.ndarray
    lengths: np.ndarray

    def __len__(self) -> int:
        return len(self.items)


def _check_frame(frame, name: str, columns) -> pd.DataFrame:
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"{name} must be a pandas DataFrame, got {type(frame).__name__}")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{name} must have columns {list(columns)}; missing {missing}")
    for c in columns:
        if not pd.api.types.is_integer_dtype(frame[c]):
            raise TypeError(f"{name}[{c!r}] must hold integers, got dtype {frame[c].dtype}")
    return frame


def _time_key(frame: pd.DataFrame, n_requests: int) -> np.ndarray:
    """One int64 per row that orders rows as (day, hour, request_id) do."""
    day = frame["day"].to_numpy(np.int64)
    hour = frame["hour"].to_numpy(np.int64)
    request = frame["request_id"].to_numpy(np.int64)
    return (day * 24 + hour) * n_requests + request


def last_n_events(events: pd.DataFrame, queries: pd.DataFrame, n: int) -> Sequences:
    """The last ``n`` events of each query's user strictly before the query's request.

    Parameters
    ----------
    events : DataFrame with integer columns user_id, item_id, day, hour, request_id
        The behaviour log, e.g. the clicked rows of ``world.impressions``. Events at the same
        time (one slate) keep their order in this frame, the later row counting as more recent
        (the world logs a slate by position).
    queries : DataFrame with integer columns user_id, day, hour, request_id
        The rows that need a history, e.g. impressions to score.
    n : int
        N, the history length (>= 1).

    Returns
    -------
    Sequences
        Arrays of shape (len(queries), n), row r for ``queries.iloc[r]``, most recent first.

    Examples
    --------
    >>> ev = pd.DataFrame({"user_id": [0, 0, 0], "item_id": [5, 6, 7], "day": [0, 0, 1],
    ...                    "hour": [9, 9, 8], "request_id": [0, 1, 0]})
    >>> q = pd.DataFrame({"user_id": [0, 0], "day": [0, 1], "hour": [9, 9], "request_id": [1, 3]})
    >>> s = last_n_events(ev, q, n=2)
    >>> s.items.tolist(), s.mask.tolist(), s.hours_ago.tolist()
    ([[5, -1], [7, 6]], [[True, False], [True, True]], [[0.0, 0.0], [1.0, 24.0]])
    """
    n = check_positive_int(n, "n")
    _check_frame(events, "events", ("user_id", "item_id") + TIME_COLUMNS)
    _check_frame(queries, "queries", ("user_id",) + TIME_COLUMNS)
    for name, frame in (("events", events), ("queries", queries)):
        if len(frame) and (frame["day"].min() < 0 or frame["hour"].min() < 0 or frame["hour"].max() > 23
                           or frame["request_id"].min() < 0 or frame["user_id"].min() < 0):
            raise ValueError(f"{name} must have hour in 0..23 and non-negative day, request_id, user_id")
    n_requests = 1 + int(max(events["request_id"].max() if len(events) else 0,
                             queries["request_id"].max() if len(queries) else 0))
    max_day = int(max(events["day"].max() if len(events) else 0,
                      queries["day"].max() if len(queries) else 0))
    n_times = (max_day + 1) * 24 * n_requests            # > every time key: keys of users never mix
    event_time = _time_key(events, n_requests)
    query_time = _time_key(queries, n_requests)
    event_key = events["user_id"].to_numpy(np.int64) * n_times + event_time     # (E,)
    order = np.argsort(event_key, kind="stable")
    event_key = event_key[order]
    item = events["item_id"].to_numpy(np.int64)[order]
    event_hour = (events["day"].to_numpy(np.int64) * 24 + events["hour"].to_numpy(np.int64))[order]

    user = queries["user_id"].to_numpy(np.int64)
    # side="left": an event at the query's own (day, hour, request) is not strictly before it
    end = np.searchsorted(event_key, user * n_times + query_time, side="left")  # (Q,)
    start = np.searchsorted(event_key, user * n_times, side="left")              # (Q,)
    lengths = np.minimum(end - start, n)
    slot = np.arange(n)
    mask = slot[None, :] < lengths[:, None]                                       # (Q, n)
    rows = np.where(mask, end[:, None] - 1 - slot[None, :], 0)                     # (Q, n)
    items = np.where(mask, item[rows] if len(item) else PAD, PAD).astype(np.int64)
    query_hour = queries["day"].to_numpy(np.int64) * 24 + queries["hour"].to_numpy(np.int64)
    hours_ago = np.where(mask, query_hour[:, None] - (event_hour[rows] if len(item) else 0), 0)
    return Sequences(items=items, mask=mask, hours_ago=hours_ago.astype(np.float32),
                     lengths=lengths.astype(np.int64))


def behaviour_sequences(impressions: pd.DataFrame, queries: pd.DataFrame, n: int,
                        actions=("click", "like", "collect")) -> dict[str, Sequences]:
    """One :class:`Sequences` per behaviour type: the last ``n`` clicks, likes, collects.

    Parameters
    ----------
    impressions : DataFrame
        The log (``world.impressions`` or a part of it), with the time columns, user_id,
        item_id and a 0/1 column per action.
    queries : DataFrame with user_id, day, hour, request_id
        Rows that need histories (they may be rows of ``impressions``: their own outcomes are
        never seen, being at the same time as themselves).
    n : int
        N per behaviour type.
    actions : sequence of str
        Action columns; an event of type a is a row with ``impressions[a] == 1``.

    Returns
    -------
    dict str -> Sequences
    """
    if isinstance(actions, str) or not len(actions):
        raise ValueError(f"actions must be a non-empty sequence of column names, got {actions!r}")
    out = {}
    for action in actions:
        if action not in getattr(impressions, "columns", ()):
            raise ValueError(f"impressions has no action column {action!r}")
        events = impressions[impressions[action].to_numpy() == 1]
        out[action] = last_n_events(events, queries, n)
    return out
