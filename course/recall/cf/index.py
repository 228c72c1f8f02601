"""Collaborative-filtering recall (协同过滤召回) as served: input checks, the two offline indexes
and the online n·k scoring of the note (Part 2, section 1.1). The sparse top-N selection they
end with is :mod:`course.recall.cf.top_n`.

The note's serving recipe for ItemCF (线上召回):

1. offline, store two key-value tables: user → last-n interacted items with their like scores
   (用户→最近交互的 n 个物品) and item → top-k most similar items (物品→最相似的 k 个物品);
2. online, for one user, read the user's last n items, read the k neighbours of each of them,
   and score the n·k candidates with

   ``score(user, candidate) = Σ_i like(user, item_i) · sim(item_i, candidate)``

   summing over the last-n items ``item_i`` that list ``candidate`` among their k neighbours;
3. return the top-N.

This is exactly the full-matrix score ``R_last @ S_top`` where ``R_last`` keeps only each
user's last n entries and ``S_top`` only each item's k largest similarities: the index never
enumerates all items, which is why it is cheap online. :func:`score_from_index` does it for a
batch of users at once: gather ``(B, n, k)`` arrays, then let a sparse matrix sum the duplicates.

Conventions of the CF recommenders (the API conventions of the whole course, plus one):

- ``recommend(user_indices, k, exclude=None) -> (items, scores)`` of shape (B, k); row r of
  ``exclude`` (shape (B, n_items)) lists what user ``user_indices[r]`` must never get;
- a *candidate* is an item with a strictly positive score; a list holds fewer than k real
  items only when fewer candidates exist, and is padded with ``-1`` (score ``-inf``) after them;
- ties are broken by the smaller item index, so results are deterministic;
- the offline index tables (:func:`item_to_items`, :func:`user_to_last_items`) pad their
  weights with ``0`` instead, so that they can be multiplied and summed as they are.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from course._checks import check_positive_int
from course.recall.cf.top_n import first_k_per_row, top_k_excluding, top_k_per_row


def check_interactions(matrix, name: str = "R") -> sp.csr_matrix:
    """Validate a users × items behaviour-weight matrix and return it as float64 CSR.

    Parameters
    ----------
    matrix : sparse matrix or array-like of shape (n_users, n_items)
        Non-negative, finite weights (e.g. click 1, like 2, share 3); 0 means no interaction.
    name : str
        Name used in error messages.

    Returns
    -------
    scipy.sparse.csr_matrix of shape (n_users, n_items), dtype float64, explicit zeros removed.
    """
    if sp.issparse(matrix):
        csr = sp.csr_matrix(matrix, dtype=np.float64, copy=True)
    else:
        array = np.asarray(matrix)
        if array.dtype == object or not np.issubdtype(array.dtype, np.number):
            raise TypeError(f"{name} must be numeric, got dtype {array.dtype}")
        if array.ndim != 2:
            raise ValueError(f"{name} must be 2-D (n_users, n_items), got shape {array.shape}")
        csr = sp.csr_matrix(array.astype(np.float64))
    if csr.ndim != 2:
        raise ValueError(f"{name} must be 2-D (n_users, n_items), got shape {csr.shape}")
    if csr.shape[0] == 0 or csr.shape[1] == 0:
        raise ValueError(f"{name} must have at least one user and one item, got {csr.shape}")
    csr.sum_duplicates()
    if not np.all(np.isfinite(csr.data)):
        raise ValueError(f"{name} contains NaN or infinite weights")
    if np.any(csr.data < 0):
        raise ValueError(f"{name} contains negative weights; behaviour weights must be >= 0")
    csr.eliminate_zeros()
    return csr


def item_to_items(similarity, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Offline index item → top-k most similar items (物品→相似物品 索引).

    Parameters
    ----------
    similarity : sparse matrix of shape (n_items, n_items)
        Item-item similarity with a zero diagonal.
    k : int
        Neighbours kept per item.

    Returns
    -------
    neighbours : ndarray of shape (n_items, k), int64, padded with -1
    similarities : ndarray of shape (n_items, k), float64, padded with 0
    """
    similarity = sp.csr_matrix(similarity)
    if similarity.shape[0] != similarity.shape[1]:
        raise ValueError(f"similarity must be square, got shape {similarity.shape}")
    return top_k_per_row(similarity, k)


def user_to_last_items(interactions, n: int, n_users: int | None = None):
    """Offline index user → last-n interacted items and their like scores (用户→最近 n 个物品).

    Parameters
    ----------
    interactions : pandas.DataFrame or sparse matrix
        Either a log with integer columns ``user``, ``item``, a ``time`` column and an optional
        ``weight`` column (default 1), or a users × items weight matrix. Repeated (user, item)
        events are merged: weights are summed (like(user, item) adds up behaviours) and the time
        is the latest one. A matrix has no times, so "last" falls back to "heaviest".
    n : int
        Items kept per user.
    n_users : int, optional
        Rows of the output; default ``max(user) + 1`` (or the matrix's row count).

    Returns
    -------
    items : ndarray of shape (n_users, n), int64
        Most recent first, padded with -1.
    weights : ndarray of shape (n_users, n), float64
        like(user, item) for each entry, padded with 0.

    Examples
    --------
    >>> import pandas as pd
    >>> log = pd.DataFrame({"user": [0, 0, 0, 1], "item": [3, 1, 3, 2],
    ...                     "weight": [1.0, 2.0, 3.0, 1.0], "time": [1, 2, 3, 1]})
    >>> items, weights = user_to_last_items(log, 2)
    >>> items.tolist(), weights.tolist()
    ([[3, 1], [2, -1]], [[4.0, 2.0], [1.0, 0.0]])
    """
    n = check_positive_int(n, "n")
    if isinstance(interactions, pd.DataFrame):
        missing = {"user", "item", "time"} - set(interactions.columns)
        if missing:
            raise ValueError(f"the log needs columns user, item, time; missing {sorted(missing)}")
        if len(interactions) == 0:
            raise ValueError("the interaction log is empty")
        log = interactions[["user", "item", "time"]].copy()
        log["weight"] = interactions["weight"] if "weight" in interactions else 1.0
        for column in ("user", "item"):
            if not pd.api.types.is_integer_dtype(log[column]) or (log[column] < 0).any():
                raise ValueError(f"column {column} must hold non-negative integer indices")
        if (log["weight"] < 0).any():
            raise ValueError("the log contains negative weights")
        log = log.groupby(["user", "item"], as_index=False).agg(
            weight=("weight", "sum"), time=("time", "max"))
        users = log["user"].to_numpy(np.int64)
        items = log["item"].to_numpy(np.int64)
        weights = log["weight"].to_numpy(np.float64)
        recency = log["time"].to_numpy()
        if np.issubdtype(recency.dtype, np.datetime64):
            recency = recency.astype("datetime64[ns]").astype(np.int64)  # exact, unlike float
        default_users = int(users.max()) + 1
    else:
        matrix = check_interactions(interactions, "interactions").tocoo()
        users, items, weights = matrix.row.astype(np.int64), matrix.col.astype(np.int64), matrix.data
        recency = weights  # no timestamps: the heaviest interactions stand in for the latest
        default_users = matrix.shape[0]
    n_users = default_users if n_users is None else check_positive_int(n_users, "n_users")
    if users.size and users.max() >= n_users:
        raise ValueError(f"user index {users.max()} out of range for n_users={n_users}")
    order = np.lexsort((items, -recency, users))  # per user: newest first, then item index
    return first_k_per_row(users[order], items[order], weights[order], n_users, n)


def score_from_index(last_items, last_weights, neighbours, neighbour_similarities, k: int,
                     exclude=None) -> tuple[np.ndarray, np.ndarray]:
    """Online n·k candidate scoring from the two offline indexes, for a batch of users.

    ``score(u, c) = Σ_{i in last_n(u), c in top_k(i)} like(u, i) · sim(i, c)``, then the top ``k``.

    Parameters
    ----------
    last_items, last_weights : ndarray of shape (B, n_last)
        Rows of :func:`user_to_last_items` for the B requesting users (-1 = padding).
    neighbours, neighbour_similarities : ndarray of shape (n_items, k)
        The :func:`item_to_items` index (-1 = padding).
    k : int
        Length of each returned list (the index's own ``k`` is ``neighbours.shape[1]``).
    exclude : sparse matrix or bool ndarray of shape (B, n_items), optional
        Non-zero entries are removed from the candidates (already-consumed items).

    Returns
    -------
    items : ndarray of shape (B, k), int64, padded with -1
    scores : ndarray of shape (B, k), float64, padded with -inf

    Examples
    --------
    One user liked item 0 twice as much as item 1. Item 2 is reached from both:
    2 · 0.25 + 1 · 0.5 = 1.0; items 0 and 1 were seen.

    >>> neighbours = np.array([[1, 2], [2, 0], [0, -1]])
    >>> similarities = np.array([[0.5, 0.25], [0.5, 0.5], [0.25, 0.0]])
    >>> items, scores = score_from_index([[0, 1]], [[2.0, 1.0]], neighbours, similarities, 2,
    ...                                  exclude=sp.csr_matrix([[1, 1, 0]]))
    >>> items.tolist(), scores.tolist()
    ([[2, -1]], [[1.0, -inf]])
    """
    last_items = np.asarray(last_items)
    last_weights = np.asarray(last_weights, dtype=np.float64)
    neighbours = np.asarray(neighbours)
    neighbour_similarities = np.asarray(neighbour_similarities, dtype=np.float64)
    if last_items.ndim != 2 or last_items.shape != last_weights.shape:
        raise ValueError("last_items and last_weights must be 2-D arrays of the same shape")
    if neighbours.ndim != 2 or neighbours.shape != neighbour_similarities.shape:
        raise ValueError("neighbours and neighbour_similarities must be 2-D, same shape")
    n_items = neighbours.shape[0]
    if last_items.size and last_items.max() >= n_items:
        raise ValueError(f"last_items holds item {last_items.max()} but the index has {n_items}")
    batch = last_items.shape[0]
    valid_last = last_items >= 0
    safe_last = np.where(valid_last, last_items, 0)
    candidates = neighbours[safe_last]  # (B, n_last, k)
    scores = last_weights[:, :, None] * neighbour_similarities[safe_last]  # (B, n_last, k)
    valid = valid_last[:, :, None] & (candidates >= 0)  # (B, n_last, k)
    rows = np.broadcast_to(np.arange(batch)[:, None, None], candidates.shape)  # (B, n_last, k)
    # The same candidate reached from several last-n items: the COO → CSR conversion sums it.
    totals = sp.csr_matrix((scores[valid], (rows[valid], candidates[valid])),
                           shape=(batch, n_items))
    return top_k_excluding(totals, k, exclude)

