"""Top-k metrics for retrieval (召回) and ranked lists: precision, recall, NDCG, hit rate, MAP, MRR.

Contract shared by every function here (their ``recommended``, ``relevant`` and ``k``):

- ``recommended`` is one ranked list of item ids per user, best first: a list of lists (lengths
  may differ) or a 2-D array of shape (n_users, list_length). In a 2-D array a negative id
  (the ``-1`` padding of ``ItemCF.recommend`` and the other recommenders) is an empty slot
  (空位): it keeps its position but is never a hit and never a repeat, so a padded array scores
  exactly like the shorter ragged lists it stands for.
- ``relevant`` holds, in the same user order, the collection of item ids that user actually
  engaged with (a set, list or array; duplicates are ignored; in a 2-D array negative ids are
  empty slots too).
- ``k`` is the cut-off, an int >= 1: only the first ``k`` slots of each list count, and a list
  shorter than ``k`` counts its missing slots as misses.
- The result is the mean over users with at least one relevant item; users with none are
  skipped (their recall is undefined), and if no user has any, ValueError.
- Relevance is binary. A ranked list may not repeat an item (ValueError).

All functions first build a hit matrix (命中矩阵) ``hits[u, i] = 1`` if the i-th recommendation of
user u is relevant, by looking every flattened (user, item) pair up in a sparse user x item
relevance matrix (no Python loop over users); each metric is then a per-user formula of one or
two lines of array arithmetic on it, averaged by :func:`_mean_over_users`.
"""
from __future__ import annotations

import numpy as np
from scipy import sparse

from course.metrics._validation import (
    check_positive_int,
    check_same_length,
    flatten_lists,
    item_codes,
)

__all__ = ["precision_at_k", "recall_at_k", "ndcg_at_k", "hit_rate_at_k", "map_at_k", "mrr"]


def hit_matrix(recommended, relevant, k: int):
    """Binary hit matrix of the first ``k`` recommendations, and the size of each relevant set.

    Parameters
    ----------
    recommended : sequence of sequences, or ndarray of shape (n_users, list_length)
        Ranked item ids per user; in a 2-D array, negative ids are empty slots.
    relevant : sequence of collections, or ndarray of shape (n_users, n_relevant_max)
        Relevant item ids per user, same order and length as ``recommended``.
    k : int
        Cut-off, >= 1. Lists shorter than ``k`` are padded with misses.

    Returns
    -------
    hits : ndarray of shape (n_users, k), bool
    n_relevant : ndarray of shape (n_users,), int

    Examples
    --------
    >>> hits, n_relevant = hit_matrix([[3, 1, 2], [5]], [{1, 2}, {5, 9, 7}], k=2)
    >>> hits.astype(int).tolist(), n_relevant.tolist()
    ([[0, 1], [1, 0]], [2, 3])

    The same lists as a -1 padded array (what ``ItemCF.recommend`` returns):

    >>> hits, _ = hit_matrix(np.array([[3, 1, 2], [5, -1, -1]]), [{1, 2}, {5, 9, 7}], k=2)
    >>> hits.astype(int).tolist()
    [[0, 1], [1, 0]]
    """
    k = check_positive_int(k, "k")
    # Flattened coordinates: entry j belongs to user_of[j], at slot position_of[j] of its list.
    recommended_items, list_lengths, position_of = flatten_lists(recommended, "recommended", k=k,
                                                                 return_positions=True)
    relevant_items, relevant_lengths = flatten_lists(relevant, "relevant")
    check_same_length(recommended=list_lengths, relevant=relevant_lengths)
    n_users = list_lengths.size
    user_of = np.repeat(np.arange(n_users), list_lengths)
    relevant_user_of = np.repeat(np.arange(n_users), relevant_lengths)

    recommended_codes, relevant_codes, n_codes = item_codes(recommended_items, relevant_items)
    sorted_keys = np.sort(user_of * n_codes + recommended_codes)  # one int64 per (user, item)
    if (sorted_keys[1:] == sorted_keys[:-1]).any():
        raise ValueError("a recommended list repeats an item; a ranked list must hold distinct items")

    # Relevance as a sparse (n_users, n_codes) matrix: building it sums duplicate ids, and
    # looking up (user, item) pairs is a short binary search inside that user's row, which is
    # faster than one search among all relevant pairs.
    relevance = sparse.csr_matrix(
        (np.ones(relevant_items.size, dtype=np.int32), (relevant_user_of, relevant_codes)),
        shape=(n_users, n_codes),
    )
    relevance.sum_duplicates()
    n_relevant = np.diff(relevance.indptr)
    hit_entries = np.zeros(recommended_items.size, dtype=bool)
    if recommended_items.size:  # scipy cannot index with two empty arrays
        hit_entries = np.asarray(relevance[user_of, recommended_codes]).ravel() > 0
    hits = np.zeros((n_users, k), dtype=bool)
    hits[user_of[hit_entries], position_of[hit_entries]] = True
    return hits, n_relevant


def _mean_over_users(recommended, relevant, k: int, per_user_score) -> float:
    """Mean of ``per_user_score(hits, n_relevant)`` (an array of shape (n_users,)) over the users
    with at least one relevant item; the others' scores (often 0 / 0) are ignored."""
    hits, n_relevant = hit_matrix(recommended, relevant, k)
    with np.errstate(invalid="ignore", divide="ignore"):  # users without relevant items: dropped
        per_user = per_user_score(hits, n_relevant)
    has_relevant = n_relevant > 0
    if not has_relevant.any():
        raise ValueError("no user has any relevant item: the metric is undefined")
    return float(per_user[has_relevant].mean())


def _discounts(k: int) -> np.ndarray:
    return 1.0 / np.log2(np.arange(2, k + 2))  # position i = 1..k -> 1 / log2(i + 1)


def precision_at_k(recommended, relevant, k: int) -> float:
    """Precision@k (精确率): the fraction of the top ``k`` recommendations that are relevant.

        P@k = |top-k ∩ relevant| / k

    Always divides by ``k``, even when a list is shorter than ``k`` (the missing slots count as
    misses: a system that returns fewer items than asked for is not rewarded for it).
    ``recommended``, ``relevant`` and ``k`` follow the module's contract.

    Returns
    -------
    float
        In [0, 1], the mean of P@k over users with a relevant item.

    Examples
    --------
    >>> precision_at_k([[1, 2, 3, 4]], [{2, 4, 9}], k=4)
    0.5
    """
    def precision(hits, n_relevant):  # (n_users,)
        return hits.sum(axis=1) / hits.shape[1]

    return _mean_over_users(recommended, relevant, k, precision)


def recall_at_k(recommended, relevant, k: int) -> float:
    """Recall@k (召回率): the fraction of a user's relevant items found in the top ``k``.

        R@k = |top-k ∩ relevant| / |relevant|

    ``recommended``, ``relevant`` and ``k`` follow the module's contract.

    Returns
    -------
    float
        In [0, 1]; below 1 whenever a user has more than ``k`` relevant items.

    Examples
    --------
    >>> recall_at_k([[1, 2, 3, 4], [7, 8]], [{2, 4, 9, 10}, {8}], k=4)  # (2/4 + 1/1) / 2
    0.75
    """
    def recall(hits, n_relevant):  # (n_users,)
        return hits.sum(axis=1) / n_relevant

    return _mean_over_users(recommended, relevant, k, recall)


def ndcg_at_k(recommended, relevant, k: int) -> float:
    """Normalised discounted cumulative gain, NDCG@k (归一化折损累计增益), binary relevance.

        DCG@k  = sum_{i=1..k} rel_i / log2(i + 1)
        IDCG@k = sum_{i=1..min(k, |relevant|)} 1 / log2(i + 1)
        NDCG@k = DCG@k / IDCG@k

    A hit near the top is worth more than one further down (Järvelin & Kekäläinen, 2002,
    "Cumulated gain-based evaluation of IR techniques"). ``recommended``, ``relevant`` and
    ``k`` follow the module's contract.

    Returns
    -------
    float
        In [0, 1]; 1 when the first min(k, |relevant|) slots are all hits.

    Examples
    --------
    >>> round(ndcg_at_k([[9, 1]], [{1}], k=2), 4)  # (1/log2 3) / 1
    0.6309
    """
    def ndcg(hits, n_relevant):  # (n_users,)
        discounts = _discounts(hits.shape[1])
        ideal_dcg = np.r_[0.0, np.cumsum(discounts)][np.minimum(n_relevant, hits.shape[1])]
        return (hits @ discounts) / ideal_dcg

    return _mean_over_users(recommended, relevant, k, ndcg)


def hit_rate_at_k(recommended, relevant, k: int) -> float:
    """Hit rate@k (命中率): the fraction of users with at least one relevant item in the top ``k``.

        HR@k = mean over users of [ |top-k ∩ relevant| > 0 ]

    ``recommended``, ``relevant`` and ``k`` follow the module's contract.

    Returns
    -------
    float
        In [0, 1], the share of users (with a relevant item) who got a hit.

    Examples
    --------
    >>> hit_rate_at_k([[1, 2], [3, 4]], [{2}, {5}], k=2)
    0.5
    """
    def hit(hits, n_relevant):  # (n_users,)
        return hits.any(axis=1).astype(float)

    return _mean_over_users(recommended, relevant, k, hit)


def map_at_k(recommended, relevant, k: int) -> float:
    """Mean average precision, MAP@k (平均精度均值).

        AP@k = (1 / min(k, |relevant|)) sum_{i=1..k} P@i * rel_i,    MAP@k = mean over users

    Normalising by min(k, |relevant|) rather than |relevant| makes a perfect top-k list score 1
    even for users with more than k relevant items. ``recommended``, ``relevant`` and ``k``
    follow the module's contract.

    Returns
    -------
    float
        In [0, 1]; 1 for a perfect list, whose hits fill its first min(k, |relevant|) slots.

    Examples
    --------
    >>> map_at_k([[1, 9, 2]], [{1, 2}], k=3)  # (1/1 + 2/3) / 2
    0.8333333333333333
    """
    def average_precision(hits, n_relevant):  # (n_users,)
        precision_at_each = np.cumsum(hits, axis=1) / np.arange(1, hits.shape[1] + 1)  # (U, k)
        return (precision_at_each * hits).sum(axis=1) / np.minimum(n_relevant, hits.shape[1])

    return _mean_over_users(recommended, relevant, k, average_precision)


def mrr(recommended, relevant, k: int | None = None) -> float:
    """Mean reciprocal rank, MRR (平均倒数排名): mean of 1 / (rank of the first relevant item).

        MRR = mean over users of 1 / min{ i : rel_i = 1 }   (0 when no hit in the top k)

    A user with no relevant item in the top ``k`` contributes 0 (Voorhees, 1999, "The TREC-8
    question answering track report"). ``recommended`` and ``relevant`` follow the module's
    contract; ``k`` may be None to look at the whole of every list.

    Returns
    -------
    float
        In [0, 1]; 1 when every user's first slot is a hit.

    Examples
    --------
    >>> mrr([[5, 1, 2], [3, 4, 6]], [{1}, {6}])  # (1/2 + 1/3) / 2
    0.41666666666666663
    """
    if k is None:  # the longest list, counting its empty slots
        _, _, positions = flatten_lists(recommended, "recommended", return_positions=True)
        k = int(positions.max(initial=-1)) + 1 or 1

    def reciprocal_rank(hits, n_relevant):  # (n_users,)
        first_hit = hits.argmax(axis=1)  # argmax of a bool row: first True (0 if none, masked)
        return np.where(hits.any(axis=1), 1.0 / (first_hit + 1), 0.0)

    return _mean_over_users(recommended, relevant, k, reciprocal_rank)
