"""Cache recall (缓存召回): reuse items that ranking liked but the user was never shown.

Each request ranks a few thousand candidates, but after reranking and diversity sampling only
a handful are shown. The rest of the top of the ranked list is still good material, so it
goes into a small per-user cache that later requests use as one more recall channel. The
cache has a fixed size, so it needs exit rules (退场机制), all four from the note:

1. **shown**: an item exposed to the user leaves at once (``remove_exposed``);
2. **full**: when the cache is at capacity, the item that entered first leaves (FIFO);
3. **recalled too often**: after ``max_recalls`` recalls without being shown, ranking has
   had its chances and the item leaves, or it would cycle back into the cache forever. The
   cache remembers such an item (it is *retired* for that user) and refuses to take it back,
   whichever channel brings it to ranking again: without that memory, ItemCF or a popularity
   channel recalling the same note tomorrow would put it back with a fresh recall count, and
   the exit would mean nothing. The memory lasts as long as the entry could have stayed (until
   ``day - day_added > max_age_days``, the age exit below), so it is bounded like the cache
   itself; an exposure also ends it (the note was shown, the exposure filter takes over);
4. **too old**: an item whose age ``day - day_added`` exceeds ``max_age_days`` leaves, since
   the ranking score that put it there reflects interests that may have moved.

``recall`` returns the newest items first: they come from the most recent ranking, the
closest to the user's current interests; the oldest ones will leave by FIFO or age anyway.

This is a data-structure lesson, so plain per-user ``OrderedDict``s (insertion order = FIFO
order) are used: each user's cache is small and each operation touches one user.
:class:`CacheRecall` reads the cache as a recall channel.
"""
from __future__ import annotations

from collections import Counter, OrderedDict

import numpy as np

from course._checks import check_positive_int
from course.pipeline.candidates import RequestContext
from course.recall.channels.index import check_user_ids


def _check_int(name: str, value, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}")
    return int(value)


def _as_item_list(item_ids) -> list[int]:
    items = np.asarray(item_ids)
    if items.ndim != 1:
        raise ValueError(f"item_ids must be 1-D, got shape {items.shape}")
    if items.size and items.dtype.kind not in "iu":
        raise TypeError(f"item_ids must be integers, got dtype {items.dtype}")
    return [int(item) for item in items]


class RecallCache:
    """Per-user cache of ranked-but-unshown items, with the four exit rules.

    Parameters
    ----------
    capacity : int
        Items kept per user, ``>= 1``.
    max_recalls : int
        An item leaves once it has been recalled this many times, ``>= 1``.
    max_age_days : int
        An item leaves once ``day - day_added > max_age_days``, ``>= 0``.

    Attributes
    ----------
    exits_ : collections.Counter
        How many items left by each rule: ``"exposed"``, ``"evicted"``, ``"recalled_out"``,
        ``"aged_out"``.
    refused_ : int
        How many times :meth:`add` refused a retired item (one that was recalled out).

    Examples
    --------
    >>> cache = RecallCache(capacity=3, max_recalls=2, max_age_days=7)
    >>> cache.add(user_id=1, item_ids=[10, 11, 12, 13], day=0)   # 10 is evicted (FIFO)
    >>> cache.items(1)
    [11, 12, 13]
    >>> cache.remove_exposed(1, [12])
    1
    >>> cache.recall(1, n=5, day=1), cache.recall(1, n=1, day=1), cache.recall(1, n=5, day=1)
    ([13, 11], [13], [11])
    >>> dict(cache.exits_)
    {'evicted': 1, 'exposed': 1, 'recalled_out': 2}
    >>> cache.add(1, [13, 14], day=2)   # 13 used up its recalls: it does not come back
    >>> cache.items(1), cache.retired_items(1), cache.refused_
    ([14], [13, 11], 1)
    """

    def __init__(self, capacity: int = 200, max_recalls: int = 3, max_age_days: int = 7):
        self.capacity = _check_int("capacity", capacity, 1)
        self.max_recalls = _check_int("max_recalls", max_recalls, 1)
        self.max_age_days = _check_int("max_age_days", max_age_days, 0)
        # user -> OrderedDict(item -> [day_added, n_recalls]), oldest entry first.
        self._caches: dict[int, OrderedDict] = {}
        # user -> {item: day_added} of the items recalled out, refused until they would have aged.
        self._retired: dict[int, dict[int, int]] = {}
        self.refused_ = 0
        self._latest_day: int | None = None
        self.exits_: Counter = Counter()

    def _check_day(self, day) -> int:
        if isinstance(day, bool) or not isinstance(day, (int, np.integer)):
            raise TypeError(f"day must be an int, got {type(day).__name__}")
        if self._latest_day is not None and day < self._latest_day:
            raise ValueError(f"day must not go backwards: got {day} after {self._latest_day}")
        self._latest_day = int(day)
        return int(day)

    def _drop_aged(self, cache: OrderedDict, day: int) -> None:
        # Entries are in insertion order, so the aged ones are a prefix: stop at the first fresh one.
        while cache:
            item, (day_added, _) = next(iter(cache.items()))
            if day - day_added <= self.max_age_days:
                break
            del cache[item]
            self.exits_["aged_out"] += 1

    def _drop_aged_retired(self, user_id: int, day: int) -> dict:
        """The user's retired items, after forgetting those that would have aged out by now."""
        retired = self._retired.get(user_id, {})
        for item in [item for item, day_added in retired.items() if day - day_added > self.max_age_days]:
            del retired[item]
        return retired

    def add(self, user_id: int, item_ids, day: int) -> None:
        """Cache items ranked highly but not shown, in the given order (FIFO over the sequence).

        An item already in the cache keeps its place, age and recall count, and an item that
        was recalled out is refused until it would have aged out (or is shown): re-ranking it,
        through whichever channel, must not reset the exits that stop it from cycling forever.

        Parameters
        ----------
        user_id : int
        item_ids : sequence of int, shape (n_items,)
        day : int
            Non-decreasing across calls.
        """
        day = self._check_day(day)
        items = _as_item_list(item_ids)
        cache = self._caches.setdefault(user_id, OrderedDict())
        self._drop_aged(cache, day)
        retired = self._drop_aged_retired(user_id, day)
        for item in items:
            if item in retired:
                self.refused_ += 1
                continue
            if item in cache:
                continue
            if len(cache) == self.capacity:
                cache.popitem(last=False)  # first in, first out
                self.exits_["evicted"] += 1
            cache[item] = [day, 0]

    def recall(self, user_id: int, n: int, day: int) -> list[int]:
        """Up to ``n`` cached items for ``user_id``, newest first; counts one recall each.

        Items older than ``max_age_days`` are dropped first; an item reaching ``max_recalls``
        is returned this last time, then dropped and retired (see :meth:`add`). An unknown user
        gets ``[]``.
        """
        day = self._check_day(day)
        n = _check_int("n", n, 1)
        cache = self._caches.get(user_id)
        if not cache:
            return []
        self._drop_aged(cache, day)
        chosen = list(reversed(cache))[:n]
        for item in chosen:
            cache[item][1] += 1
            if cache[item][1] >= self.max_recalls:
                self._retired.setdefault(user_id, {})[item] = cache.pop(item)[0]  # its day_added
                self.exits_["recalled_out"] += 1
        return chosen

    def remove_exposed(self, user_id: int, item_ids) -> int:
        """Drop items just shown to the user; returns how many were in the cache.

        Exposures from other channels are common, so ids not in the cache are ignored. A shown
        item is no longer retired: from now on the exposure filter keeps it out of the feed.
        """
        cache = self._caches.get(user_id, {})
        retired = self._retired.get(user_id, {})
        removed = 0
        for item in _as_item_list(item_ids):
            retired.pop(item, None)
            if cache.pop(item, None) is not None:
                removed += 1
        self.exits_["exposed"] += removed
        return removed

    def items(self, user_id: int) -> list[int]:
        """The user's cached items, oldest first (the FIFO order)."""
        return list(self._caches.get(user_id, ()))

    def retired_items(self, user_id: int) -> list[int]:
        """Items of the user that were recalled out and may not re-enter, in retirement order.

        Forgotten lazily: those past ``max_age_days`` go at the user's next :meth:`add`.
        """
        return list(self._retired.get(user_id, ()))

    def __len__(self) -> int:
        """Total cached items over all users."""
        return sum(len(cache) for cache in self._caches.values())


class CacheRecall:
    """Cache recall (缓存召回): the user's cached ranked-but-unshown notes, newest first.

    A thin channel over :class:`~course.recall.channels.cache.RecallCache`; each call counts one recall
    per returned note (the cache's "recalled too often" exit). Notes no longer available are
    dropped from the output. Filled by :class:`course.pipeline.merge.CacheUnshownStage`.

    Parameters
    ----------
    cache : RecallCache
    n : int, default 50
    """

    def __init__(self, cache: RecallCache, n: int = 50):
        if not isinstance(cache, RecallCache):
            raise TypeError(f"cache must be a RecallCache, got {type(cache).__name__}")
        self.cache = cache
        self.n = check_positive_int(n, "n")

    def __call__(self, user_ids, context: RequestContext):
        users = check_user_ids(user_ids, np.iinfo(np.int64).max)
        if not isinstance(context, RequestContext):
            raise TypeError(f"context must be a RequestContext, got {type(context).__name__}")
        # a loop over the batch's users: the cache is a per-user structure (an OrderedDict each)
        lists = [self.cache.recall(int(user), self.n, day=context.day) for user in users]
        out_users = np.repeat(users, [len(items) for items in lists])
        out_items = np.fromiter((i for items in lists for i in items), dtype=np.int64,
                                count=len(out_users))
        keep = np.isin(out_items, np.asarray(context.available_items))
        return out_users[keep], out_items[keep]
