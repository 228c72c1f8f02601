"""Beyond-accuracy metrics: catalogue coverage, intra-list diversity and novelty.

An accurate feed can still show everyone the same hundred popular notes. These metrics look at
the recommended lists alone (no labels) and say how much of the catalogue they use, how varied
each list is, and how far from the head of the popularity curve they reach.

Here item ids are integers ``0..n_items-1`` (row indices of ``item_vectors`` or
``item_popularity``); ``recommended`` is a list of per-user lists or a 2-D array, as in
:mod:`course.metrics.ranking`. As there, a negative id in a 2-D array is an empty slot (the
``-1`` padding of a short top-n list): it is not an item, so it covers nothing, is in no pair
and has no novelty; a padded array gives exactly what the shorter ragged lists give.
"""
from __future__ import annotations

import numpy as np
from scipy import sparse

from course.metrics._validation import as_1d_numeric, check_positive_int, flatten_lists

__all__ = ["catalogue_coverage", "intra_list_diversity", "novelty"]


def _integer_items(recommended, n_items: int):
    """The recommended ids (empty slots dropped) and each list's length, ids in [0, n_items)."""
    items, lengths = flatten_lists(recommended, "recommended")
    if items.size == 0:
        raise ValueError("recommended holds no items at all")
    if items.dtype.kind not in "iu":
        raise TypeError(f"item ids must be integers 0..n_items-1 here, got dtype {items.dtype}")
    if items.min() < 0 or items.max() >= n_items:
        raise ValueError(f"item ids must lie in [0, {n_items}), got ids in [{items.min()}, {items.max()}]")
    return items.astype(np.int64), lengths


def catalogue_coverage(recommended, n_items: int) -> float:
    """Catalogue coverage (覆盖率): the fraction of the catalogue recommended to anyone.

        coverage = |union of all recommended lists| / n_items

    (Ge, Delgado-Battenfeld & Jannach, 2010, "Beyond accuracy: evaluating recommender systems
    by coverage and serendipity".)

    Parameters
    ----------
    recommended : sequence of sequences of int, or ndarray of shape (n_users, list_length)
        Item ids per user; in a 2-D array, negative ids are empty slots.
    n_items : int
        Catalogue size; ids must be in ``[0, n_items)``.

    Returns
    -------
    float
        In (0, 1].

    Examples
    --------
    >>> catalogue_coverage([[0, 1], [1, 2]], n_items=6)
    0.5
    """
    n_items = check_positive_int(n_items, "n_items")
    items, _ = _integer_items(recommended, n_items)
    return float(np.unique(items).size / n_items)


def intra_list_diversity(recommended, item_vectors) -> float:
    """Intra-list diversity, ILD (列表内多样性): mean pairwise cosine distance within each list.

        ILD(list) = (2 / (L (L - 1))) sum_{i < j} (1 - cos(v_i, v_j)),   averaged over lists

    (Ziegler et al., 2005, "Improving recommendation lists through topic diversification".)
    Lists with fewer than two items have no pairs and are skipped.

    Vectorised with the identity sum_{i<j} <e_i, e_j> = (|sum_i e_i|^2 - sum_i |e_i|^2) / 2 on
    unit vectors e: O(n_entries * dim) with no (L, L) similarity matrix per list.

    Parameters
    ----------
    recommended : sequence of sequences of int, or ndarray of shape (n_users, list_length)
        Item ids per user; in a 2-D array, negative ids are empty slots.
    item_vectors : ndarray of shape (n_items, dim)
        One embedding (e.g. the content embedding) per item; no zero rows among recommended items.

    Returns
    -------
    float
        In [0, 2]; 0 when every list repeats one direction.

    Examples
    --------
    >>> vectors = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]])
    >>> intra_list_diversity([[0, 1], [0, 2]], vectors)  # (1 + 0) / 2
    0.5
    """
    vectors = np.asarray(item_vectors)
    if vectors.dtype.kind not in "biuf":
        raise TypeError(f"item_vectors must be numeric, got dtype {vectors.dtype}")
    if vectors.ndim != 2:
        raise ValueError(f"item_vectors must have shape (n_items, dim), got {vectors.shape}")
    items, lengths = _integer_items(recommended, vectors.shape[0])
    norms = np.linalg.norm(vectors, axis=1)
    if (norms[items] == 0).any():
        raise ValueError("a recommended item has a zero vector: cosine similarity is undefined")
    unit = vectors[items] / norms[items, None]  # (n_entries, dim)

    n_lists = lengths.size
    # Sparse (n_lists, n_entries) indicator: row u sums the unit vectors of list u.
    membership = sparse.csr_matrix(
        (np.ones(items.size), (np.repeat(np.arange(n_lists), lengths), np.arange(items.size))),
        shape=(n_lists, items.size),
    )
    list_sums = membership @ unit  # (n_lists, dim)
    pair_similarity_sum = ((list_sums**2).sum(axis=1) - lengths) / 2.0  # |e_i|^2 = 1
    n_pairs = lengths * (lengths - 1) / 2.0
    has_pairs = n_pairs > 0
    if not has_pairs.any():
        raise ValueError("every list has fewer than two items: no pairs to compare")
    per_list = 1.0 - pair_similarity_sum[has_pairs] / n_pairs[has_pairs]
    return float(per_list.mean())


def novelty(recommended, item_popularity) -> float:
    """Novelty (新颖性): mean self-information of the recommended items.

        novelty = mean over recommended items i of -log2( count_i / sum_j count_j )

    Recommending a popular item tells the user little; a long-tail (长尾) item a lot (Zhou et
    al., 2010, "Solving the apparent diversity-accuracy dilemma of recommender systems"). Every
    recommended slot counts once, so longer lists weigh more.

    Parameters
    ----------
    recommended : sequence of sequences of int, or ndarray of shape (n_users, list_length)
        Item ids per user; in a 2-D array, negative ids are empty slots.
    item_popularity : array-like of shape (n_items,)
        Interaction counts of every item in the catalogue (not only the recommended ones).

    Returns
    -------
    float
        In bits.

    Examples
    --------
    >>> novelty([[0], [1]], item_popularity=[2, 1, 1])  # (-log2 1/2 - log2 1/4) / 2
    1.5
    """
    counts = as_1d_numeric(item_popularity, "item_popularity")
    if counts.min() < 0:
        raise ValueError("item_popularity holds counts: they must be non-negative")
    items, _ = _integer_items(recommended, counts.size)
    if (counts[items] == 0).any():
        # -log2(0) is infinite; smoothing is a modelling choice the caller should make openly.
        raise ValueError("a recommended item has popularity 0; pass smoothed counts, e.g. item_popularity + 1")
    share = counts[items] / counts.sum()
    return float(-np.log2(share).mean())
