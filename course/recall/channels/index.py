"""The index every non-CF recall channel shares: key → notes, newest first (按时间倒排).

GeoHash, same-city, author and similar-author recall (:mod:`course.recall.channels`,
:mod:`course.recall.channels.author`) all store, offline, one list of notes per key (a map
cell, a city, an author) sorted newest first, and at request time read the first few notes
of each key that are available on the request's day. This module holds that index
(:class:`KeyIndex`), the freshness order it is sorted by (:func:`newest_first_order`) and the
small request-time helpers the channels have in common (checking user ids and the context,
flattening padded rows into the ``(users, items)`` pairs of the channel contract).

It is separate so each channel module shows only what is particular to its channel.
"""
from __future__ import annotations

import numpy as np

from course._checks import check_is_fitted
from course.pipeline.candidates import RequestContext

__all__ = ["newest_first_order", "KeyIndex", "check_user_ids", "available_mask", "first_n_valid",
           "check_fitted"]


def newest_first_order(publish_day, item_scores=None) -> np.ndarray:
    """Item ids sorted newest first, then by ``item_scores`` descending, then by id.

    Parameters
    ----------
    publish_day : ndarray of shape (n_items,)
    item_scores : ndarray of shape (n_items,), optional

    Examples
    --------
    >>> newest_first_order([3, 5, 5, 1], item_scores=[0.0, 0.1, 0.9, 0.0]).tolist()
    [2, 1, 0, 3]
    """
    day = np.asarray(publish_day, dtype=float)
    scores = np.zeros_like(day) if item_scores is None else np.asarray(item_scores, dtype=float)
    if day.ndim != 1 or scores.shape != day.shape:
        raise ValueError(f"publish_day and item_scores must be 1-D of equal length, got "
                         f"{day.shape} and {scores.shape}")
    return np.lexsort((np.arange(len(day)), -scores, -day))


def check_user_ids(user_ids, n_users: int) -> np.ndarray:
    """``user_ids`` as a 1-D int64 array of ids in ``[0, n_users)`` (ValueError otherwise)."""
    users = np.asarray(user_ids)
    if users.ndim != 1 or (users.size and users.dtype.kind not in "iu"):
        raise ValueError(f"user_ids must be a 1-D array of ints, got shape {users.shape}")
    users = users.astype(np.int64)
    if users.size and (users.min() < 0 or users.max() >= n_users):
        raise ValueError(f"user ids must be in [0, {n_users})")
    return users


def available_mask(context: RequestContext, n_items: int) -> np.ndarray:
    """Bool (n_items,): fitted notes available on the request's day (newer ones are unknown)."""
    if not isinstance(context, RequestContext):
        raise TypeError(f"context must be a RequestContext, got {type(context).__name__}")
    available = np.asarray(context.available_items, dtype=np.int64)
    mask = np.zeros(n_items, dtype=bool)
    mask[available[(available >= 0) & (available < n_items)]] = True
    return mask


class KeyIndex:
    """Key → notes index: item ids sorted by key, and within a key newest first (built once).

    Parameters
    ----------
    item_keys : ndarray of int, shape (n_items,)     key code of each note (-1: none)
    order : ndarray of int, shape (n_items,)         note ids newest first (:func:`newest_first_order`)
    n_keys : int

    Examples
    --------
    >>> index = KeyIndex(np.array([0, 1, 0, 0]), newest_first_order([1, 1, 3, 2]), n_keys=2)
    >>> index.table(np.array([True, True, True, False]), per_key=2).tolist()
    [[2, 0], [1, -1]]
    """

    def __init__(self, item_keys: np.ndarray, order: np.ndarray, n_keys: int):
        self.item_keys, self.n_keys = item_keys, n_keys
        ranked = order[item_keys[order] >= 0]
        # a stable sort by key keeps the freshness order inside each key
        self.sorted_items = ranked[np.argsort(item_keys[ranked], kind="stable")]

    def table(self, available: np.ndarray, per_key: int) -> np.ndarray:
        """(n_keys, per_key) newest available notes of each key, padded with -1."""
        items = self.sorted_items[available[self.sorted_items]]   # still sorted: a mask, no sort
        keys = self.item_keys[items]
        rank = np.arange(len(items)) - np.searchsorted(keys, keys)  # position inside its key
        keep = rank < per_key
        table = np.full((self.n_keys, per_key), -1, dtype=np.int64)
        table[keys[keep], rank[keep]] = items[keep]
        return table


def first_n_valid(users: np.ndarray, items: np.ndarray, n: int):
    """Flatten (B, L) item rows padded with -1, keeping each row's first ``n`` real items.

    Returns the channel contract's ``(users, items)``: two flat arrays, row by row, in order.

    Examples
    --------
    >>> first_n_valid(np.array([4, 9]), np.array([[7, -1, 8, 6], [-1, -1, -1, -1]]), n=2)
    (array([4, 4]), array([7, 8]))
    """
    valid = items >= 0
    valid &= np.cumsum(valid, axis=1) <= n
    return np.broadcast_to(users[:, None], items.shape)[valid], items[valid]


def check_fitted(channel) -> None:
    """Raise :class:`~course._checks.NotFittedError` unless ``channel.fit(...)`` built its index."""
    check_is_fitted(channel, "_index")
