"""Exact and IVF nearest-neighbour search against brute-force sorting and scikit-learn."""
import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.cluster import KMeans

from course.recall.ann import ExactIndex, IVFIndex, exact_top_k, kmeans, recall_at_k_vs_exact


def brute_force_top_k(queries, items, k, metric="inner_product", exclude=None):
    """The naive reference: score every pair, fully sort each query's row."""
    if metric == "cosine":
        queries = queries / np.linalg.norm(queries, axis=1, keepdims=True)
        items = items / np.linalg.norm(items, axis=1, keepdims=True)
    indices, scores = [], []
    for q, query in enumerate(queries):
        row = np.array([float(query @ item) for item in items])
        candidates = [i for i in range(len(items)) if exclude is None or not exclude[q, i]]
        ranked = sorted(candidates, key=lambda i: -row[i])[:k]
        indices.append(ranked + [-1] * (k - len(ranked)))
        scores.append([row[i] for i in ranked] + [-np.inf] * (k - len(ranked)))
    return np.array(indices), np.array(scores)


def clustered(n_points, n_centres, dim, rng, spread=0.3):
    centres = rng.normal(size=(n_centres, dim)) * 3
    return centres[rng.integers(n_centres, size=n_points)] + spread * rng.normal(size=(n_points, dim))


@pytest.mark.parametrize("metric", ["inner_product", "cosine"])
@pytest.mark.parametrize("chunk_size", [1, 7, 4096])
def test_exact_top_k_matches_full_sort(metric, chunk_size):
    rng = np.random.default_rng(0)
    queries, items = rng.normal(size=(23, 6)), rng.normal(size=(50, 6)) * rng.uniform(0.2, 3, (50, 1))
    indices, scores = exact_top_k(queries, items, 10, chunk_size=chunk_size, metric=metric)
    ref_indices, ref_scores = brute_force_top_k(queries, items, 10, metric)
    np.testing.assert_array_equal(indices, ref_indices)
    np.testing.assert_allclose(scores, ref_scores, rtol=1e-12)


def test_cosine_and_inner_product_disagree_when_norms_vary():
    # Item 0 points the same way as the query, item 1 is long but off-axis: the metrics differ.
    items = np.array([[1.0, 0.0], [3.0, 3.0]])
    assert exact_top_k(np.array([[1.0, 0.0]]), items, 1, metric="inner_product")[0][0, 0] == 1
    assert exact_top_k(np.array([[1.0, 0.0]]), items, 1, metric="cosine")[0][0, 0] == 0


def test_exclude_mask_across_chunks_and_exhaustion():
    rng = np.random.default_rng(1)
    queries, items = rng.normal(size=(11, 4)), rng.normal(size=(9, 4))
    mask = rng.random((11, 9)) < 0.4
    mask[3, :] = True                   # nothing left: all slots are -1
    mask[4, :7] = True                  # only two items left for k=3
    mask[0, 0] = True
    exclude = sp.csr_matrix(mask)
    exclude.data[0] = False             # an explicitly stored False must not exclude
    mask[0, 0] = False
    indices, scores = exact_top_k(queries, items, 3, chunk_size=4, exclude=exclude)
    ref_indices, ref_scores = brute_force_top_k(queries, items, 3, exclude=mask)
    np.testing.assert_array_equal(indices, ref_indices)
    np.testing.assert_allclose(scores, ref_scores)
    assert (indices[3] == -1).all() and indices[4, 2] == -1


def test_exact_index_class_and_k_equals_n_items():
    rng = np.random.default_rng(2)
    queries, items = rng.normal(size=(5, 3)), rng.normal(size=(8, 3))
    got = ExactIndex("cosine").fit(items).search(queries, 8)
    ref = brute_force_top_k(queries, items, 8, "cosine")
    np.testing.assert_array_equal(got[0], ref[0])


def test_kmeans_matches_sklearn_lloyd_from_same_init():
    rng = np.random.default_rng(3)
    points = clustered(400, 6, 5, rng, spread=1.0)
    init = points[rng.choice(400, 6, replace=False)]
    centroids, labels = kmeans(points, 6, max_iter=300, init=init)
    reference = KMeans(6, init=init, n_init=1, max_iter=300, tol=0, algorithm="lloyd").fit(points)
    np.testing.assert_allclose(centroids, reference.cluster_centers_, atol=1e-9)
    np.testing.assert_array_equal(labels, reference.labels_)


def test_kmeans_relocates_an_empty_cluster_like_sklearn():
    rng = np.random.default_rng(8)
    points = clustered(200, 3, 2, rng, spread=1.0)
    init = np.vstack([points[:2], [[1e3, 1e3]]])  # the far centroid wins no point at first
    centroids, labels = kmeans(points, 3, max_iter=300, init=init)
    reference = KMeans(3, init=init, n_init=1, max_iter=300, tol=0, algorithm="lloyd").fit(points)
    assert np.bincount(labels, minlength=3).min() > 0
    np.testing.assert_allclose(centroids, reference.cluster_centers_, atol=1e-9)


def test_kmeans_plus_plus_recovers_separated_blobs_and_is_seeded():
    rng = np.random.default_rng(4)
    centres = np.array([[0, 0], [50, 0], [0, 50], [50, 50]], dtype=float)
    truth = np.repeat(np.arange(4), 30)
    points = centres[truth] + rng.normal(size=(120, 2))
    _, labels = kmeans(points, 4, seed=0)
    # Same partition up to relabelling: each true blob maps to exactly one label.
    assert len({(t, l) for t, l in zip(truth, labels)}) == 4
    np.testing.assert_array_equal(kmeans(points, 4, seed=5)[0], kmeans(points, 4, seed=5)[0])


@pytest.mark.parametrize("metric", ["inner_product", "cosine"])
def test_ivf_with_all_lists_probed_equals_exact(metric):
    rng = np.random.default_rng(5)
    items, queries = clustered(600, 8, 8, rng), rng.normal(size=(40, 8))
    ivf = IVFIndex(n_lists=12, n_probe=12, metric=metric, seed=0).fit(items)
    assert ivf.list_offsets_[-1] == 600 and sorted(ivf.list_items_) == list(range(600))
    indices, scores = ivf.search(queries, 10)
    ref_indices, ref_scores = exact_top_k(queries, items, 10, metric=metric)
    np.testing.assert_array_equal(indices, ref_indices)
    np.testing.assert_allclose(scores, ref_scores, rtol=1e-10)
    chunked = ivf.search(queries, 10, n_probe=3, chunk_size=7)  # chunk boundaries change nothing
    np.testing.assert_array_equal(chunked[0], ivf.search(queries, 10, n_probe=3)[0])


def test_ivf_recall_rises_with_n_probe_on_clustered_data():
    rng = np.random.default_rng(6)
    items = clustered(3000, 20, 16, rng)
    queries = clustered(200, 20, 16, rng)
    exact = exact_top_k(queries, items, 10, metric="cosine")[0]
    ivf = IVFIndex(n_lists=30, metric="cosine", seed=0).fit(items)
    recalls = [recall_at_k_vs_exact(ivf.search(queries, 10, n_probe=p)[0], exact)
               for p in (1, 2, 4, 8, 16, 30)]
    assert all(a <= b + 1e-12 for a, b in zip(recalls, recalls[1:])), recalls
    assert recalls[-1] == 1.0 and recalls[0] < 1.0
    # The scores returned are true scores of the returned items (approximation only in *which*).
    indices, scores = ivf.search(queries, 10, n_probe=2)
    unit = items / np.linalg.norm(items, axis=1, keepdims=True)
    q_unit = queries / np.linalg.norm(queries, axis=1, keepdims=True)
    valid = indices >= 0
    np.testing.assert_allclose(scores[valid], np.einsum("qd,qkd->qk", q_unit, unit[indices])[valid])


def test_recall_helper_against_set_intersection():
    rng = np.random.default_rng(7)
    approx = np.array([rng.choice(30, 5, replace=False) for _ in range(20)])
    exact = np.array([rng.choice(30, 5, replace=False) for _ in range(20)])
    expected = np.mean([len(set(a) & set(e)) / 5 for a, e in zip(approx, exact)])
    assert recall_at_k_vs_exact(approx, exact) == pytest.approx(expected)
    assert recall_at_k_vs_exact(exact, exact) == 1.0


def test_errors():
    items, queries = np.ones((5, 3)), np.ones((2, 3))
    with pytest.raises(ValueError, match=r"k must be an int in \[1, 5\]"):
        exact_top_k(queries, items, 6)
    with pytest.raises(ValueError, match=r"k must be an int in \[1, 5\]"):
        exact_top_k(queries, items, 0)
    with pytest.raises(TypeError):
        exact_top_k(queries, items, 2.0)
    with pytest.raises(ValueError, match="dim"):
        exact_top_k(np.ones((2, 4)), items, 2)
    with pytest.raises(ValueError, match="metric"):
        exact_top_k(queries, items, 2, metric="l1")
    with pytest.raises(ValueError, match="exclude"):
        exact_top_k(queries, items, 2, exclude=sp.csr_matrix((3, 5), dtype=bool))
    with pytest.raises(ValueError, match="NaN"):
        exact_top_k(np.full((1, 3), np.nan), items, 2)
    with pytest.raises(ValueError, match="n_clusters"):
        IVFIndex(n_lists=6).fit(items)
    ivf = IVFIndex(n_lists=2, n_probe=1).fit(np.arange(15.0).reshape(5, 3))
    with pytest.raises(ValueError, match="dim"):
        ivf.search(np.ones((1, 2)), 1)
    with pytest.raises(ValueError, match=r"k must be an int in \[1, 5\]"):
        ivf.search(queries, 6)
    with pytest.raises(ValueError, match="n_probe"):
        ivf.search(queries, 1, n_probe=0)
    with pytest.raises(ValueError, match="fit"):
        IVFIndex().search(queries, 1)
    with pytest.raises(ValueError, match="same shape"):
        recall_at_k_vs_exact(np.ones((2, 3)), np.ones((2, 2)))


def test_ivf_train_size_fits_on_a_sample_and_assigns_every_item():
    rng = np.random.default_rng(3)
    items = rng.normal(size=(2000, 6))
    ivf = IVFIndex(n_lists=16, n_probe=16, train_size=400, seed=0).fit(items)
    assert ivf.list_offsets_[-1] == 2000 and sorted(ivf.list_items_) == list(range(2000))
    # every item sits in the list of its nearest centroid (squared L2, as k-means assigns)
    labels = np.repeat(np.arange(16), np.diff(ivf.list_offsets_))
    distances = ((items[ivf.list_items_, None, :] - ivf.centroids_[None]) ** 2).sum(axis=2)
    np.testing.assert_array_equal(labels, distances.argmin(axis=1))
    queries = rng.normal(size=(5, 6))  # all lists probed: still exact
    np.testing.assert_array_equal(ivf.search(queries, 7)[0], exact_top_k(queries, items, 7)[0])
    with pytest.raises(ValueError, match="train_size"):
        IVFIndex(n_lists=16, train_size=8).fit(items)


def test_ivf_work_counts_the_probed_lists():
    rng = np.random.default_rng(4)
    items, queries = rng.normal(size=(500, 4)), rng.normal(size=(20, 4))
    ivf = IVFIndex(n_lists=10, seed=0).fit(items)
    sizes = np.diff(ivf.list_offsets_)
    work = ivf.work(queries, k=3, n_probe=2)
    probes = np.argsort(-(queries @ ivf.centroids_.T), axis=1)[:, :2]  # the brute-force twin
    assert work["items_scanned"] == pytest.approx(sizes[probes].sum(1).mean())
    assert work["candidates_merged"] == pytest.approx(np.minimum(sizes[probes], 3).sum(1).mean())
    assert work["multiply_adds"] == pytest.approx((10 + work["items_scanned"]) * 4)
    assert work["exact_multiply_adds"] == 500 * 4
    assert ivf.work(queries, k=3, n_probe=10)["items_scanned"] == 500
