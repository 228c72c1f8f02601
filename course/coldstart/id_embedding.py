"""Fixing the id embedding of new notes (新笔记的 ID Embedding), Wang Shusen Part 7, lecture 2.

An id-embedding model (two-tower, ranker) learns one vector per note id from its interactions;
a note published after the last training run has a row that nothing ever trained: its random
initialisation. Three fixes from the lecture:

1. **a shared default embedding** (默认 embedding): every note with too few interactions reads
   one shared row, learned from all the interactions of such notes during training. The new
   notes then get the vector of "a typical new note" instead of noise; they still all look
   alike (the row cannot tell them apart), which is why content features or fix 2 come next.
   :func:`default_id_codes` maps ids to embedding rows this way.
2. **initialise from similar notes** (利用相似笔记的 embedding): find the ``k`` old notes most
   similar by content (cosine of content embeddings) and give the new id the mean of their
   embeddings (:func:`init_from_similar`); training then moves it as interactions arrive.
3. **several recall pools by age** (多个召回池): one model, but its top-k is read separately
   from pools of notes of different ages (e.g. 1 h / 6 h / 24 h / 30 days in the note, days
   here), so new notes are not crowded out of the merged list by old ones
   (:func:`recall_by_age_pools`).
"""
from __future__ import annotations

import numpy as np

from course._checks import check_array, check_exclude, check_int, check_positive_int
from course.recall.ann.exact import exact_top_k

__all__ = ["default_id_codes", "init_from_similar", "recall_by_age_pools"]


def default_id_codes(n_items: int, known) -> np.ndarray:
    """Embedding row of every note id: its own row if ``known``, else the shared row ``n_items``.

    The table then needs ``n_items + 1`` rows; the last is the learnable default embedding.

    Parameters
    ----------
    n_items : int
    known : bool array of shape (n_items,)   notes with enough interactions for their own row

    Examples
    --------
    >>> default_id_codes(4, np.array([True, False, True, False])).tolist()
    [0, 4, 2, 4]
    """
    n_items = check_positive_int(n_items, "n_items")
    known = check_array(known, 1, "known", "b")
    if known.shape != (n_items,):
        raise ValueError(f"known must have shape ({n_items},), got {known.shape}")
    return np.where(known, np.arange(n_items), n_items).astype(np.int64)


def init_from_similar(embeddings, content, new_ids, old_ids, k: int) -> np.ndarray:
    """Embeddings of ``new_ids`` as the mean embedding of their ``k`` most similar ``old_ids``.

    ``e_new = (1 / k) Σ_{j in top-k cos(c_new, c_j), j old} e_j``: similarity from content
    embeddings (what a new note has), values from the trained id embeddings (what old notes
    have). Ties go to the smaller old id.

    Parameters
    ----------
    embeddings : array of shape (n_items, D)   the trained id embeddings (rows of new ids unused)
    content : array of shape (n_items, C)      content embeddings of every note
    new_ids, old_ids : int arrays              disjoint sets of note ids
    k : int, 1 <= k <= len(old_ids)

    Returns
    -------
    ndarray of shape (len(new_ids), D)

    Examples
    --------
    >>> E = np.array([[1.0, 0.0], [0.0, 1.0], [3.0, 3.0], [9.0, 9.0]])
    >>> C = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.1], [0.1, 1.0]])
    >>> init_from_similar(E, C, new_ids=[2, 3], old_ids=[0, 1], k=1).tolist()
    [[1.0, 0.0], [0.0, 1.0]]
    """
    embeddings = check_array(embeddings, 2, "embeddings", "f")
    content = check_array(content, 2, "content", "f")
    if len(content) != len(embeddings):
        raise ValueError(f"content has {len(content)} rows, embeddings {len(embeddings)}")
    new_ids, old_ids = (_check_ids(ids, len(embeddings), name) for ids, name in
                        ((new_ids, "new_ids"), (old_ids, "old_ids")))
    if np.intersect1d(new_ids, old_ids).size:
        raise ValueError("new_ids and old_ids must be disjoint")
    k = check_int(k, "k", minimum=1, maximum=len(old_ids))
    neighbours, _ = exact_top_k(content[new_ids], content[old_ids], k, metric="cosine")  # (n_new, k)
    return embeddings[old_ids[neighbours]].mean(axis=1)                                 # (n_new, D)


def _check_ids(ids, n_items: int, name: str) -> np.ndarray:
    ids = check_array(ids, 1, name, "iu", allow_empty=False).astype(np.int64)
    if ids.min() < 0 or ids.max() >= n_items:
        raise ValueError(f"{name} must be note ids in [0, {n_items}), unknown ids "
                         f"{ids[(ids < 0) | (ids >= n_items)][:5].tolist()}")
    return ids


def recall_by_age_pools(user_vectors, item_vectors, item_age, max_ages, k_per_pool,
                        exclude=None) -> tuple[np.ndarray, np.ndarray]:
    """One model, several pools by age: the top-``k_per_pool[p]`` of each pool, concatenated.

    Pool p holds the notes with ``max_ages[p-1] < age <= max_ages[p]`` (pool 0: ``0 <= age <=
    max_ages[0]``); the pools are disjoint, so a note is recalled at most once. Within a pool
    the ranking is the model's inner product, as in a single pool; only the quota changes.

    Parameters
    ----------
    user_vectors : array of shape (B, D)
    item_vectors : array of shape (n_items, D)
    item_age : int array of shape (n_items,)   negative: not published yet (never recalled)
    max_ages : increasing ints >= 0, one per pool
    k_per_pool : positive ints, one per pool
    exclude : sparse matrix or bool array of shape (B, n_items), optional

    Returns
    -------
    items, scores : ndarrays of shape (B, sum(k_per_pool)), pool by pool, -1 / -inf padded

    Examples
    --------
    >>> users, items = np.array([[1.0, 0.0]]), np.array([[0.1, 0.0], [0.9, 0.0], [0.5, 0.0]])
    >>> recall_by_age_pools(users, items, np.array([0, 5, 6]), [1, 30], [1, 1])[0].tolist()
    [[0, 1]]
    """
    users = check_array(user_vectors, 2, "user_vectors", "f")
    items = check_array(item_vectors, 2, "item_vectors", "f")
    age = check_array(item_age, 1, "item_age", "iu").astype(np.int64)
    if len(age) != len(items):
        raise ValueError(f"item_age has {len(age)} entries, item_vectors {len(items)} rows")
    max_ages = check_array(max_ages, 1, "max_ages", "iu", allow_empty=False).astype(np.int64)
    quotas = check_array(k_per_pool, 1, "k_per_pool", "iu").astype(np.int64)
    if quotas.shape != max_ages.shape:
        raise ValueError(f"k_per_pool needs one quota per pool ({len(max_ages)}), got {len(quotas)}")
    if max_ages[0] < 0 or (np.diff(max_ages) <= 0).any():
        raise ValueError(f"max_ages must be increasing and >= 0, got {max_ages.tolist()}")
    if (quotas < 1).any():
        raise ValueError(f"every quota must be >= 1, got {quotas.tolist()}")
    exclude = check_exclude(exclude, (len(users), len(items)))
    scores = users @ items.T                                                          # (B, n_items)
    if exclude is not None:
        rows = np.repeat(np.arange(len(users)), np.diff(exclude.indptr))
        scores[rows, exclude.indices] = -np.inf
    lower = np.concatenate([[-1], max_ages[:-1]])
    ids = np.arange(len(items))
    parts_items, parts_scores = [], []
    for low, high, quota in zip(lower, max_ages, quotas):   # a loop over a handful of pools
        members = ids[(age > low) & (age <= high)]                                     # (m,)
        pool_scores = scores[:, members]                                               # (B, m)
        order = np.lexsort((np.broadcast_to(members, pool_scores.shape), -pool_scores), axis=-1)[:, :quota]
        found = np.full((len(users), quota), -1, dtype=np.int64)
        values = np.full((len(users), quota), -np.inf)
        top = np.take_along_axis(pool_scores, order, 1)
        found[:, :order.shape[1]] = np.where(np.isfinite(top), members[order], -1)
        values[:, :order.shape[1]] = np.where(np.isfinite(top), top, -np.inf)
        parts_items.append(found)
        parts_scores.append(values)
    return np.concatenate(parts_items, axis=1), np.concatenate(parts_scores, axis=1)
