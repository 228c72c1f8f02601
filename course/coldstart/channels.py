"""Recall channels for new notes (新笔记的召回通道), Wang Shusen Part 7, lectures 2-3.

A note published an hour ago has no clicks, so every channel that learns from behaviour fails
on it: ItemCF (its column of the user-item matrix is empty, so its similarity to every note is
0) and an id-embedding two-tower (its id's embedding row never received a gradient, so its
vector is the random initialisation). New notes need channels that read what a note *is*
(its category, keywords, content embedding) or that learn from its first few interactions:

- **category and keyword recall** (类目召回, 关键词召回): a user profile (the categories or
  keywords of the user's last n clicked notes, LastN) → the index tag → notes, newest first;
- **cluster recall** (聚类召回): k-means on the content embeddings of the notes; every new note
  joins the cluster of its nearest centroid; a user's LastN notes name the clusters to read;
- **look-alike recall** (Look-Alike 人群扩散): the users who interacted with a new note are its
  seeds; the note's vector is the mean of their vectors, updated as interactions arrive; a
  user whose vector is close to it gets the note.

Every channel indexes only the *new* notes of the serving day (``0 <= day - publish_day <=
max_age``): the cold-start pool, rebuilt daily. ``recommend(user_ids, k, exclude=None)``
returns ``(items, scores)`` as every recommender of the course (CONTRIBUTING.md): best first,
ties to the newer note and then the smaller id, ``-1`` / ``-inf`` padding.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from course._checks import check_array, check_exclude, check_int, check_is_fitted, check_positive_int
from course.recall.ann.ivf import _squared_distances_argmin, kmeans

__all__ = ["category_tags", "keyword_tags", "last_n_clicks", "TagRecall", "ClusterRecall",
           "LookalikeRecall", "new_note_mask"]


def new_note_mask(publish_day, day: int, max_age: int) -> np.ndarray:
    """Bool (n_items,): notes published at most ``max_age`` days before ``day`` (and not later).

    >>> new_note_mask(np.array([0, 3, 5, 6]), day=5, max_age=2).tolist()
    [False, True, True, False]
    """
    publish_day = check_array(publish_day, 1, "publish_day", "iu", allow_empty=False)
    day = check_int(day, "day")
    max_age = check_int(max_age, "max_age", minimum=0)
    age = day - publish_day.astype(np.int64)
    return (age >= 0) & (age <= max_age)


def category_tags(items: pd.DataFrame, column: str = "subcategory_id") -> sp.csr_matrix:
    """One-hot csr (n_items, n_values) of a categorical column of the world's ``items``."""
    codes = check_array(items[column].to_numpy(), 1, column, "iu")
    if codes.min() < 0:
        raise ValueError(f"{column} must hold non-negative codes")
    return sp.csr_matrix((np.ones(len(codes)), (np.arange(len(codes)), codes)),
                         shape=(len(codes), int(codes.max()) + 1))


def keyword_tags(items: pd.DataFrame) -> tuple[sp.csr_matrix, np.ndarray]:
    """Multi-hot csr (n_items, n_keywords) of the ``|``-separated ``keywords``, and the vocabulary.

    >>> tags, vocabulary = keyword_tags(pd.DataFrame({"keywords": ["b|a", "a"]}))
    >>> tags.toarray().tolist(), vocabulary.tolist()
    ([[1.0, 1.0], [1.0, 0.0]], ['a', 'b'])
    """
    words = items["keywords"].str.split("|")
    flat = words.explode()
    vocabulary, codes = np.unique(flat.to_numpy(dtype=str), return_inverse=True)
    rows = np.repeat(np.arange(len(words)), words.str.len().to_numpy())
    matrix = sp.csr_matrix((np.ones(len(codes)), (rows, codes)), shape=(len(words), len(vocabulary)))
    matrix.sum_duplicates()
    matrix.data[:] = 1.0                           # a keyword repeated in one note counts once
    return matrix, vocabulary


def last_n_clicks(logs: pd.DataFrame, n_users: int, n: int) -> np.ndarray:
    """(n_users, n) each user's last ``n`` distinct clicked notes, newest first, -1 padded.

    "Last" is by (day, hour), ties by the later row of the log.

    >>> logs = pd.DataFrame({"day": [0, 1, 1], "hour": [5, 2, 9], "user_id": [0, 0, 1],
    ...                      "item_id": [4, 7, 4], "click": [1, 1, 0]})
    >>> last_n_clicks(logs, 2, 2).tolist()
    [[7, 4], [-1, -1]]
    """
    n_users, n = check_positive_int(n_users, "n_users"), check_positive_int(n, "n")
    clicks = logs[logs["click"] == 1]
    time = clicks["day"].to_numpy().astype(np.int64) * 24 + clicks["hour"].to_numpy()
    frame = pd.DataFrame({"user": clicks["user_id"].to_numpy(), "item": clicks["item_id"].to_numpy(),
                          "time": time, "row": np.arange(len(clicks))})
    frame = frame.sort_values(["user", "time", "row"], ascending=[True, False, False])
    frame = frame.drop_duplicates(["user", "item"])            # keeps each note's latest click
    rank = frame.groupby("user").cumcount().to_numpy()
    keep = rank < n
    table = np.full((n_users, n), -1, dtype=np.int64)
    table[frame["user"].to_numpy()[keep], rank[keep]] = frame["item"].to_numpy()[keep]
    return table


def _rank(scores, candidates, publish_day, k, exclude, valid):
    """Top-k of dense (B, m) ``scores`` over ``candidates`` (m,) ids: score, newer, smaller id."""
    scores = np.where(valid, scores, -np.inf)
    if exclude is not None:
        scores = np.where(exclude[:, candidates].toarray(), -np.inf, scores)
    b, m = scores.shape
    keys = (np.broadcast_to(candidates, (b, m)), np.broadcast_to(-publish_day[candidates], (b, m)), -scores)
    order = np.lexsort(keys, axis=-1)[:, :k]                                          # (B, min(k, m))
    items = np.full((b, k), -1, dtype=np.int64)
    values = np.full((b, k), -np.inf)
    top = np.take_along_axis(scores, order, 1)
    found = np.isfinite(top)
    items[:, :order.shape[1]] = np.where(found, candidates[order], -1)
    values[:, :order.shape[1]] = np.where(found, top, -np.inf)
    return items, values


class _NewNoteChannel:
    """What the channels share: the pool of new notes of ``day`` and the ``recommend`` contract."""

    def _set_pool(self, publish_day, day):
        self.max_age = check_int(self.max_age, "max_age", minimum=0)
        self.publish_day_ = check_array(publish_day, 1, "publish_day", "iu", allow_empty=False).astype(np.int64)
        self.day_ = check_int(day, "day")
        self.pool_ = np.flatnonzero(new_note_mask(self.publish_day_, day, self.max_age))  # (m,)

    def _users(self, user_ids):
        users = check_array(user_ids, 1, "user_ids", "iu").astype(np.int64)
        if users.size and (users.min() < 0 or users.max() >= self.n_users_):
            raise ValueError(f"user ids must lie in [0, {self.n_users_}), unknown users "
                             f"{users[(users < 0) | (users >= self.n_users_)][:5].tolist()}")
        return users

    def recommend(self, user_ids, k: int, exclude=None) -> tuple[np.ndarray, np.ndarray]:
        """Top-``k`` new notes per user, best first.

        Parameters
        ----------
        user_ids : array of shape (B,)
        k : int
        exclude : sparse matrix or bool ndarray of shape (B, n_items), optional

        Returns
        -------
        items, scores : ndarrays of shape (B, k); -1 / -inf where fewer than k notes qualify
        """
        check_is_fitted(self, "pool_")
        users = self._users(user_ids)
        k = check_positive_int(k, "k")
        exclude = check_exclude(exclude, (len(users), len(self.publish_day_)))
        scores, valid = self._scores(users)                                             # (B, m)
        return _rank(scores, self.pool_, self.publish_day_, k, exclude, valid)


class TagRecall(_NewNoteChannel):
    """Category / keyword / cluster recall: notes sharing the tags of the user's LastN notes.

    ``profile(u) = Σ_{j in LastN(u)} tags(j)``, ``score(u, i) = <profile(u), tags(i)>``; a new
    note that shares no tag with the profile is not recalled. The note's index is tag → notes,
    newest first; over the pool of new notes that is the ranking by (score, freshness).

    Parameters
    ----------
    max_age : int, default 3        the pool: notes at most this many days old on ``day``
    normalize : bool, default True  divide the profile by its number of LastN notes

    Examples
    --------
    >>> tags = sp.csr_matrix(np.array([[1, 0], [0, 1], [1, 0], [1, 0]]))
    >>> channel = TagRecall(max_age=1).fit(tags, [0, 5, 5, 4], np.array([[0, -1]]), day=5)
    >>> channel.recommend([0], k=3)[0].tolist()     # notes 2 (newest) and 3 share tag 0
    [[2, 3, -1]]
    """

    def __init__(self, max_age: int = 3, normalize: bool = True):
        self.max_age, self.normalize = max_age, normalize

    def fit(self, item_tags, publish_day, last_items, day: int) -> "TagRecall":
        """Index the new notes of ``day`` by tag and build each user's profile from ``last_items``.

        Parameters
        ----------
        item_tags : sparse matrix or array of shape (n_items, n_tags)   0/1 (or weights)
        publish_day : array of shape (n_items,)
        last_items : array of shape (n_users, n)   LastN note ids, -1 padded (:func:`last_n_clicks`)
        day : int                                  the serving day
        """
        tags = sp.csr_matrix(item_tags, dtype=np.float64)
        last = check_array(last_items, 2, "last_items", "iu").astype(np.int64)
        if tags.shape[0] != len(np.asarray(publish_day)):
            raise ValueError(f"item_tags has {tags.shape[0]} rows, publish_day {len(np.asarray(publish_day))}")
        if last.size and last.max() >= tags.shape[0]:
            raise ValueError(f"last_items holds unknown note ids (>= {tags.shape[0]})")
        self._set_pool(publish_day, day)
        rows, cols = np.nonzero(last >= 0)
        lastn = sp.csr_matrix((np.ones(len(rows)), (rows, last[rows, cols])), shape=(len(last), tags.shape[0]))
        profile = lastn @ tags                                                          # (n_users, n_tags)
        if self.normalize:
            counts = np.maximum((last >= 0).sum(axis=1), 1)
            profile = sp.diags(1.0 / counts) @ profile
        self.profile_, self.n_users_ = sp.csr_matrix(profile), len(last)
        self.pool_tags_ = tags[self.pool_]                                              # (m, n_tags)
        return self

    def _scores(self, users):
        scores = (self.profile_[users] @ self.pool_tags_.T).toarray()                  # (B, m)
        return scores, scores > 0


class ClusterRecall(TagRecall):
    """Cluster recall (聚类召回): k-means on content embeddings; tags are the clusters.

    The centroids are learned on the notes published before the pool (old notes, whose
    embeddings are all available), every note joins its nearest centroid, and the user's LastN
    notes name the clusters to read (:class:`TagRecall` with one-hot cluster tags).

    Parameters
    ----------
    n_clusters : int     the note uses ~1000 clusters for 10^8 notes; the world has ~10^4 notes
    max_age : int
    seed : int           seeds k-means++
    """

    def __init__(self, n_clusters: int = 64, max_age: int = 3, seed: int = 0):
        self.n_clusters, self.max_age, self.seed = n_clusters, max_age, seed
        self.normalize = True

    def fit(self, content, publish_day, last_items, day: int) -> "ClusterRecall":
        """``content`` (n_items, dim): the notes' content embeddings (``world.item_content``)."""
        content = check_array(content, 2, "content", "f").astype(np.float64)
        publish_day = check_array(publish_day, 1, "publish_day", "iu")
        if len(content) != len(publish_day):
            raise ValueError(f"content has {len(content)} rows, publish_day {len(publish_day)}")
        n_clusters = check_positive_int(self.n_clusters, "n_clusters")
        old = publish_day < day - check_int(self.max_age, "max_age", minimum=0)
        self.centroids_, _ = kmeans(content[old], n_clusters, seed=self.seed)
        self.labels_, _ = _squared_distances_argmin(content, self.centroids_)          # (n_items,)
        tags = sp.csr_matrix((np.ones(len(content)), (np.arange(len(content)), self.labels_)),
                             shape=(len(content), n_clusters))
        return super().fit(tags, publish_day, last_items, day)


class LookalikeRecall(_NewNoteChannel):
    """Look-alike recall (Look-Alike 人群扩散) of new notes.

    A new note's vector is the mean of the vectors of the users who interacted with it (its
    seed users), ``x_i = (1 / |U_i|) Σ_{u in U_i} a_u``, updated each time an interaction
    arrives (:meth:`update`: near-line, 近线更新). A user is recalled the notes whose vector is
    closest by cosine, ``score(u, i) = cos(a_u, x_i)``; a note with fewer than
    ``min_interactions`` seeds is not scored (no seeds: no vector).

    The note (Wang Shusen) uses the two-tower user vectors as the ``a_u``: any user vectors do.

    Parameters
    ----------
    max_age : int, default 3
    min_interactions : int, default 1

    Examples
    --------
    >>> users = np.array([[1.0, 0.0], [0.0, 1.0], [0.9, 0.1]])
    >>> channel = LookalikeRecall(max_age=1).fit(users, [3, 3, 3], day=3)
    >>> _ = channel.update([0], [1])                 # user 0 clicked note 1: its first seed
    >>> channel.recommend([2], k=2)[0].tolist()      # notes 0 and 2 have no seed yet
    [[1, -1]]
    """

    def __init__(self, max_age: int = 3, min_interactions: int = 1):
        self.max_age, self.min_interactions = max_age, min_interactions

    def fit(self, user_vectors, publish_day, day: int) -> "LookalikeRecall":
        """Start with an empty seed set for every new note of ``day``."""
        vectors = check_array(user_vectors, 2, "user_vectors", "f", allow_empty=False).astype(np.float64)
        check_positive_int(self.min_interactions, "min_interactions")
        self._set_pool(publish_day, day)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        self.user_vectors_ = vectors / np.where(norms > 0, norms, 1.0)
        self.n_users_ = len(vectors)
        self.sums_ = np.zeros((len(self.publish_day_), vectors.shape[1]))                # (n_items, D)
        self.counts_ = np.zeros(len(self.publish_day_), dtype=np.int64)
        return self

    def update(self, user_ids, item_ids) -> "LookalikeRecall":
        """Add interactions (one per row): each user becomes a seed of the note."""
        check_is_fitted(self, "sums_")
        users = self._users(user_ids)
        items = check_array(item_ids, 1, "item_ids", "iu").astype(np.int64)
        if items.shape != users.shape:
            raise ValueError(f"user_ids and item_ids must align, got {users.shape} and {items.shape}")
        if items.size and (items.min() < 0 or items.max() >= len(self.counts_)):
            raise ValueError(f"item ids must lie in [0, {len(self.counts_)}): unknown note ids "
                             f"{items[(items < 0) | (items >= len(self.counts_))][:5].tolist()}")
        np.add.at(self.sums_, items, self.user_vectors_[users])
        self.counts_ += np.bincount(items, minlength=len(self.counts_))
        return self

    def note_vectors(self, item_ids=None) -> np.ndarray:
        """(n, D) the look-alike vectors x_i (zeros for notes without seeds)."""
        check_is_fitted(self, "sums_")
        items = np.arange(len(self.counts_)) if item_ids is None else np.asarray(item_ids)
        return self.sums_[items] / np.maximum(self.counts_[items], 1)[:, None]

    def _scores(self, users):
        x = self.note_vectors(self.pool_)                                               # (m, D)
        norms = np.linalg.norm(x, axis=1)
        cosine = self.user_vectors_[users] @ (x / np.where(norms > 0, norms, 1.0)[:, None]).T  # (B, m)
        valid = np.broadcast_to(self.counts_[self.pool_] >= self.min_interactions, cosine.shape)
        return cosine, valid
