"""The other recall channels (其他召回通道) of the note (Part 2, section 7), as pipeline channels.

Besides collaborative filtering and two towers, a feed runs a handful of cheap channels, each an
index built offline plus a lookup per request:

- **GeoHash recall** (地理位置召回): GeoHash (Niemeyer 2008) turns a position into a string
  whose prefixes are nested map cells, so "nearby" is "same prefix of length p". The index is
  prefix → notes, newest first; the lookup reads the user's own prefix. It is not
  personalised (every user of a cell gets the same list), which is why ranking must follow.
- **Same-city recall** (同城召回): the same with the city as the key.
- **Author recall** (作者召回) and **similar-author recall** (相似作者召回, U2A2A2I): user →
  followed or interacted authors (→ similar authors) → each author's newest notes; in
  :mod:`course.recall.channels.author`.
- **Cache recall** (缓存召回): :class:`~course.recall.channels.cache.CacheRecall`, in
  :mod:`course.recall.channels.cache`; the stage that fills it lives in :mod:`course.pipeline.merge`.

Every channel follows :mod:`course.pipeline`'s contract ``channel(user_ids, context) ->
(users, items)``: flat arrays, each user's candidates best first, only notes available on
``context.day``. "Newest first" breaks ties between notes of the same day by an optional
``item_scores`` (e.g. a smoothed CTR: 最新且最好), then by the smaller id, so lists are
deterministic. Indexes are sorted once in ``fit``; a request only masks out unavailable notes
(no sort), so a batch of users costs a few numpy gathers. That shared key → notes index is
:mod:`course.recall.channels.index`; this module holds the key-match channels (GeoHash,
same-city).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from course._checks import check_positive_int
from course.pipeline.candidates import RequestContext
from course.recall.channels.index import (KeyIndex, available_mask, check_fitted, check_user_ids,
                                         first_n_valid, newest_first_order)

__all__ = ["NewestByKeyRecall", "GeoHashRecall", "SameCityRecall"]


class NewestByKeyRecall:
    """Key-match recall: the notes sharing the user's key, newest (then best) first.

    ``candidates(u) = top_n { i available : key(i) = key(u) }`` ordered by
    (publish_day desc, item_scores desc, id asc). The base of GeoHash and same-city recall;
    any categorical key works (a city, a GeoHash prefix, a school...).

    Parameters
    ----------
    n : int, default 100
        Candidates per user.

    Attributes
    ----------
    user_codes_ : ndarray of shape (n_users,)      key code of each user (-1: no key)
    item_codes_ : ndarray of shape (n_items,)      key code of each note (-1: no key)
    keys_ : ndarray of shape (n_keys,)             the key of each code

    Examples
    --------
    >>> channel = NewestByKeyRecall(n=2).fit(["a", "b"], ["a", "b", "a", "a"], [1, 1, 3, 2])
    >>> channel([0, 1], RequestContext(day=3, available_items=np.arange(4)))
    (array([0, 0, 1]), array([2, 3, 1]))
    """

    def __init__(self, n: int = 100):
        self.n = n

    def fit(self, user_keys, item_keys, publish_day, item_scores=None):
        """Index the notes by key; ``user_keys`` (n_users,), ``item_keys`` (n_items,)."""
        check_positive_int(self.n, "n")
        user_keys, item_keys = np.asarray(user_keys, dtype=object), np.asarray(item_keys, dtype=object)
        if user_keys.ndim != 1 or item_keys.ndim != 1 or not len(user_keys) or not len(item_keys):
            raise ValueError("user_keys and item_keys must be non-empty 1-D arrays")
        if len(np.asarray(publish_day)) != len(item_keys):
            raise ValueError(f"publish_day has length {len(np.asarray(publish_day))}, "
                             f"item_keys {len(item_keys)}")
        # one vocabulary for both sides; missing keys (None / NaN) get code -1
        codes, self.keys_ = pd.factorize(np.concatenate([item_keys, user_keys]))
        self.item_codes_, self.user_codes_ = codes[: len(item_keys)], codes[len(item_keys):]
        self.n_users_, self.n_items_ = len(user_keys), len(item_keys)
        self._index = KeyIndex(self.item_codes_, newest_first_order(publish_day, item_scores),
                                len(self.keys_))
        return self

    def index_for(self, key) -> np.ndarray:
        """Every fitted note under ``key``, newest first (the offline index, for inspection)."""
        check_fitted(self)
        code = np.flatnonzero(np.asarray(self.keys_, dtype=object) == key)
        return self._index.sorted_items[self.item_codes_[self._index.sorted_items] == code[0]] \
            if len(code) else np.zeros(0, dtype=np.int64)

    def __call__(self, user_ids, context: RequestContext):
        check_fitted(self)
        users = check_user_ids(user_ids, self.n_users_)
        table = self._index.table(available_mask(context, self.n_items_), self.n)
        codes = self.user_codes_[users]
        items = np.where(codes[:, None] >= 0, table[np.maximum(codes, 0)], -1)  # (B, n)
        return first_n_valid(users, items, self.n)


def _geohash_prefixes(geohashes, precision: int) -> np.ndarray:
    hashes = np.asarray(geohashes, dtype=str)
    shortest = int(np.char.str_len(hashes).min())
    if precision > shortest:
        raise ValueError(f"precision {precision} is longer than the shortest geohash ({shortest})")
    return hashes.astype(f"<U{precision}")   # a shorter string dtype truncates: the prefix


class GeoHashRecall(NewestByKeyRecall):
    """GeoHash recall (地理位置召回): notes whose geohash shares the user's first ``precision``
    characters, newest first. A length-p cell is about 5000 km / 32^(p/2) wide (p = 4: ~39 km
    x 20 km; p = 5: ~4.9 km square). A user near a cell border misses notes just across it;
    production systems also read the 8 neighbouring cells.

    Parameters
    ----------
    precision : int, default 4       prefix length p
    n : int, default 100             candidates per user
    """

    def __init__(self, precision: int = 4, n: int = 100):
        self.precision = precision
        self.n = n

    def fit(self, users: pd.DataFrame, items: pd.DataFrame, item_scores=None):
        """``users`` and ``items`` with a ``geohash`` column (the world's tables)."""
        precision = check_positive_int(self.precision, "precision")
        return super().fit(_geohash_prefixes(users["geohash"], precision),
                           _geohash_prefixes(items["geohash"], precision),
                           items["publish_day"].to_numpy(), item_scores)


class SameCityRecall(NewestByKeyRecall):
    """Same-city recall (同城召回): notes of the user's city, newest first."""

    def fit(self, users: pd.DataFrame, items: pd.DataFrame, item_scores=None):
        """``users`` and ``items`` with a ``city`` column (the world's tables)."""
        return super().fit(users["city"].to_numpy(dtype=object), items["city"].to_numpy(dtype=object),
                           items["publish_day"].to_numpy(), item_scores)
