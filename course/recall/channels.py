"""The other recall channels (其他召回通道) of the note (Part 2, section 7), as pipeline channels.

Besides collaborative filtering and two towers, a feed runs a handful of cheap channels, each an
index built offline plus a lookup per request:

- **GeoHash recall** (地理位置召回): GeoHash (Niemeyer 2008) turns a position into a string
  whose prefixes are nested map cells, so "nearby" is "same prefix of length p". The index is
  prefix → notes, newest first; the lookup reads the user's own prefix. It is not
  personalised (every user of a cell gets the same list), which is why ranking must follow.
- **Same-city recall** (同城召回): the same with the city as the key.
- **Author recall** (作者召回): user → followed authors, and authors whose notes the user
  clicked or liked at least N times (有交互的作者) → each author's newest notes. Two indexes:
  user → authors and author → notes by time (按时间倒排).
- **Similar-author recall** (相似作者召回): user → interested authors → similar authors → notes
  (U2A2A2I). Author similarity (作者相似度) is the cosine of two authors' audiences in the
  user x author matrix ``M`` (ItemCF on authors): ``sim(a, b) = |U_a ∩ U_b| / sqrt(|U_a| |U_b|)``.
- **Cache recall** (缓存召回): :class:`course.recall.cache.RecallCache` as a channel; the stage
  that fills it lives in :mod:`course.recall.merge`.

Every channel follows :mod:`course.pipeline`'s contract ``channel(user_ids, context) ->
(users, items)``: flat arrays, each user's candidates best first, only notes available on
``context.day``. "Newest first" breaks ties between notes of the same day by an optional
``item_scores`` (e.g. a smoothed CTR: 最新且最好), then by the smaller id, so lists are
deterministic. Indexes are sorted once in ``fit``; a request only masks out unavailable notes
(no sort), so a batch of users costs a few numpy gathers.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from course.pipeline.core import RequestContext
from course.recall.cache import RecallCache
from course.recall.cf_index import check_positive_int

__all__ = ["newest_first_order", "NewestByKeyRecall", "GeoHashRecall", "SameCityRecall",
           "user_author_matrix", "author_cosine_similarity", "AuthorRecall",
           "SimilarAuthorRecall", "CacheRecall"]


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


def _check_users(user_ids, n_users: int) -> np.ndarray:
    users = np.asarray(user_ids)
    if users.ndim != 1 or (users.size and users.dtype.kind not in "iu"):
        raise ValueError(f"user_ids must be a 1-D array of ints, got shape {users.shape}")
    users = users.astype(np.int64)
    if users.size and (users.min() < 0 or users.max() >= n_users):
        raise ValueError(f"user ids must be in [0, {n_users})")
    return users


def _available_mask(context: RequestContext, n_items: int) -> np.ndarray:
    """Bool (n_items,): fitted notes available on the request's day (newer ones are unknown)."""
    if not isinstance(context, RequestContext):
        raise TypeError(f"context must be a RequestContext, got {type(context).__name__}")
    available = np.asarray(context.available_items, dtype=np.int64)
    mask = np.zeros(n_items, dtype=bool)
    mask[available[(available >= 0) & (available < n_items)]] = True
    return mask


class _KeyIndex:
    """Key → notes index: item ids sorted by key, and within a key newest first (built once)."""

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


def _first_n_valid(users: np.ndarray, items: np.ndarray, n: int):
    """Flatten (B, L) item rows padded with -1, keeping each row's first ``n`` real items."""
    valid = items >= 0
    valid &= np.cumsum(valid, axis=1) <= n
    return np.broadcast_to(users[:, None], items.shape)[valid], items[valid]


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
        self._index = _KeyIndex(self.item_codes_, newest_first_order(publish_day, item_scores),
                                len(self.keys_))
        return self

    def index_for(self, key) -> np.ndarray:
        """Every fitted note under ``key``, newest first (the offline index, for inspection)."""
        self._check_fitted()
        code = np.flatnonzero(np.asarray(self.keys_, dtype=object) == key)
        return self._index.sorted_items[self.item_codes_[self._index.sorted_items] == code[0]] \
            if len(code) else np.zeros(0, dtype=np.int64)

    def _check_fitted(self):
        if not hasattr(self, "_index"):
            raise ValueError(f"{type(self).__name__} is not fitted: call fit(...) first")

    def __call__(self, user_ids, context: RequestContext):
        self._check_fitted()
        users = _check_users(user_ids, self.n_users_)
        table = self._index.table(_available_mask(context, self.n_items_), self.n)
        codes = self.user_codes_[users]
        items = np.where(codes[:, None] >= 0, table[np.maximum(codes, 0)], -1)  # (B, n)
        return _first_n_valid(users, items, self.n)


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


def user_author_matrix(follows, n_users: int, n_authors: int, impressions=None, items=None,
                       actions=("click", "like"), min_interactions: int = 2) -> sp.csr_matrix:
    """Binary user x author interest matrix: followed, or ``>= min_interactions`` actions.

    ``M[u, a] = 1`` if u follows a, or if u's ``actions`` (clicks + likes by default) on a's
    notes in ``impressions`` add up to at least ``min_interactions`` (有交互的作者).

    Parameters
    ----------
    follows : DataFrame with user_id, author_id
    n_users, n_authors : int
    impressions : DataFrame with user_id, item_id and the ``actions`` columns, optional
    items : DataFrame with author_id (row = item id), needed with ``impressions``

    Returns
    -------
    scipy.sparse.csr_matrix of shape (n_users, n_authors), float64 of 0/1
    """
    n_users, n_authors = check_positive_int(n_users, "n_users"), check_positive_int(n_authors, "n_authors")
    users = [follows["user_id"].to_numpy(np.int64)]
    authors = [follows["author_id"].to_numpy(np.int64)]
    if impressions is not None:
        if items is None:
            raise ValueError("items (with author_id) is needed to map impressions to authors")
        min_interactions = check_positive_int(min_interactions, "min_interactions")
        missing = set(actions) - set(impressions.columns)
        if missing:
            raise ValueError(f"impressions lack the action columns {sorted(missing)}")
        count = impressions[list(actions)].to_numpy(dtype=float).sum(axis=1)
        author = items["author_id"].to_numpy(np.int64)[impressions["item_id"].to_numpy()]
        totals = sp.coo_matrix((count, (impressions["user_id"].to_numpy(np.int64), author)),
                               shape=(n_users, n_authors)).tocsr()   # duplicates are summed
        totals.data = (totals.data >= min_interactions).astype(float)
        totals.eliminate_zeros()
        interacted = totals.tocoo()
        users.append(interacted.row.astype(np.int64))
        authors.append(interacted.col.astype(np.int64))
    users, authors = np.concatenate(users), np.concatenate(authors)
    if users.size and (users.max() >= n_users or authors.max() >= n_authors or min(users.min(), authors.min()) < 0):
        raise ValueError("user or author ids out of range [0, n_users) x [0, n_authors)")
    matrix = sp.csr_matrix((np.ones(len(users)), (users, authors)), shape=(n_users, n_authors))
    matrix.data[:] = 1.0   # followed and interacted: still one
    return matrix


def author_cosine_similarity(user_authors) -> np.ndarray:
    """Author similarity (作者相似度): cosine of the audiences, ``|U_a ∩ U_b| / sqrt(|U_a||U_b|)``.

    Parameters
    ----------
    user_authors : sparse or dense (n_users, n_authors), binary

    Returns
    -------
    ndarray of shape (n_authors, n_authors), zero diagonal (an author is not its own neighbour)

    Examples
    --------
    >>> author_cosine_similarity(np.array([[1, 1, 0], [1, 0, 0], [0, 1, 1]])).round(3).tolist()
    [[0.0, 0.5, 0.0], [0.5, 0.0, 0.707], [0.0, 0.707, 0.0]]
    """
    matrix = sp.csr_matrix(user_authors, dtype=np.float64)
    co = (matrix.T @ matrix).toarray()                           # (A, A) co-audience counts
    audience = np.sqrt(np.diag(co))
    with np.errstate(divide="ignore", invalid="ignore"):
        similarity = np.where(audience[:, None] * audience[None, :] > 0,
                              co / (audience[:, None] * audience[None, :]), 0.0)
    np.fill_diagonal(similarity, 0.0)
    return similarity


class AuthorRecall:
    """Author recall (作者召回): user → interested authors → each author's newest notes.

    ``candidates(u) = top_n ⋃_{a : M[u, a] = 1} newest_per_author(a)``, the union ordered
    newest first across authors (then best, then id). An author's notes never repeat, so the
    union has no duplicates.

    Parameters
    ----------
    per_author : int, default 10     newest notes read per author
    n : int, default 100             candidates per user

    Attributes
    ----------
    user_authors_ : csr_matrix of shape (n_users, n_authors)
    freshness_rank_ : ndarray of shape (n_items,)   position of each note in newest-first order

    Examples
    --------
    >>> matrix = sp.csr_matrix(np.array([[1, 0], [1, 1]]))
    >>> channel = AuthorRecall(per_author=1).fit(matrix, np.array([0, 1, 0]), [5, 6, 7])
    >>> channel([0, 1], RequestContext(day=7, available_items=np.arange(3)))
    (array([0, 1, 1]), array([2, 2, 1]))
    """

    def __init__(self, per_author: int = 10, n: int = 100):
        self.per_author = per_author
        self.n = n

    def fit(self, user_authors, item_authors, publish_day, item_scores=None):
        """Build author → newest notes; ``item_authors`` (n_items,) is ``items.author_id``."""
        check_positive_int(self.per_author, "per_author")
        check_positive_int(self.n, "n")
        self.user_authors_ = sp.csr_matrix(user_authors, dtype=np.float64)
        item_authors = np.asarray(item_authors, dtype=np.int64)
        n_authors = self.user_authors_.shape[1]
        if item_authors.ndim != 1 or len(item_authors) != len(np.asarray(publish_day)):
            raise ValueError("item_authors and publish_day must be 1-D of equal length")
        if item_authors.min(initial=0) < 0 or item_authors.max(initial=0) >= n_authors:
            raise ValueError(f"item author ids must be in [0, {n_authors}), the matrix's columns")
        order = newest_first_order(publish_day, item_scores)
        self.freshness_rank_ = np.empty(len(order), dtype=np.int64)
        self.freshness_rank_[order] = np.arange(len(order))
        self.n_items_ = len(item_authors)
        self._index = _KeyIndex(item_authors, order, n_authors)
        return self

    def _check_fitted(self):
        if not hasattr(self, "_index"):
            raise ValueError(f"{type(self).__name__} is not fitted: call fit(...) first")

    def __call__(self, user_ids, context: RequestContext):
        self._check_fitted()
        users = _check_users(user_ids, self.user_authors_.shape[0])
        table = self._index.table(_available_mask(context, self.n_items_), self.per_author)
        rows = self.user_authors_[users]                                   # (B, n_authors)
        pair_users = np.repeat(users, np.diff(rows.indptr))                # one per (u, author)
        items = table[rows.indices]                                        # (pairs, per_author)
        pair_users = np.broadcast_to(pair_users[:, None], items.shape)[items >= 0]
        items = items[items >= 0]
        order = np.lexsort((self.freshness_rank_[items], pair_users))      # by user, newest first
        pair_users, items = pair_users[order], items[order]
        rank = np.arange(len(items)) - np.searchsorted(pair_users, pair_users)
        return pair_users[rank < self.n], items[rank < self.n]


class SimilarAuthorRecall(AuthorRecall):
    """Similar-author recall (相似作者召回, U2A2A2I): user → authors → similar authors → notes.

    ``score(u, b) = Σ_{a : M[u, a] = 1} sim_k(a, b)`` with ``sim_k`` the cosine similarity
    (:func:`author_cosine_similarity`) kept for each author's ``n_neighbours`` nearest only (the
    offline author → similar-authors table); authors the user already follows or reads are
    skipped (author recall covers them). The ``n_authors`` best-scored authors contribute their
    ``per_author`` newest notes, best author first.

    Parameters
    ----------
    n_neighbours : int, default 20    similar authors stored per author
    n_authors : int, default 10       similar authors read per user
    per_author : int, default 5
    n : int, default 50

    Attributes
    ----------
    neighbours_ : csr_matrix of shape (n_authors, n_authors)   the top-``n_neighbours`` similarities
    """

    def __init__(self, n_neighbours: int = 20, n_authors: int = 10, per_author: int = 5, n: int = 50):
        self.n_neighbours = n_neighbours
        self.n_authors = n_authors
        self.per_author = per_author
        self.n = n

    def fit(self, user_authors, item_authors, publish_day, item_scores=None):
        check_positive_int(self.n_neighbours, "n_neighbours")
        check_positive_int(self.n_authors, "n_authors")
        super().fit(user_authors, item_authors, publish_day, item_scores)
        similarity = author_cosine_similarity(self.user_authors_)
        keep = min(self.n_neighbours, similarity.shape[1])
        # top-k per row; ties broken by the smaller author id (stable sort on -similarity)
        top = np.argsort(-similarity, axis=1, kind="stable")[:, :keep]
        values = np.take_along_axis(similarity, top, axis=1)
        rows = np.repeat(np.arange(similarity.shape[0]), keep)
        self.neighbours_ = sp.csr_matrix((values.ravel(), (rows, top.ravel())), shape=similarity.shape)
        self.neighbours_.eliminate_zeros()
        return self

    def author_scores(self, user_ids) -> np.ndarray:
        """``score(u, b)`` for every author, zero for authors u already has: (B, n_authors)."""
        self._check_fitted()
        known = self.user_authors_[_check_users(user_ids, self.user_authors_.shape[0])]
        scores = (known @ self.neighbours_).toarray()
        scores[known.toarray() > 0] = 0.0
        return scores

    def __call__(self, user_ids, context: RequestContext):
        self._check_fitted()
        users = _check_users(user_ids, self.user_authors_.shape[0])
        scores = self.author_scores(users)
        top = np.argsort(-scores, axis=1, kind="stable")[:, : self.n_authors]      # (B, n_authors)
        top = np.where(np.take_along_axis(scores, top, axis=1) > 0, top, -1)
        table = self._index.table(_available_mask(context, self.n_items_), self.per_author)
        items = np.where(top[:, :, None] >= 0, table[np.maximum(top, 0)], -1)      # (B, A, per_author)
        return _first_n_valid(users, items.reshape(len(users), -1), self.n)


class CacheRecall:
    """Cache recall (缓存召回): the user's cached ranked-but-unshown notes, newest first.

    A thin channel over :class:`~course.recall.cache.RecallCache`; each call counts one recall
    per returned note (the cache's "recalled too often" exit). Notes no longer available are
    dropped from the output. Filled by :class:`course.recall.merge.CacheUnshownStage`.

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
        users = _check_users(user_ids, np.iinfo(np.int64).max)
        if not isinstance(context, RequestContext):
            raise TypeError(f"context must be a RequestContext, got {type(context).__name__}")
        # a loop over the batch's users: the cache is a per-user structure (an OrderedDict each)
        lists = [self.cache.recall(int(user), self.n, day=context.day) for user in users]
        out_users = np.repeat(users, [len(items) for items in lists])
        out_items = np.fromiter((i for items in lists for i in items), dtype=np.int64,
                                count=len(out_users))
        keep = np.isin(out_items, np.asarray(context.available_items))
        return out_users[keep], out_items[keep]
