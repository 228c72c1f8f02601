"""Negative samples (负样本) for training a recall model: easy, hard, mixed, and the wrong kind.

The note (Part 2, section 3) sorts the (user, item) pairs a recall model may treat as negative:

* **easy negatives** (简单负样本): items that were not recalled, i.e. almost the whole catalogue.
  Sample them from all items, but not uniformly: positives are mostly popular items, so a
  uniform draw would make negatives mostly cold items and the model would just learn
  "popular = good". Sample instead with probability ∝ clicks^α, α ≈ 0.75 (the exponent of
  word2vec's negative sampling, Mikolov et al. 2013): popular items appear more often as
  negatives, but less than linearly. :func:`popularity_negatives`. The counts are smoothed,
  ∝ (clicks + 1)^α by default: the note samples from *all* items, and ∝ clicks^α would never
  draw an item without clicks (on the course's world almost half of the notes).
* **hard negatives** (困难负样本): items that were recalled but cut by ranking (被排序淘汰):
  the user is somewhat interested, so they are hard to tell from positives. Here: the items
  a cheap first-pass recall ranks between ``start`` and ``stop`` for the user, minus the
  user's clicks. :func:`hard_negative_pool`, then :func:`sample_from_pool`.
* **mixing** (混合): industry trains on a mix of easy and hard negatives. :func:`mix_negatives`.
* **the wrong choice**: items that were exposed (曝光) but not clicked. They passed the whole
  funnel, so the system already judged the user interested; a recall model must separate
  "interested" from "not interested", not "interested" from "more interested". They are
  the right negatives for *ranking*, not for recall. :func:`exposed_unclicked_pool` builds
  them so that the notebook can show, against the ground truth, that they hurt.

A pool of per-user candidates is a ``scipy.sparse.csr_matrix`` of shape (n_users, n_items)
with a stored entry for each candidate; :func:`sample_from_pool` draws from it for a batch of
users at once, without a loop over users. Every sampler takes a seed or a
``numpy.random.Generator``: training with the same seed draws the same negatives.
"""
from __future__ import annotations

import numbers
from typing import Callable

import numpy as np
import scipy.sparse as sp

from course._checks import check_positive_int
from course.seed import as_generator

__all__ = ["popularity_probabilities", "popularity_negatives", "hard_negative_pool",
           "exposed_unclicked_pool", "sample_from_pool", "mix_negatives", "make_negative_sampler"]


def _check_share(name: str, value) -> float:
    if not isinstance(value, numbers.Real) or not 0.0 <= value <= 1.0:
        raise ValueError(f"{name} must be a number in [0, 1], got {value!r}")
    return float(value)


def popularity_probabilities(item_clicks, alpha: float = 0.75, smoothing: float = 1.0) -> np.ndarray:
    """Sampling probability of each item as an easy negative: ``p_j ∝ (c_j + s)^α``.

    Parameters
    ----------
    item_clicks : array-like of shape (n_items,)
        Non-negative click counts ``c_j`` (from the training logs only).
    alpha : float >= 0
        0 gives the uniform distribution over all items (``0^0 = 1``); 1 follows popularity
        exactly; the note's default 0.75 is in between.
    smoothing : float >= 0
        ``s``, added to every count before the power. With ``s = 0`` (the bare formula
        ``c_j^α``) and ``alpha > 0``, items without clicks are never drawn, although the note
        samples easy negatives from all items. The default ``s = 1`` (add-one smoothing) gives
        them the weight of an item clicked once and barely moves the others' probabilities.

    Returns
    -------
    ndarray of shape (n_items,)
        Probabilities summing to 1.

    Examples
    --------
    >>> popularity_probabilities([1, 16, 0], alpha=0.75, smoothing=0).round(3).tolist()  # 1 : 8 : 0
    [0.111, 0.889, 0.0]
    >>> popularity_probabilities([1, 16, 0], alpha=0.75).round(3).tolist()  # 2^.75 : 17^.75 : 1
    [0.152, 0.757, 0.09]
    >>> popularity_probabilities([1, 16, 0], alpha=0).round(3).tolist()
    [0.333, 0.333, 0.333]
    """
    clicks = np.asarray(item_clicks, dtype=np.float64)
    if clicks.ndim != 1 or clicks.size == 0:
        raise ValueError(f"item_clicks must be a non-empty 1-D array, got shape {clicks.shape}")
    if not np.isfinite(clicks).all() or (clicks < 0).any():
        raise ValueError("item_clicks must be finite and non-negative")
    if not isinstance(alpha, numbers.Real) or not 0 <= alpha < np.inf:
        raise ValueError(f"alpha must be a finite number >= 0, got {alpha!r}")
    if not isinstance(smoothing, numbers.Real) or not 0 <= smoothing < np.inf:
        raise ValueError(f"smoothing must be a finite number >= 0, got {smoothing!r}")
    weights = (clicks + smoothing) ** alpha  # (n_items,)
    total = weights.sum()
    if total <= 0:
        raise ValueError("no item has a positive sampling weight: all click counts are zero")
    return weights / total


def popularity_negatives(n, item_clicks, alpha: float = 0.75, rng=0, smoothing: float = 1.0) -> np.ndarray:
    """Draw easy negatives (简单负样本): item ids with probability ∝ (clicks + smoothing)^α.

    Inverse-CDF sampling: one ``searchsorted`` of uniform draws into the cumulative
    probabilities, ``O(n_items + size · log n_items)``.

    Parameters
    ----------
    n : int or tuple of int
        Shape of the output, e.g. ``(batch_size, n_negatives)``.
    item_clicks : array-like of shape (n_items,)
    alpha : float >= 0
    rng : numpy.random.Generator or int seed
    smoothing : float >= 0
        See :func:`popularity_probabilities`.

    Returns
    -------
    ndarray of shape ``n``, int64 item ids in ``[0, n_items)``.

    Examples
    --------
    >>> popularity_negatives((2, 3), [0, 5, 0, 1], alpha=1.0, rng=0).shape
    (2, 3)
    >>> set(popularity_negatives(1000, [0, 5, 0, 1], rng=0, smoothing=0).tolist())  # never drawn
    {1, 3}
    >>> set(popularity_negatives(1000, [0, 5, 0, 1], rng=0).tolist())  # smoothed: every item
    {0, 1, 2, 3}
    """
    return _draw(_cumulative(popularity_probabilities(item_clicks, alpha, smoothing)), n, as_generator(rng))


def _cumulative(probabilities: np.ndarray) -> np.ndarray:
    cdf = np.cumsum(probabilities)
    cdf[-1] = 1.0  # guard against rounding: every draw u < 1 lands on an item
    return cdf


def _draw(cdf: np.ndarray, shape, rng: np.random.Generator) -> np.ndarray:
    # u in [cdf[j-1], cdf[j]) maps to j, an interval of length p_j (empty when p_j = 0).
    return np.searchsorted(cdf, rng.random(shape), side="right").astype(np.int64)


def _as_csr(matrix, name: str, shape=None) -> sp.csr_matrix:
    if not sp.issparse(matrix):
        matrix = np.asarray(matrix)
        if matrix.ndim != 2:
            raise ValueError(f"{name} must be 2-D (n_users, n_items), got shape {matrix.shape}")
    matrix = sp.csr_matrix(matrix)
    if shape is not None and matrix.shape != tuple(shape):
        raise ValueError(f"{name} must have shape {tuple(shape)}, got {matrix.shape}")
    return matrix


def hard_negative_pool(ranked_items, clicked, start: int = 100, stop: int = 500) -> sp.csr_matrix:
    """Hard negatives (困难负样本) per user: ranks ``start``..``stop - 1`` of a recall, minus clicks.

    In production, hard negatives are items that recall returned but ranking cut. Without a
    ranker, the course takes the middle of a cheap first-pass recall list: good enough to be
    recalled (rank < ``stop``), not good enough to be kept (rank >= ``start``).

    Parameters
    ----------
    ranked_items : ndarray of shape (n_users, list_length)
        Each user's recalled item ids, best first, padded with -1.
    clicked : sparse matrix or ndarray of shape (n_users, n_items)
        Non-zero where the user clicked the item (those are positives, never negatives).
    start, stop : int
        0-based rank range ``[start, stop)`` kept as hard negatives.

    Returns
    -------
    scipy.sparse.csr_matrix of shape (n_users, n_items), bool
        True for each user's hard-negative candidates.

    Examples
    --------
    >>> ranked = np.array([[3, 0, 2, 1], [1, 2, -1, -1]])
    >>> clicked = np.array([[0, 0, 1, 0], [0, 0, 0, 0]])
    >>> hard_negative_pool(ranked, clicked, start=1, stop=4).toarray().astype(int).tolist()
    [[1, 1, 0, 0], [0, 0, 1, 0]]
    """
    ranked = np.asarray(ranked_items)
    if ranked.ndim != 2 or not np.issubdtype(ranked.dtype, np.integer):
        raise ValueError(f"ranked_items must be a 2-D integer array, got {ranked.dtype} {ranked.shape}")
    clicked = _as_csr(clicked, "clicked")
    n_users, n_items = clicked.shape
    if ranked.shape[0] != n_users:
        raise ValueError(f"ranked_items has {ranked.shape[0]} rows but clicked has {n_users} users")
    if ranked.max(initial=-1) >= n_items:
        raise ValueError(f"ranked_items holds item ids >= n_items = {n_items}")
    if not (isinstance(start, numbers.Integral) and isinstance(stop, numbers.Integral)
            and 0 <= start < stop):
        raise ValueError(f"need integers 0 <= start < stop, got start={start!r}, stop={stop!r}")
    window = ranked[:, start:stop]  # (n_users, stop - start)
    rows = np.repeat(np.arange(n_users), window.shape[1])
    cols = window.ravel()
    keep = cols >= 0  # drop the -1 padding
    pool = sp.csr_matrix((np.ones(keep.sum(), dtype=bool), (rows[keep], cols[keep])),
                         shape=(n_users, n_items))
    pool = pool - pool.multiply(clicked != 0)  # a clicked item is a positive
    pool.eliminate_zeros()
    return pool.astype(bool)


def exposed_unclicked_pool(user_ids, item_ids, clicks, n_users: int, n_items: int) -> sp.csr_matrix:
    """Items each user was shown (曝光) but never clicked: the WRONG negatives for recall.

    Parameters
    ----------
    user_ids, item_ids, clicks : array-like of shape (n_impressions,)
        Impression logs; ``clicks`` is 0/1. A pair exposed several times counts as clicked
        if any of its impressions was clicked.
    n_users, n_items : int

    Returns
    -------
    scipy.sparse.csr_matrix of shape (n_users, n_items), bool

    Examples
    --------
    >>> pool = exposed_unclicked_pool([0, 0, 0, 1], [2, 1, 2, 0], [0, 1, 1, 0], 2, 3)
    >>> pool.toarray().astype(int).tolist()  # (0, 2) was clicked once: not a negative
    [[0, 0, 0], [1, 0, 0]]
    """
    users, items = np.asarray(user_ids), np.asarray(item_ids)
    clicks = np.asarray(clicks)
    if not (users.ndim == items.ndim == clicks.ndim == 1 and users.size == items.size == clicks.size):
        raise ValueError("user_ids, item_ids and clicks must be 1-D arrays of the same length")
    if users.size and (users.min() < 0 or users.max() >= n_users or items.min() < 0
                       or items.max() >= n_items):
        raise ValueError(f"ids out of range: users must be in [0, {n_users}), items in [0, {n_items})")
    shown = sp.csr_matrix((np.ones(users.size), (users, items)), shape=(n_users, n_items))
    clicked = sp.csr_matrix((clicks.astype(np.float64), (users, items)), shape=(n_users, n_items))
    pool = (shown > 0).astype(np.int8) - (clicked > 0).astype(np.int8)  # duplicates summed first
    pool.eliminate_zeros()
    return pool.astype(bool)


def sample_from_pool(pool, user_ids, n: int, rng=0) -> np.ndarray:
    """Draw ``n`` items per user uniformly (with replacement) from each user's pool.

    Parameters
    ----------
    pool : scipy.sparse matrix of shape (n_users, n_items)
        Stored entries are the candidates (from :func:`hard_negative_pool` or
        :func:`exposed_unclicked_pool`).
    user_ids : array-like of shape (batch,)
    n : int
        Draws per user.
    rng : numpy.random.Generator or int seed

    Returns
    -------
    ndarray of shape (batch, n), int64
        Item ids; ``-1`` for every slot of a user whose pool is empty.

    Examples
    --------
    >>> pool = sp.csr_matrix(np.array([[0, 1, 1], [0, 0, 0]]))
    >>> draws = sample_from_pool(pool, [1, 0], n=1000, rng=0)
    >>> set(draws[0].tolist()), set(draws[1].tolist())  # user 1's pool is empty
    ({-1}, {1, 2})
    """
    pool = _as_csr(pool, "pool")
    users = np.asarray(user_ids)
    if users.ndim != 1 or (users.size and not np.issubdtype(users.dtype, np.integer)):
        raise ValueError(f"user_ids must be a 1-D integer array, got {users.dtype} {users.shape}")
    if users.size and (users.min() < 0 or users.max() >= pool.shape[0]):
        raise ValueError(f"user_ids must be in [0, {pool.shape[0]})")
    n = check_positive_int(n, "n")
    counts = np.diff(pool.indptr)[users]  # (batch,) candidates per user
    draws = as_generator(rng).random((users.size, n))  # (batch, n)
    offsets = np.floor(draws * counts[:, None]).astype(np.int64)  # uniform in [0, count)
    positions = pool.indptr[users][:, None] + offsets  # (batch, n) into pool.indices
    if pool.nnz == 0:
        return np.full((users.size, n), -1, dtype=np.int64)
    items = pool.indices[np.minimum(positions, pool.nnz - 1)]  # clipped: empty rows masked below
    return np.where(counts[:, None] > 0, items, -1).astype(np.int64)


def mix_negatives(easy, hard, hard_share: float, rng=0) -> np.ndarray:
    """Mix (混合) easy and hard negatives: each slot is hard with probability ``hard_share``.

    A slot whose hard negative is missing (``-1``: the user has no hard candidates) keeps its
    easy negative, so the realised share can fall below ``hard_share`` for such users.

    Parameters
    ----------
    easy, hard : ndarray of shape (batch, n)
    hard_share : float in [0, 1]
    rng : numpy.random.Generator or int seed

    Returns
    -------
    ndarray of shape (batch, n)

    Examples
    --------
    >>> easy, hard = np.zeros((1, 6), dtype=int), np.array([[7, 7, 7, -1, -1, -1]])
    >>> mix_negatives(easy, hard, hard_share=1.0).tolist()
    [[7, 7, 7, 0, 0, 0]]
    """
    easy, hard = np.asarray(easy), np.asarray(hard)
    if easy.shape != hard.shape:
        raise ValueError(f"easy and hard must have the same shape, got {easy.shape} and {hard.shape}")
    share = _check_share("hard_share", hard_share)
    take_hard = (as_generator(rng).random(easy.shape) < share) & (hard >= 0)
    return np.where(take_hard, hard, easy)


def make_negative_sampler(item_clicks, alpha: float = 0.75, hard_pool=None, hard_share: float = 0.0,
                          seed: int = 0, smoothing: float = 1.0) -> Callable[[np.ndarray, int], np.ndarray]:
    """A ``sampler(user_ids, n) -> (batch, n)`` of easy negatives mixed with pool negatives.

    The returned function owns one ``Generator(seed)``, so a fresh sampler replays the same
    negatives: build a new one for every training run you want to reproduce.

    Parameters
    ----------
    item_clicks : array-like of shape (n_items,)
        Click counts for the easy negatives (∝ (clicks + smoothing)^α).
    alpha : float >= 0
    hard_pool : scipy.sparse matrix of shape (n_users, n_items) or None
        Hard negatives (or, for the wrong-choice experiment, exposed-but-unclicked items).
    hard_share : float in [0, 1]
        Probability that a slot is drawn from ``hard_pool``; must be 0 without a pool.
    seed : int
    smoothing : float >= 0
        See :func:`popularity_probabilities`.

    Examples
    --------
    >>> sampler = make_negative_sampler([3, 0, 1], alpha=1.0, seed=0, smoothing=0)
    >>> negatives = sampler(np.array([0, 1]), 5)
    >>> negatives.shape, set(negatives.ravel().tolist()) <= {0, 2}
    ((2, 5), True)
    """
    probabilities = popularity_probabilities(item_clicks, alpha, smoothing)  # validates early
    share = _check_share("hard_share", hard_share)
    if hard_pool is None and share > 0:
        raise ValueError("hard_share > 0 needs a hard_pool")
    if hard_pool is not None:
        hard_pool = _as_csr(hard_pool, "hard_pool")
        if hard_pool.shape[1] != probabilities.size:
            raise ValueError(f"hard_pool has {hard_pool.shape[1]} items, item_clicks {probabilities.size}")
    rng = as_generator(seed)
    cdf = _cumulative(probabilities)  # once, not at every batch

    def sampler(user_ids, n: int) -> np.ndarray:
        easy = _draw(cdf, (len(user_ids), n), rng)  # (batch, n), as popularity_negatives draws them
        if hard_pool is None or share == 0:
            return easy
        hard = sample_from_pool(hard_pool, user_ids, n, rng)  # (batch, n), -1 if none
        return mix_negatives(easy, hard, share, rng)

    return sampler
