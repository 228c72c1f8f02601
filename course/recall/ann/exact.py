"""Serving a two-tower model: nearest-neighbour search (最近邻查找) over precomputed item vectors.

Online, the user tower computes one user vector ``a`` per request; the item tower's vectors
``b`` were computed offline and stored in a vector index (向量数据库). Retrieval returns the
``k`` items with the largest score ``<a, b>`` (inner product) or ``cos(a, b)``.

Two ways to do it:

* :func:`exact_top_k` / :class:`ExactIndex`: brute force, one matrix product per chunk of
  queries and ``np.argpartition`` for the top ``k``: cost ``O(n_queries * n_items * dim)``.
* :class:`~course.recall.ann.ivf.IVFIndex` (in :mod:`course.recall.ann.ivf`): an
  inverted file index (倒排文件索引, IVF), an approximate nearest neighbour (近似最近邻, ANN)
  method: k-means splits the items into ``n_lists`` lists, and a query only scores the items
  of its ``n_probe`` closest lists, about ``n_probe / n_lists`` of the work, at the price of
  missing neighbours that fall in lists it did not probe.

Reference: H. Jégou, M. Douze, C. Schmid, "Product quantization for nearest neighbor search",
IEEE TPAMI 2011 (the IVF structure; faiss's ``IndexIVFFlat`` is the same idea).
"""
from __future__ import annotations

import numpy as np

from course._checks import check_exclude, check_is_fitted, check_positive_int


# Input checks and helpers shared with course.recall.ann.ivf (which imports them from here).
METRICS = ("inner_product", "cosine")

def _as_matrix(values, name: str) -> np.ndarray:
    """Validate a 2-D finite float matrix; integer input becomes float64."""
    array = np.asarray(values)
    if array.ndim != 2:
        raise ValueError(f"{name} must be 2-D (n, dim), got shape {array.shape}")
    if array.shape[0] == 0 or array.shape[1] == 0:
        raise ValueError(f"{name} must be non-empty, got shape {array.shape}")
    if not np.issubdtype(array.dtype, np.floating):
        if not np.issubdtype(array.dtype, np.number) or np.issubdtype(array.dtype, np.complexfloating):
            raise TypeError(f"{name} must be real numbers, got dtype {array.dtype}")
        array = array.astype(np.float64)
    if not np.isfinite(array).all():
        raise ValueError(f"{name} contains NaN or infinity")
    return array


def _check_metric(metric: str) -> None:
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {METRICS}, got {metric!r}")


def _check_k(k, n_items: int) -> int:
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)):
        raise TypeError(f"k must be an int, got {type(k).__name__}")
    if not 1 <= k <= n_items:
        raise ValueError(f"k must be in [1, n_items={n_items}], got {k}")
    return int(k)


def _normalise_rows(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    # A zero vector has no direction: leave it at zero so its cosine with everything is 0.
    return matrix / np.where(norms > 0, norms, 1)


def _sort_top(indices: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sort each row by descending score, ties by ascending item index (deterministic)."""
    order = np.lexsort((indices, -scores), axis=-1)  # last key is the primary one
    indices = np.take_along_axis(indices, order, axis=1)
    scores = np.take_along_axis(scores, order, axis=1)
    indices[np.isneginf(scores)] = -1  # an excluded / unreachable slot is not an item
    return indices, scores


def exact_top_k(queries, item_vectors, k: int, chunk_size: int = 4096,
                metric: str = "inner_product", exclude=None) -> tuple[np.ndarray, np.ndarray]:
    """Exact top-``k`` items per query by inner product or cosine, chunked over queries.

    ``score(q, i) = <q, b_i>`` (or ``<q, b_i> / (|q| |b_i|)`` for cosine). Each chunk of
    ``chunk_size`` queries costs one ``(chunk, dim) @ (dim, n_items)`` product and an
    ``np.argpartition`` (linear time) instead of a full sort, so memory stays at
    ``chunk_size * n_items`` scores whatever the number of queries.

    Parameters
    ----------
    queries : ndarray of shape (n_queries, dim)
        User vectors.
    item_vectors : ndarray of shape (n_items, dim)
        Item vectors.
    k : int
        Number of items per query, ``1 <= k <= n_items``.
    chunk_size : int, default 4096
        Queries scored at once (lower it when ``n_items`` is large).
    metric : {"inner_product", "cosine"}
    exclude : scipy.sparse matrix or bool ndarray of shape (n_queries, n_items), optional
        True where an item must not be returned to that query (already seen or exposed).

    Returns
    -------
    indices : ndarray of shape (n_queries, k), int64
        Item indices by descending score (ties: smaller index first). If exclusions leave a
        query fewer than ``k`` items, the remaining slots hold ``-1``.
    scores : ndarray of shape (n_queries, k)
        The matching scores (``-inf`` in the ``-1`` slots).

    Examples
    --------
    >>> items = np.array([[1.0, 0.0], [0.0, 1.0], [0.7, 0.7]])
    >>> indices, scores = exact_top_k(np.array([[1.0, 0.2]]), items, k=2)
    >>> indices.tolist(), scores.round(2).tolist()
    ([[0, 2]], [[1.0, 0.84]])
    >>> exact_top_k(np.array([[1.0, 0.2]]), items, k=2, exclude=np.array([[True, False, False]]))[0]
    array([[2, 1]])
    """
    queries = _as_matrix(queries, "queries")
    item_vectors = _as_matrix(item_vectors, "item_vectors")
    _check_metric(metric)
    n_queries, n_items = queries.shape[0], item_vectors.shape[0]
    if queries.shape[1] != item_vectors.shape[1]:
        raise ValueError(f"queries have dim {queries.shape[1]} but item_vectors have dim "
                         f"{item_vectors.shape[1]}")
    k = _check_k(k, n_items)
    chunk_size = check_positive_int(chunk_size, "chunk_size")
    exclude = check_exclude(exclude, (n_queries, n_items))  # stored False / 0 excludes nothing
    if metric == "cosine":
        queries, item_vectors = _normalise_rows(queries), _normalise_rows(item_vectors)

    all_indices = np.empty((n_queries, k), dtype=np.int64)
    all_scores = np.empty((n_queries, k), dtype=np.result_type(queries, item_vectors))
    items_t = np.ascontiguousarray(item_vectors.T)
    for start in range(0, n_queries, chunk_size):
        stop = min(start + chunk_size, n_queries)
        scores = queries[start:stop] @ items_t  # (chunk, n_items)
        if exclude is not None:
            block = exclude[start:stop]
            rows = np.repeat(np.arange(stop - start), np.diff(block.indptr))
            scores[rows, block.indices] = -np.inf
        # argpartition puts the k largest last (unordered): O(n_items) per row, not a sort.
        top = np.argpartition(scores, n_items - k, axis=1)[:, n_items - k:]  # (chunk, k)
        top_scores = np.take_along_axis(scores, top, axis=1)
        all_indices[start:stop], all_scores[start:stop] = _sort_top(top.astype(np.int64), top_scores)
    return all_indices, all_scores


class ExactIndex:
    """Brute-force index: :func:`exact_top_k` behind a ``fit`` / ``search`` interface.

    Parameters
    ----------
    metric : {"inner_product", "cosine"}

    Attributes
    ----------
    item_vectors_ : ndarray of shape (n_items, dim)
        The stored vectors (unit-normalised for cosine).

    Examples
    --------
    >>> index = ExactIndex().fit(np.eye(3))
    >>> index.search(np.array([[0.1, 0.9, 0.5]]), k=2)[0]
    array([[1, 2]])
    """

    def __init__(self, metric: str = "inner_product"):
        self.metric = metric

    def fit(self, item_vectors) -> "ExactIndex":
        _check_metric(self.metric)
        item_vectors = _as_matrix(item_vectors, "item_vectors")
        # Normalise once at build time, as a vector database would store them.
        self.item_vectors_ = _normalise_rows(item_vectors) if self.metric == "cosine" else item_vectors
        return self

    def search(self, queries, k: int, exclude=None) -> tuple[np.ndarray, np.ndarray]:
        """Top-``k`` (indices, scores), each of shape (n_queries, k); see :func:`exact_top_k`."""
        check_is_fitted(self, "item_vectors_")
        return exact_top_k(queries, self.item_vectors_, k, metric=self.metric, exclude=exclude)


def recall_at_k_vs_exact(approx_indices, exact_indices) -> float:
    """Share of the exact top-``k`` that the approximate search also returned.

    ``recall = mean over queries of |approx_q ∩ exact_q| / k``; ``-1`` slots never count.

    Parameters
    ----------
    approx_indices, exact_indices : ndarray of shape (n_queries, k)

    Examples
    --------
    >>> recall_at_k_vs_exact(np.array([[3, 1], [5, -1]]), np.array([[1, 3], [5, 6]]))
    0.75
    """
    approx = np.asarray(approx_indices)
    exact = np.asarray(exact_indices)
    if approx.ndim != 2 or approx.shape != exact.shape or approx.size == 0:
        raise ValueError(f"expected two non-empty (n_queries, k) arrays of the same shape, got "
                         f"{approx.shape} and {exact.shape}")
    n_queries, k = exact.shape
    # Offset every row into its own id range so one np.isin compares row by row.
    span = int(max(approx.max(), exact.max())) + 2
    rows = np.arange(n_queries)[:, None] * span
    hits = np.isin(approx + rows, np.where(exact >= 0, exact + rows, -1)) & (approx >= 0)
    return float(hits.sum() / (n_queries * k))


__all__ = ["exact_top_k", "ExactIndex", "recall_at_k_vs_exact"]
