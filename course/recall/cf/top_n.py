"""Sparse top-k per row: the selection every recall model ends with (ItemCF, Swing, UserCF,
the n·k index scoring of :mod:`course.recall.cf.index`).

From a sparse (users x items) score matrix, keep each row's ``k`` best strictly positive
entries, best first, padded with ``-1`` (score ``0``: these are index tables, summed as they
are) when a row has fewer; :func:`top_k_excluding`, behind every CF ``recommend``, turns the
padding scores into ``-inf``. Ties go to the smaller column index, so results are deterministic. One sort over the stored entries, no loop
over rows; a linear-time ``np.partition`` first drops most entries on wide rows.

Separate from :mod:`course.recall.cf.index` because it is array machinery with no
recommender idea in it: that module keeps the note's offline indexes and online scoring.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from course._checks import check_exclude, check_positive_int

__all__ = ["top_k_per_row", "first_k_per_row", "keep_top_k_per_row",
           "remove_seen", "top_k_excluding", "RecommendFromScores"]


def top_k_per_row(scores, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Top-k columns of every row of a sparse score matrix, best first.

    Only strictly positive entries are candidates; ties go to the smaller column index.
    One ``lexsort`` over all stored entries, no loop over rows.

    Parameters
    ----------
    scores : sparse matrix of shape (n_rows, n_columns)
    k : int
        List length, >= 1.

    Returns
    -------
    indices : ndarray of shape (n_rows, k), int64
        Column indices, padded with -1 when a row has fewer than k candidates.
    values : ndarray of shape (n_rows, k), float64
        Their scores, padded with 0.

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> idx, val = top_k_per_row(sp.csr_matrix([[0.0, 2.0, 1.0], [0.0, 0.0, 5.0]]), 2)
    >>> idx.tolist(), val.tolist()
    ([[1, 2], [2, -1]], [[2.0, 1.0], [5.0, 0.0]])
    """
    k = check_positive_int(k, "k")
    csr = sp.csr_matrix(scores, dtype=np.float64)
    csr.sum_duplicates()
    csr.sort_indices()  # entries in (row, column) order
    n_rows = csr.shape[0]
    rows = np.repeat(np.arange(n_rows), np.diff(csr.indptr))
    keep = csr.data > 0
    rows, cols, vals = rows[keep], csr.indices[keep], csr.data[keep]
    keep = vals >= _kth_largest_per_row(rows, vals, n_rows, k)[rows]
    rows, cols, vals = rows[keep], cols[keep], vals[keep]
    # Two stable sorts (score desc, then row) keep the (row, column) order among ties, so the
    # result is ordered by row, score desc, column asc; several times faster than np.lexsort.
    order = np.argsort(-vals, kind="stable")
    order = order[np.argsort(rows[order], kind="stable")]
    rows, cols, vals = rows[order], cols[order], vals[order]
    return first_k_per_row(rows, cols, vals, n_rows, k)


def first_k_per_row(rows, columns, values, n_rows: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Scatter each row's first ``k`` entries into (n_rows, k) tables padded with -1 and 0.

    ``rows`` must be sorted, each row's entries in the order wanted (best or newest first).

    Examples
    --------
    >>> idx, val = first_k_per_row(np.array([0, 0, 0, 2]), np.array([5, 3, 4, 1]),
    ...                            np.array([0.9, 0.5, 0.1, 0.7]), n_rows=3, k=2)
    >>> idx.tolist(), val.tolist()
    ([[5, 3], [-1, -1], [1, -1]], [[0.9, 0.5], [0.0, 0.0], [0.7, 0.0]])
    """
    rank = np.arange(rows.size) - np.searchsorted(rows, rows)  # position inside its row
    take = rank < k
    indices = np.full((n_rows, k), -1, dtype=np.int64)
    table = np.zeros((n_rows, k), dtype=np.float64)
    indices[rows[take], rank[take]] = columns[take]
    table[rows[take], rank[take]] = values[take]
    return indices, table


def _kth_largest_per_row(rows, vals, n_rows: int, k: int, block: int = 2**24) -> np.ndarray:
    """k-th largest value of each row (-inf if it has fewer than k); ``rows`` must be sorted.

    Used to drop most entries before the full sort (ties at the threshold are all kept, so
    the result is unchanged): np.partition is linear, sorting millions of floats is not.
    Rows are padded into (rows, width) tables for ``np.partition``; grouping them by length
    (widths within a factor 2) keeps the padding under twice the stored entries, where one
    table as wide as the longest row could hold a thousand times more cells.
    """
    thresholds = np.full(n_rows, -np.inf)
    counts = np.bincount(rows, minlength=n_rows)  # (n_rows,)
    starts = np.cumsum(counts) - counts           # (n_rows,) first entry of each row
    long_rows = np.flatnonzero(counts > k)        # shorter rows keep everything
    if long_rows.size == 0:
        return thresholds
    length_class = np.ceil(np.log2(counts[long_rows])).astype(np.int64)
    for group_class in np.unique(length_class):   # at most ~30 groups: a loop over sizes
        group = long_rows[length_class == group_class]
        width = int(counts[group].max())
        rows_per_block = max(1, block // width)   # bound the padded table's memory
        for first in range(0, group.size, rows_per_block):
            members = group[first:first + rows_per_block]              # (m,)
            lengths = counts[members]                                  # (m,)
            table_row = np.repeat(np.arange(members.size), lengths)    # (entries,)
            offset = np.arange(table_row.size) - np.repeat(np.cumsum(lengths) - lengths, lengths)
            padded = np.full((members.size, width), -np.inf)           # (m, width)
            padded[table_row, offset] = vals[np.repeat(starts[members], lengths) + offset]
            thresholds[members] = np.partition(padded, width - k, axis=1)[:, width - k]
    return thresholds


def keep_top_k_per_row(matrix, k: int) -> sp.csr_matrix:
    """Sparse copy of ``matrix`` keeping only the k largest positive entries of each row."""
    indices, values = top_k_per_row(matrix, k)
    rows = np.repeat(np.arange(indices.shape[0]), indices.shape[1])
    valid = indices.ravel() >= 0
    return sp.csr_matrix(
        (values.ravel()[valid], (rows[valid], indices.ravel()[valid])), shape=matrix.shape
    )


def top_k_excluding(scores, k: int, exclude=None) -> tuple[np.ndarray, np.ndarray]:
    """Top-k items per row after removing the excluded ones: what every CF ``recommend`` returns.

    ``top_k_per_row(scores - exclude)``: only items with a positive score are candidates.

    Parameters
    ----------
    scores : sparse matrix of shape (B, n_items)
    k : int
    exclude : sparse matrix or bool ndarray of shape (B, n_items), optional
        Non-zero entries are never returned (e.g. ``R[users]``: the items already seen).

    Returns
    -------
    items : ndarray of shape (B, k), int64, padded with -1
    scores : ndarray of shape (B, k), float64, padded with -inf

    Examples
    --------
    >>> items, scores = top_k_excluding(sp.csr_matrix([[0.5, 0.9, 0.1]]), 3,
    ...                                 exclude=sp.csr_matrix([[0, 1, 0]]))
    >>> items.tolist(), scores.tolist()
    ([[0, 2, -1]], [[0.5, 0.1, -inf]])
    """
    k = check_positive_int(k, "k")
    exclude = check_exclude(exclude, scores.shape)
    if exclude is not None:
        scores = remove_seen(scores, exclude)
    items, values = top_k_per_row(scores, k)
    values[items < 0] = -np.inf  # a padding slot is not an item: no score
    return items, values


def remove_seen(scores: sp.csr_matrix, seen) -> sp.csr_matrix:
    """Zero the entries of ``scores`` where ``seen`` is non-zero (exact: x - x == 0)."""
    mask = sp.csr_matrix(seen, dtype=np.float64, copy=True)
    mask.eliminate_zeros()  # a stored 0 is not "seen"
    mask.data[:] = 1.0
    scores = sp.csr_matrix(scores - scores.multiply(mask))
    scores.eliminate_zeros()
    return scores


class RecommendFromScores:
    """The one ``recommend`` of the CF recommenders (ItemCF, Swing, UserCF).

    A subclass defines ``score(user_indices) -> (B, n_items)`` (which checks that it is fitted
    and that the ids are valid); recommending is then the same for all of them.
    """

    def recommend(self, user_indices, k: int, exclude=None) -> tuple[np.ndarray, np.ndarray]:
        """Top-k items per user, best first: :func:`top_k_excluding` of :meth:`score`.

        Parameters
        ----------
        user_indices : array-like of int, shape (B,)
        k : int
        exclude : sparse matrix or bool ndarray of shape (B, n_items), optional
            Items never returned; pass ``R[user_indices]`` to drop the items already seen.

        Returns
        -------
        items : ndarray of shape (B, k), int64, padded with -1
        scores : ndarray of shape (B, k), float64, padded with -inf
        """
        return top_k_excluding(self.score(user_indices), k, exclude)
