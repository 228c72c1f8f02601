"""Approximate nearest neighbour search (近似最近邻, ANN) with an inverted file index (倒排文件索引, IVF).

k-means (:func:`kmeans`) splits the item vectors into ``n_lists`` cells (Voronoi cells, one list
each); a query scores the ``n_lists`` centroids, keeps its ``n_probe`` best and scores exactly
only the items in those lists (:class:`IVFIndex`): about ``n_probe / n_lists`` of the work of
exact search (:func:`course.recall.ann.exact.exact_top_k`), at the price of missing true
neighbours that lie in cells it did not probe.

Reference: H. Jégou, M. Douze, C. Schmid, "Product quantization for nearest neighbor search",
IEEE TPAMI 2011 (the IVF structure); J. Johnson, M. Douze, H. Jégou, "Billion-scale similarity
search with GPUs", IEEE Trans. Big Data 2019 (faiss, whose ``IndexIVFFlat`` is the same idea).
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from course._checks import check_exclude, check_int, check_is_fitted, check_positive_int, check_rng
from course.recall.ann.exact import _as_matrix, _check_k, _check_metric, _normalise_rows, _sort_top

__all__ = ["kmeans", "IVFIndex"]


def _squared_distances_argmin(vectors: np.ndarray, centroids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Nearest centroid of every vector and the squared distance to it, chunked over vectors."""
    labels = np.empty(len(vectors), dtype=np.int64)
    best = np.empty(len(vectors), dtype=vectors.dtype)
    centroid_norms = (centroids ** 2).sum(axis=1)
    chunk = max(1, 2**22 // len(centroids))  # bound the (chunk, n_clusters) block to ~4M floats
    for start in range(0, len(vectors), chunk):
        block = vectors[start:start + chunk]
        # |x - c|^2 = |x|^2 - 2 x.c + |c|^2; the |x|^2 term does not change the argmin.
        partial = centroid_norms - 2 * block @ centroids.T  # (chunk, n_clusters)
        labels[start:start + chunk] = partial.argmin(axis=1)
        best[start:start + chunk] = partial[np.arange(len(block)), labels[start:start + chunk]]
    best += (vectors ** 2).sum(axis=1)
    return labels, np.maximum(best, 0)


def kmeans(vectors, n_clusters: int, max_iter: int = 20, seed=0, init=None) -> tuple[np.ndarray, np.ndarray]:
    """Lloyd's k-means with k-means++ seeding, vectorised in numpy.

    Minimises ``sum_i |x_i - c_{label_i}|^2`` by alternating: assign each vector to its nearest
    centroid, move each centroid to the mean of its vectors; stop when no label changes or after
    ``max_iter`` rounds. k-means++ (D. Arthur, S. Vassilvitskii, "k-means++: the advantages of
    careful seeding", SODA 2007) draws each initial centroid with probability proportional to
    the squared distance to the nearest one already chosen. An empty cluster is re-seeded with
    the vector farthest from its centroid (scikit-learn does the same).

    Parameters
    ----------
    vectors : ndarray of shape (n_vectors, dim)
    n_clusters : int
        ``1 <= n_clusters <= n_vectors``.
    max_iter : int, default 20
        A few rounds suffice for an index: lists need to be compact, not optimal.
    seed : int or numpy.random.Generator, default 0
    init : ndarray of shape (n_clusters, dim), optional
        Starting centroids instead of k-means++.

    Returns
    -------
    centroids : ndarray of shape (n_clusters, dim)
    labels : ndarray of shape (n_vectors,), int64

    Examples
    --------
    >>> points = np.array([[0.0, 0.0], [0.0, 1.0], [10.0, 0.0], [10.0, 1.0]])
    >>> centroids, labels = kmeans(points, 2, seed=0)
    >>> sorted(centroids.tolist())
    [[0.0, 0.5], [10.0, 0.5]]
    """
    vectors = _as_matrix(vectors, "vectors")
    n_vectors = len(vectors)
    n_clusters = check_int(n_clusters, "n_clusters", minimum=1, maximum=n_vectors)
    max_iter = check_positive_int(max_iter, "max_iter")
    rng = check_rng(seed, "seed")
    if init is not None:
        centroids = _as_matrix(init, "init").astype(vectors.dtype, copy=True)
        if centroids.shape != (n_clusters, vectors.shape[1]):
            raise ValueError(f"init must have shape {(n_clusters, vectors.shape[1])}, got {centroids.shape}")
    else:
        centroids = np.empty((n_clusters, vectors.shape[1]), dtype=vectors.dtype)
        centroids[0] = vectors[rng.integers(n_vectors)]
        nearest = ((vectors - centroids[0]) ** 2).sum(axis=1)
        for c in range(1, n_clusters):  # a loop over clusters; each step is vectorised over vectors
            cumulative = np.cumsum(nearest, dtype=np.float64)
            if cumulative[-1] > 0:  # inverse-CDF draw, robust to float32 rounding of the weights
                pick = min(int(np.searchsorted(cumulative, rng.random() * cumulative[-1], side="right")),
                           n_vectors - 1)
            else:  # every vector coincides with a chosen centroid
                pick = rng.integers(n_vectors)
            centroids[c] = vectors[pick]
            nearest = np.minimum(nearest, ((vectors - centroids[c]) ** 2).sum(axis=1))

    labels = np.full(n_vectors, -1, dtype=np.int64)
    for _ in range(max_iter):
        new_labels, distances = _squared_distances_argmin(vectors, centroids)
        if np.array_equal(new_labels, labels):
            break
        labels = new_labels
        counts = np.bincount(labels, minlength=n_clusters)
        empty = np.flatnonzero(counts == 0)
        if len(empty):
            far = np.argsort(-distances, kind="stable")[:len(empty)]
            labels[far] = empty
            counts = np.bincount(labels, minlength=n_clusters)
        # Cluster sums as one sparse (n_clusters, n_vectors) one-hot product.
        one_hot = sp.csr_array((np.ones(n_vectors, dtype=vectors.dtype), (labels, np.arange(n_vectors))),
                               shape=(n_clusters, n_vectors))
        sums = one_hot @ vectors  # (n_clusters, dim)
        # A cluster emptied by the relocation itself (rare) keeps its old centroid.
        centroids = np.where(counts[:, None] > 0, sums / np.maximum(counts, 1)[:, None], centroids)
    return centroids, labels


class IVFIndex:
    """Inverted file index (倒排文件索引, IVF): approximate nearest neighbour (近似最近邻) search.

    ``fit`` runs :func:`kmeans` (our own vectorised Lloyd's, seeded) to split the items into
    ``n_lists`` lists (Voronoi cells) and stores them contiguously, list by list. ``search``
    scores a query against the ``n_lists`` centroids, keeps its ``n_probe`` best (largest
    inner product, as faiss's ``IndexIVFFlat`` with an inner-product quantiser does), and
    scores exactly only the items in those lists.

    The recall-vs-speed trade-off: with lists of about equal size a query scores roughly
    ``n_probe / n_lists`` of the items (plus ``n_lists`` centroids), so ``n_probe`` is the knob.
    ``n_probe = n_lists`` scores everything and equals exact search; ``n_probe = 1`` is fastest
    but misses every true neighbour lying just across a cell boundary. Recall rises with
    ``n_probe`` (fast at first, then slowly) and clustered data needs fewer probes than
    uniform noise. A common start is ``n_lists ≈ sqrt(n_items)``. Measured on 100k clustered
    unit vectors (dim 64, 256 lists, one thread; ``benchmarks/bench_vector_index.py``):
    n_probe 1 / 4 / 16 / 64 gave recall@10 0.41 / 0.81 / 0.98 / 1.00 at 62 / 24 / 9 / 3.6
    times the speed of exact search.

    Parameters
    ----------
    n_lists : int, default 64
    n_probe : int, default 8
        Lists scanned per query, ``1 <= n_probe``; values above ``n_lists`` are clipped.
    metric : {"inner_product", "cosine"}
    seed : int, default 0
        Seeds k-means.
    max_iter : int, default 20
        k-means rounds.
    train_size : int, optional
        Fit k-means on a random sample of this many vectors, then assign every vector to its
        nearest centroid (faiss trains on a sample too: centroids need a few dozen points per
        list, not the whole catalogue). Default: k-means on every vector.

    Attributes
    ----------
    centroids_ : ndarray of shape (n_lists, dim)
    list_offsets_ : ndarray of shape (n_lists + 1,)
        List ``l`` holds ``list_items_[list_offsets_[l]:list_offsets_[l + 1]]``.
    list_items_ : ndarray of shape (n_items,)
        Item indices grouped by list.
    list_vectors_ : ndarray of shape (n_items, dim)
        Item vectors in the same order (unit-normalised for cosine), so a list is one slice.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> items, queries = rng.normal(size=(500, 8)), rng.normal(size=(20, 8))
    >>> from course.recall.ann.exact import exact_top_k
    >>> ivf = IVFIndex(n_lists=10, n_probe=10).fit(items)
    >>> bool((ivf.search(queries, 5)[0] == exact_top_k(queries, items, 5)[0]).all())
    True
    """

    def __init__(self, n_lists: int = 64, n_probe: int = 8, metric: str = "inner_product",
                 seed: int = 0, max_iter: int = 20, train_size: int | None = None):
        self.n_lists = n_lists
        self.n_probe = n_probe
        self.metric = metric
        self.seed = seed
        self.max_iter = max_iter
        self.train_size = train_size

    def fit(self, item_vectors) -> "IVFIndex":
        _check_metric(self.metric)
        item_vectors = _as_matrix(item_vectors, "item_vectors")
        if self.metric == "cosine":
            item_vectors = _normalise_rows(item_vectors)
        if self.train_size is None or self.train_size >= len(item_vectors):
            self.centroids_, labels = kmeans(item_vectors, self.n_lists, self.max_iter, self.seed)
        else:
            check_int(self.train_size, "train_size", minimum=self.n_lists)   # k-means needs n_lists points
            sample = np.random.default_rng(self.seed).choice(len(item_vectors), self.train_size, replace=False)
            self.centroids_, _ = kmeans(item_vectors[sample], self.n_lists, self.max_iter, self.seed)
            labels = _squared_distances_argmin(item_vectors, self.centroids_)[0]
        self.list_items_ = np.argsort(labels, kind="stable").astype(np.int64)
        self.list_offsets_ = np.concatenate([[0], np.cumsum(np.bincount(labels, minlength=self.n_lists))])
        self.list_vectors_ = item_vectors[self.list_items_]
        return self

    def search(self, queries, k: int, n_probe: int | None = None, chunk_size: int = 4096,
               exclude=None) -> tuple[np.ndarray, np.ndarray]:
        """Approximate top-``k`` per query.

        Loops over the lists, not the queries: each list's vectors are scored against all the
        queries probing it in one product, and that list's own top ``k`` is written into the
        query's candidate slot for the list; one last ``argpartition`` over the
        ``n_probe * k`` candidates per query gives the answer.

        Parameters
        ----------
        queries : ndarray of shape (n_queries, dim)
        k : int
        n_probe : int, optional
            Overrides ``self.n_probe`` for this call.
        chunk_size : int, default 4096
            Queries per pass (the candidate buffer holds ``chunk * n_probe * k`` scores).
        exclude : scipy.sparse matrix or bool ndarray of shape (n_queries, n_items), optional
            True where an item must not be returned to that query, as in :func:`exact_top_k`.

        Returns
        -------
        indices : ndarray of shape (n_queries, k), int64
            By descending score; ``-1`` where the probed lists held fewer than ``k`` items
            (after exclusions).
        scores : ndarray of shape (n_queries, k)
            ``-inf`` in the ``-1`` slots.
        """
        check_is_fitted(self, "centroids_")
        queries = _as_matrix(queries, "queries")
        if queries.shape[1] != self.centroids_.shape[1]:
            raise ValueError(f"queries have dim {queries.shape[1]}, the index has dim {self.centroids_.shape[1]}")
        k = _check_k(k, len(self.list_items_))
        n_probe = self.n_probe if n_probe is None else n_probe
        n_probe = check_positive_int(n_probe, "n_probe")
        n_probe = min(int(n_probe), self.n_lists)
        chunk_size = check_positive_int(chunk_size, "chunk_size")
        exclude = check_exclude(exclude, (len(queries), len(self.list_items_)))
        if self.metric == "cosine":
            queries = _normalise_rows(queries)
        results = [self._search_chunk(queries[start:start + chunk_size], k, n_probe,
                                      None if exclude is None else exclude[start:start + chunk_size])
                   for start in range(0, len(queries), chunk_size)]
        return np.concatenate([r[0] for r in results]), np.concatenate([r[1] for r in results])

    def work(self, queries, k: int, n_probe: int | None = None) -> dict[str, float]:
        """What one search costs, counted (deterministic, unlike a timing), mean per query.

        Exact search does ``n_items * dim`` multiply-adds per query, as one BLAS product. IVF
        does ``n_lists * dim`` to score the centroids, then ``scanned * dim`` on the items of the
        probed lists (scattered over ``n_probe`` smaller products), and merges up to
        ``n_probe * k`` candidates (each list's own top ``k``) into the answer.

        Returns
        -------
        dict
            ``lists_scored`` (= n_lists), ``items_scanned``, ``candidates_merged``,
            ``multiply_adds`` (IVF), ``exact_multiply_adds`` (``n_items * dim``).

        Examples
        --------
        >>> ivf = IVFIndex(n_lists=4, n_probe=4).fit(np.random.default_rng(0).normal(size=(100, 3)))
        >>> work = ivf.work(np.ones((2, 3)), k=5)
        >>> work["items_scanned"], work["multiply_adds"], work["exact_multiply_adds"]
        (100.0, 312.0, 300)
        """
        check_is_fitted(self, "centroids_")
        queries = _as_matrix(queries, "queries")
        n_probe = min(check_positive_int(self.n_probe if n_probe is None else n_probe, "n_probe"), self.n_lists)
        sizes = np.diff(self.list_offsets_)
        centroid_scores = queries @ self.centroids_.T  # (n_queries, n_lists)
        probes = np.argpartition(centroid_scores, self.n_lists - n_probe, axis=1)[:, self.n_lists - n_probe:]
        scanned = sizes[probes].sum(axis=1).mean()
        dim = self.centroids_.shape[1]
        return {"lists_scored": self.n_lists, "items_scanned": float(scanned),
                "candidates_merged": float(np.minimum(sizes[probes], k).sum(axis=1).mean()),
                "multiply_adds": float((self.n_lists + scanned) * dim),
                "exact_multiply_adds": len(self.list_items_) * dim}

    def _search_chunk(self, queries: np.ndarray, k: int, n_probe: int,
                      exclude=None) -> tuple[np.ndarray, np.ndarray]:
        n_queries = len(queries)
        centroid_scores = queries @ self.centroids_.T  # (n_queries, n_lists)
        probes = np.argpartition(centroid_scores, self.n_lists - n_probe, axis=1)[:, self.n_lists - n_probe:]
        # Group the (query, slot) pairs by list: pairs[starts[l]:starts[l + 1]] probe list l.
        flat_lists = probes.ravel()  # (n_queries * n_probe,)
        pairs = np.argsort(flat_lists, kind="stable")
        query_of, slot_of = pairs // n_probe, pairs % n_probe
        starts = np.concatenate([[0], np.cumsum(np.bincount(flat_lists, minlength=self.n_lists))])

        dtype = np.result_type(queries, self.list_vectors_)
        candidate_scores = np.full((n_queries, n_probe, k), -np.inf, dtype=dtype)
        candidate_items = np.full((n_queries, n_probe, k), -1, dtype=np.int64)
        for lst in range(self.n_lists):  # a loop over lists; each step is vectorised over queries
            lo, hi = self.list_offsets_[lst], self.list_offsets_[lst + 1]
            if starts[lst] == starts[lst + 1] or hi == lo:
                continue
            rows, slots = query_of[starts[lst]:starts[lst + 1]], slot_of[starts[lst]:starts[lst + 1]]
            scores = queries[rows] @ self.list_vectors_[lo:hi].T  # (n_rows, list_size)
            if exclude is not None:  # an excluded item can still fill a slot, at -inf: dropped below
                banned = exclude[rows][:, self.list_items_[lo:hi]].toarray()
                scores[banned] = -np.inf
            size = hi - lo
            if size > k:  # keep only this list's top k per query
                top = np.argpartition(scores, size - k, axis=1)[:, size - k:]  # (n_rows, k)
                candidate_scores[rows, slots] = np.take_along_axis(scores, top, axis=1)
                candidate_items[rows, slots] = self.list_items_[lo:hi][top]
            else:
                candidate_scores[rows, slots, :size] = scores
                candidate_items[rows, slots, :size] = self.list_items_[lo:hi]
        candidate_scores = candidate_scores.reshape(n_queries, n_probe * k)
        candidate_items = candidate_items.reshape(n_queries, n_probe * k)
        width = n_probe * k
        keep = np.argpartition(candidate_scores, width - k, axis=1)[:, width - k:]  # (n_queries, k)
        return _sort_top(np.take_along_axis(candidate_items, keep, axis=1),
                         np.take_along_axis(candidate_scores, keep, axis=1))
