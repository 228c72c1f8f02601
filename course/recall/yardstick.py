"""One yardstick for recall (召回评估): every channel on the same users, day, K and truths.

Chapter 2's notebooks each measured recall their own way (02a day 7, 02b day 8 and 400
users, 02c 200 retrieved, 02d 300 users and 100 per channel), so their numbers cannot be set
side by side; 02a's "recall@k vs oracle" compares a top-k with a true top-k that grows with k,
an overlap |L ∩ true top-k| / k rather than a recall. :class:`RecallYardstick` fixes it all
once: the day the lists are served (models train on the logs of days strictly before it), a
seeded user sample, the servable notes, and two truths per user:

- the oracle's true top-T (T = ``truth_size``, fixed: it does not grow with k) among the
  servable notes the user has not clicked before -- unbiased, but only a simulator has it;
- the notes the user actually clicked on ``day`` and had not clicked before (the "next-day
  clicks" of a model trained on days < ``day``) -- what a real team has, biased towards what
  the logging policy chose to show (a note never shown cannot be clicked).

A channel is any callable ``recommend(user_ids, k) -> (n_users, k)`` int array, best first,
-1 padded; the module imports no recall model, so it works for all of them. Row u of
``yardstick.exclude`` (csr) is what user ``user_ids[u]`` may not get, e.g.
``lambda users, k: model.recommend(users, k=k, exclude=ys.exclude)``.

>>> from course import world
>>> ys = RecallYardstick.from_world(world.load("small"), day=7)        # doctest: +SKIP
>>> compare(ys, {"ItemCF": lambda users, k: ...}, k=50)               # doctest: +SKIP
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse

from course._checks import check_int, check_nonnegative_int, check_positive_int, check_world
from course.metrics import (catalogue_coverage, hit_matrix, hit_rate_at_k, intra_list_diversity,
                            recall_at_k)
from course.seed import as_generator

__all__ = ["RecallYardstick", "compare", "merge_with_quotas", "channel_lists", "BASELINES"]

BASELINES = ("popularity", "random", "oracle")
HEAD_SHARE = 0.2      # the popular head: the top 20 % of servable notes by clicks before the day


@dataclass(frozen=True, eq=False)
class RecallYardstick:
    """The fixed evaluation setting; build it with :meth:`from_world`.

    U sampled users, I notes in the world, S servable notes, T = truth_size.

    Attributes
    ----------
    day, truth_size, seed : int
    user_ids : ndarray (U,), sorted; row u of every per-user array is user ``user_ids[u]``
    servable : ndarray (S,), sorted ids of the notes that may be served on ``day``
    history : csr (n_world_users, I), click counts on days < ``day`` (a channel's training clicks)
    exclude : csr (U, I) bool, pairs no list should hold: clicked before ``day`` or not servable
    truth : ndarray (U, T), true top-T by P(click) among the non-excluded notes, best first
    clicks : csr (U, I) bool or None, clicks on ``day`` of notes not clicked before; None when
        ``day`` is past the logs
    served_p : ndarray (U, I), true P(click) at the top of a slate on ``day`` (hour averaged),
        0 for notes not servable that day (a slot that cannot be served earns nothing)
    popularity : ndarray (I,), clicks on days < ``day``; head : ndarray (I,) bool, popular head
    category : ndarray (I,), category id of every note
    """

    day: int
    truth_size: int
    seed: int
    user_ids: np.ndarray
    servable: np.ndarray
    history: sparse.csr_matrix
    exclude: sparse.csr_matrix
    truth: np.ndarray
    clicks: sparse.csr_matrix | None
    served_p: np.ndarray
    popularity: np.ndarray
    head: np.ndarray
    category: np.ndarray

    @classmethod
    def from_world(cls, world, day: int, n_users: int | None = 400, truth_size: int = 50,
                   seed: int = 0) -> "RecallYardstick":
        """Sample users and compute both truths for lists served on ``day``.

        Parameters
        ----------
        world : course.world.World
        day : int
            1 .. n_days: a logged day (both truths) or n_days, the day after the logs (oracle
            truth only). Day 0 has no logs before it to train on.
        n_users : int or None
            Users drawn without replacement (``seed``) from those with an impression on
            ``day`` (they opened the app, so their clicks that day are observed; a user
            absent that day would count as "clicked nothing"), or from all users when
            ``day`` is past the logs. None: the whole population.
        truth_size : int
            T, the size of the oracle truth. recall vs oracle@k is at most min(k, T) / T.
        seed : int
            Seeds the user sample and the ``random`` baseline.
        """
        check_world(world)
        day = check_int(day, "day")
        n_days = world.config.n_days
        if not 1 <= day <= n_days:
            raise ValueError(f"day must lie in [1, {n_days}] (1 .. the day after the logs), got {day}")
        day, truth_size = int(day), check_positive_int(truth_size, "truth_size")
        logs, n_items = world.impressions, len(world.items)
        n_world_users = len(world.users)
        before = logs[(logs["day"] < day) & (logs["click"] == 1)]
        history = sparse.csr_matrix((np.ones(len(before)), (before["user_id"], before["item_id"])),
                                    shape=(n_world_users, n_items))                # summed
        age = day - world.items["publish_day"].to_numpy()
        servable_mask = (age >= 0) & (age <= world.config.max_item_age_days)      # Environment's rule
        servable = np.flatnonzero(servable_mask)

        population = (np.unique(logs.loc[logs["day"] == day, "user_id"]) if day < n_days
                      else np.arange(n_world_users))
        if n_users is None:
            user_ids = population
        else:
            n_users = check_positive_int(n_users, "n_users")
            if n_users > len(population):
                raise ValueError(f"n_users={n_users} exceeds the {len(population)} users "
                                 f"available on day {day}")
            user_ids = np.sort(as_generator(seed, "seed").choice(population, n_users, replace=False))

        unservable = sparse.csr_matrix(~servable_mask[None, :])[np.zeros(len(user_ids), dtype=int)]
        exclude = sparse.csr_matrix((history[user_ids] > 0) + unservable)         # (U, I) bool
        p = world.oracle.click_probability_matrix(user_ids, day=day)              # (U, I)
        served_p = np.where(servable_mask[None, :], p, 0.0)
        truth = _top_allowed(p, exclude, truth_size)

        clicks = None
        if day < n_days:
            today = logs[(logs["day"] == day) & (logs["click"] == 1)]
            row = pd.Index(user_ids).get_indexer(today["user_id"])             # -1: not sampled
            ok = row >= 0
            clicks = sparse.csr_matrix((np.ones(ok.sum(), dtype=bool),
                                        (row[ok], today["item_id"].to_numpy()[ok])),
                                       shape=(len(user_ids), n_items))
            # a re-click of a note clicked before is not something recall had to find
            clicks = sparse.csr_matrix(clicks - clicks.multiply(history[user_ids] > 0))
            clicks.eliminate_zeros()
        popularity = np.asarray(history.sum(axis=0)).ravel()
        by_clicks = servable[np.argsort(-popularity[servable], kind="stable")]   # ties: lower id
        head = np.zeros(n_items, dtype=bool)
        head[by_clicks[:int(np.ceil(HEAD_SHARE * len(servable)))]] = True
        category = world.items["category_id"].to_numpy()
        for array in (user_ids, servable, truth, served_p, popularity, head, category):
            array.setflags(write=False)                  # frozen means frozen: no silent edits
        return cls(day, truth_size, int(seed), user_ids, servable, history, exclude, truth, clicks,
                   served_p, popularity, head, category)

    # ---------------------------------------------------------------- baselines
    def popularity_baseline(self, user_ids, k: int) -> np.ndarray:
        """The k servable notes most clicked before ``day``, minus each user's own clicks.

        Needs no user history (it serves new users too) and, notes of quality being clicked
        more by everyone, its notes have a far higher true P(click) than random ones; one
        list for all, so coverage is tiny and head share is 1.
        """
        scores = np.broadcast_to(self.popularity.astype(float), self.served_p.shape)
        return _top_allowed(scores, self._rows(user_ids, "exclude"), k)

    def random_baseline(self, user_ids, k: int, seed: int | None = None) -> np.ndarray:
        """k distinct allowed notes drawn uniformly per user (``seed``, default the yardstick's).

        The floor of accuracy (recall vs oracle ~ k / allowed notes) and the ceiling of
        coverage and category diversity: no channel should score below it on accuracy.
        """
        noise = as_generator(self.seed if seed is None else seed, "seed").random(self.served_p.shape)
        return _top_allowed(noise, self._rows(user_ids, "exclude"), k)

    def oracle_baseline(self, user_ids, k: int) -> np.ndarray:
        """The true top-k by P(click) among allowed notes.

        The ceiling of recall vs oracle (1 when k >= T) and of mean true P; not of recall vs
        clicks (the logs only hold what the logging policy showed), and its diversity is low
        (a user's true top sits in a few interests).
        """
        return _top_allowed(self._rows(user_ids, "served_p"), self._rows(user_ids, "exclude"), k)

    def _rows(self, user_ids, name):
        # baselines are called by score() with self.user_ids; other ids are a caller's mistake
        if not np.array_equal(np.asarray(user_ids), self.user_ids):
            raise ValueError("baselines serve the yardstick's own users (yardstick.user_ids)")
        return getattr(self, name)

    # ---------------------------------------------------------------- scoring
    def score(self, recommend, k: int) -> dict:
        """Call ``recommend(self.user_ids, k)`` and score its lists; returns one row (a dict).

        With L_u the list of user u (its non-empty slots), T_u the oracle truth, C_u the
        clicks on ``day``, U' = {u : C_u non-empty}, S the servable notes:

        - ``recall_vs_oracle`` = mean_u |L_u ∩ T_u| / T        (T fixed; ceiling min(k, T) / T)
        - ``recall_vs_clicks`` = mean_{u in U'} |L_u ∩ C_u| / |C_u|,  ``users_with_clicks`` = |U'|
        - ``hit_rate_clicks``  = mean_{u in U'} [L_u ∩ C_u ≠ ∅]
        - ``coverage``         = |S ∩ ∪_u L_u| / |S|
        - ``diversity``        = mean_u share of pairs in L_u of different categories (ILD on
          one-hot categories: cosine distance 1 across categories, 0 within)
        - ``head_share``       = share of the non-empty slots holding a head note (the top 20 %
          of S by clicks before ``day``)
        - ``mean_true_p``      = mean over the U·k slots of the true P(click) (0 for an empty
          slot or a note not servable: a slot that cannot be served earns nothing)
        - ``allowed_share``    = share of the U·k slots holding an allowed note (not excluded)

        Raises TypeError if ``recommend`` is not callable or returns non-integers, ValueError
        for k < 1, a shape other than (U, k), ids outside [-1, I) or a row repeating a note.
        """
        if not callable(recommend):
            raise TypeError(f"recommend must be callable, got {type(recommend).__name__}")
        k = check_positive_int(k, "k")
        lists = np.asarray(recommend(self.user_ids.copy(), k))
        n_users, n_items = self.served_p.shape
        if lists.dtype.kind not in "iu":
            raise TypeError(f"recommend must return integer item ids, got dtype {lists.dtype}")
        if lists.shape != (n_users, k):
            raise ValueError(f"recommend must return shape {(n_users, k)}, got {lists.shape}")
        if lists.size and (lists.min() < -1 or lists.max() >= n_items):
            raise ValueError(f"item ids must lie in [0, {n_items}) or be -1 (empty), got "
                             f"[{lists.min()}, {lists.max()}]")
        ordered = np.sort(lists, axis=1)
        if ((ordered[:, 1:] == ordered[:, :-1]) & (ordered[:, 1:] >= 0)).any():
            raise ValueError("a list repeats a note; each row must hold distinct ids")
        lists = lists.astype(np.int64)
        filled, safe = lists >= 0, np.maximum(lists, 0)
        rows = np.arange(n_users)[:, None]
        row = {"k": k, "n_users": n_users,
               # hits / T, not recall_at_k's hits / |T_u|: they differ if a user has < T allowed notes
               "recall_vs_oracle": float((hit_matrix(lists, self.truth, k)[0].sum(1) / self.truth_size).mean()),
               "recall_vs_clicks": np.nan, "hit_rate_clicks": np.nan, "users_with_clicks": 0}
        if self.clicks is not None and self.clicks.nnz:
            relevant = np.split(self.clicks.indices, self.clicks.indptr[1:-1])
            row.update(recall_vs_clicks=recall_at_k(lists, relevant, k),
                       hit_rate_clicks=hit_rate_at_k(lists, relevant, k),
                       users_with_clicks=int((np.diff(self.clicks.indptr) > 0).sum()))
        to_servable = np.full(n_items, -1)
        to_servable[self.servable] = np.arange(len(self.servable))                # id -> column in S
        on_servable = np.where(filled, to_servable[safe], -1)
        row["coverage"] = (catalogue_coverage(on_servable, len(self.servable))
                           if (on_servable >= 0).any() else 0.0)
        one_hot = np.eye(self.category.max() + 1)[self.category]                  # (I, n_categories)
        row["diversity"] = intra_list_diversity(lists, one_hot) if (filled.sum(1) > 1).any() else np.nan
        row["head_share"] = float(self.head[lists[filled]].mean()) if filled.any() else np.nan
        row["mean_true_p"] = float((self.served_p[rows, safe] * filled).sum() / lists.size)
        allowed = filled & ~np.asarray(self.exclude[rows, safe].todense(), dtype=bool)
        row["allowed_share"] = float(allowed.mean())
        return row


def compare(yardstick: RecallYardstick, channels: dict, k: int) -> pd.DataFrame:
    """Score every channel and the three baselines on the same yardstick at the same k.

    Returns a DataFrame indexed by channel (the given ones in order, then ``popularity``,
    ``random``, ``oracle``), columns as in :meth:`RecallYardstick.score`.
    """
    if not isinstance(channels, dict):
        raise TypeError(f"channels must be a dict of name -> recommend, got {type(channels).__name__}")
    clash = set(channels) & set(BASELINES)
    if clash:
        raise ValueError(f"channel names {sorted(clash)} are reserved for the baselines")
    every = {**channels, "popularity": yardstick.popularity_baseline,
             "random": yardstick.random_baseline, "oracle": yardstick.oracle_baseline}
    rows = [yardstick.score(recommend, k) for recommend in every.values()]
    return pd.DataFrame.from_records(rows, index=pd.Index(list(every), name="channel"))


def merge_with_quotas(lists: dict, quotas: dict, k: int) -> np.ndarray:
    """Merge channels' lists into one (n_users, k) list: dedup, then per-channel quotas.

    Channels are taken in the order of ``lists`` (most trusted first). A note brought by
    several channels belongs to the first; channel c then keeps its first ``quotas[c]`` notes
    (channels absent from ``quotas`` are not limited), and each user's first k kept notes, in
    channel order, fill the row (-1 padding). The same rule as ``course.pipeline.Pipeline``'s
    dedup followed by the ``ChannelQuota(quotas, total=k)`` stage of chapter 2, on plain arrays
    (that stage works on ``Candidates``), so a merged candidate set can be passed to
    :meth:`RecallYardstick.score` as ``lambda users, k: merged``.

    Parameters
    ----------
    lists : dict of str -> int ndarray (n_users, k_c), best first, -1 padded
    quotas : dict of str -> int >= 0
    k : int

    Returns
    -------
    ndarray (n_users, k) of int64

    Examples
    --------
    >>> merge_with_quotas({"itemcf": np.array([[1, 2, 3]]), "popular": np.array([[2, 9, 8]])},
    ...                   {"itemcf": 2}, k=4).tolist()      # note 2 is ItemCF's: popular adds 9, 8
    [[1, 2, 9, 8]]
    """
    k = check_positive_int(k, "k")
    if not isinstance(lists, dict) or not lists:
        raise ValueError("lists must be a non-empty dict of name -> (n_users, k_c) array")
    if not isinstance(quotas, dict) or set(quotas) - set(lists):
        raise ValueError(f"quotas must be a dict over the channels {list(lists)}")
    arrays = [np.asarray(a) for a in lists.values()]
    if any(a.ndim != 2 or a.dtype.kind not in "iu" or len(a) != len(arrays[0]) for a in arrays):
        raise ValueError("every list must be a 2-D int array with the same number of rows")
    items = np.concatenate(arrays, axis=1).astype(np.int64)                    # (U, sum k_c)
    channel = np.repeat(np.arange(len(arrays)), [a.shape[1] for a in arrays])
    order = np.argsort(items, axis=1, kind="stable")                            # stable: first wins
    ranked = np.take_along_axis(items, order, 1)
    repeat = np.zeros(items.shape, dtype=bool)
    np.put_along_axis(repeat, order[:, 1:], ranked[:, 1:] == ranked[:, :-1], 1)
    keep = (items >= 0) & ~repeat
    limit = np.array([check_nonnegative_int(quotas.get(name, items.shape[1]), f"quotas[{name!r}]")
                      for name in lists], dtype=np.int64)
    for c in range(len(arrays)):                     # a channel's quota counts only its own kept notes
        block = channel == c
        keep[:, block] &= np.cumsum(keep[:, block], axis=1) <= limit[c]
    keep &= np.cumsum(keep, axis=1) <= k
    out = np.full((len(items), k), -1, dtype=np.int64)
    rows, cols = np.nonzero(keep)                                               # row-major: in order
    out[rows, np.cumsum(keep, axis=1)[rows, cols] - 1] = items[rows, cols]
    return out


def channel_lists(channel, context, exclude=None):
    """Adapt a pipeline channel to the yardstick: ``recommend(user_ids, k) -> (U, k)``.

    A pipeline channel (``course.recall.channels``, chapter 1's ``PopularRecall``...) maps
    ``(user_ids, context)`` to flat ``(users, items)`` pairs, each user's pairs in the channel's
    order. The returned ``recommend`` keeps, for row u, the first k items the channel gave
    ``user_ids[u]``, skipping the pairs set in ``exclude`` (a (U, n_items) sparse or bool
    matrix whose row u is ``user_ids[u]``, e.g. ``yardstick.exclude``, as the pipeline's
    filters would), and pads with -1.

    Examples
    --------
    >>> toy = lambda users, context: (np.array([5, 5, 5, 3]), np.array([7, 8, 9, 4]))
    >>> channel_lists(toy, context=None)(np.array([3, 5]), k=2).tolist()
    [[4, -1], [7, 8]]
    """
    def recommend(user_ids, k):
        k = check_positive_int(k, "k")
        user_ids = np.asarray(user_ids)
        users, items = (np.asarray(a, dtype=np.int64) for a in channel(user_ids, context))
        by_id = np.argsort(user_ids, kind="stable")
        slot = np.minimum(np.searchsorted(user_ids[by_id], users), len(user_ids) - 1)
        row = by_id[slot]                                              # row of each pair's user
        keep = user_ids[row] == users
        if exclude is not None:
            keep &= ~np.asarray(exclude[row, items], dtype=bool).ravel()
        row, items = row[keep], items[keep]
        order = np.argsort(row, kind="stable")                         # group by row, keep the order
        row, items = row[order], items[order]
        rank = np.arange(len(row)) - np.searchsorted(row, row)         # position within its row
        out = np.full((len(user_ids), k), -1, dtype=np.int64)
        out[row[rank < k], rank[rank < k]] = items[rank < k]
        return out
    return recommend


def _top_allowed(scores, exclude, k: int) -> np.ndarray:
    """Per row, the k highest-scoring ids not in ``exclude`` (csr, same shape), best first,
    ties to the lower id, -1 where a row has fewer than k allowed ids. Shape (n_rows, k)."""
    k = check_positive_int(k, "k")
    scores = np.array(scores, dtype=float)
    scores[exclude.nonzero()] = -np.inf
    order = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    allowed = np.take_along_axis(scores, order, 1) > -np.inf
    out = np.where(allowed, order, -1)
    return np.pad(out, ((0, 0), (0, k - out.shape[1])), constant_values=-1)

