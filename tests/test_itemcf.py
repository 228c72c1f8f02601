"""ItemCF and the offline/online index (course.recall.cf.itemcf, course.recall.cf.index).

Compared against: set/loop brute-force twins on seeded random matrices, the note's 3 × 5 toy
matrix worked out by hand, and the identity "n·k index scoring == full-matrix score restricted
to the last-n items and the top-k neighbours".
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from course._checks import NotFittedError

from course.recall.cf import (cosine_item_similarity, item_to_items, ItemCF, keep_top_k_per_row,
                              score_from_index, top_k_per_row, user_to_last_items)

SEEDS = range(5)
NOTE_MATRIX = np.array([[5, 3, 0, 0, 2],
                        [2, 0, 0, 1, 4],
                        [0, 0, 4, 3, 0]], dtype=float)


# ----------------------------------------------------------------------------- brute-force twins
def random_weights(seed, n_users=14, n_items=10, density=0.35):
    """Continuous weights so that score ties (and so ordering ambiguity) have probability 0."""
    rng = np.random.default_rng(seed)
    mask = rng.random((n_users, n_items)) < density
    return np.where(mask, rng.uniform(0.5, 3.0, (n_users, n_items)), 0.0)


def naive_cosine(R):
    n_users, n_items = R.shape
    sim = np.zeros((n_items, n_items))
    for i in range(n_items):
        for j in range(n_items):
            if i == j:
                continue
            dot = sum(R[u, i] * R[u, j] for u in range(n_users))
            norm_i = math.sqrt(sum(R[u, i] ** 2 for u in range(n_users)))
            norm_j = math.sqrt(sum(R[u, j] ** 2 for u in range(n_users)))
            sim[i, j] = dot / (norm_i * norm_j) if norm_i and norm_j else 0.0
    return sim


def naive_top_n(scores: dict, n: int):
    """scores: item -> score. Positive scores only, best first, ties to the smaller item, -1 pad."""
    ranked = sorted((item for item, s in scores.items() if s > 0), key=lambda i: (-scores[i], i))
    return ranked[:n] + [-1] * (n - len(ranked[:n]))


def naive_recommend(R, S, users, n, exclude_seen):
    out = []
    for u in users:
        scores = {}
        for j in range(R.shape[1]):
            if exclude_seen and R[u, j] > 0:
                continue
            scores[j] = sum(R[u, i] * S[i, j] for i in range(R.shape[1]))
        out.append(naive_top_n(scores, n))
    return np.array(out)


# ----------------------------------------------------------------------------- the note's example
def test_note_toy_matrix_cosines_by_hand():
    # Item columns: 1 = (5,2,0), 2 = (3,0,0), 3 = (0,0,4), 4 = (0,1,3), 5 = (2,4,0).
    # (The note's own similarity table, e.g. sim(1, 3) = 0.2, is illustrative: items 1 and 3
    # share no user, so their cosine is 0.)
    expected = np.zeros((5, 5))
    pairs = {(0, 1): 15 / (3 * math.sqrt(29)), (0, 3): 2 / math.sqrt(290),
             (0, 4): 18 / math.sqrt(580), (1, 4): 6 / (3 * math.sqrt(20)),
             (2, 3): 12 / (4 * math.sqrt(10)), (3, 4): 4 / math.sqrt(200)}
    for (i, j), value in pairs.items():
        expected[i, j] = expected[j, i] = value
    S = cosine_item_similarity(NOTE_MATRIX).toarray()
    np.testing.assert_allclose(S, expected, rtol=1e-12, atol=1e-15)
    assert round(S[0, 1], 4) == 0.9285 and round(S[2, 3], 4) == 0.9487


def test_note_toy_matrix_recommendation_by_hand():
    # User 2 (row 1) saw items 1, 4, 5; unseen: 2 and 3.
    # score(2) = 2·sim(1,2) + 1·sim(4,2) + 4·sim(5,2) = 2·0.9285 + 0 + 4·0.4472
    # score(3) = 1·sim(4,3) = 0.9487
    model = ItemCF().fit(NOTE_MATRIX)
    scores = model.score([1]).toarray()[0]
    assert scores[1] == pytest.approx(2 * 5 / math.sqrt(29) + 4 * 2 / math.sqrt(20))
    assert scores[2] == pytest.approx(3 / math.sqrt(10))
    assert model.recommend([1], k=3, exclude=NOTE_MATRIX[[1]])[0].tolist() == [[1, 2, -1]]


# ----------------------------------------------------------------------------- similarity
@pytest.mark.parametrize("seed", SEEDS)
def test_cosine_matches_loops_and_sklearn(seed):
    from sklearn.metrics.pairwise import cosine_similarity

    R = random_weights(seed)
    R[:, 3] = 0.0  # an item nobody touched: all-zero row, no NaN
    S = ItemCF().fit(R).similarity_
    assert sp.isspmatrix_csr(S) or isinstance(S, sp.csr_array)
    dense = S.toarray()
    np.testing.assert_allclose(dense, naive_cosine(R), atol=1e-12)
    reference = cosine_similarity(R.T)
    np.fill_diagonal(reference, 0.0)
    np.testing.assert_allclose(dense, reference, atol=1e-12)
    assert np.all(np.diag(dense) == 0) and np.allclose(dense, dense.T)
    assert not np.isnan(dense).any() and np.all(dense[3] == 0)


def test_binarize_uses_sets():
    R = random_weights(1)
    binary = (R > 0).astype(float)
    np.testing.assert_allclose(ItemCF(binarize=True).fit(R).similarity_.toarray(),
                               naive_cosine(binary), atol=1e-12)


@pytest.mark.parametrize("seed", SEEDS)
def test_top_k_neighbours_keeps_k_largest_per_row(seed):
    R = random_weights(seed)
    full = ItemCF().fit(R).similarity_.toarray()
    pruned = ItemCF(top_k_neighbours=3).fit(R).similarity_.toarray()
    for i in range(full.shape[0]):
        positive = [j for j in range(full.shape[1]) if full[i, j] > 0]
        keep = sorted(positive, key=lambda j: (-full[i, j], j))[:3]
        expected = np.zeros(full.shape[1])
        expected[keep] = full[i, keep]
        np.testing.assert_allclose(pruned[i], expected)


# ----------------------------------------------------------------------------- recommend
@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("exclude_seen", [True, False])
def test_recommend_matches_brute_force(seed, exclude_seen):
    R = random_weights(seed)
    model = ItemCF().fit(R)
    users = np.array([0, 3, 5, 5, 13])
    got, scores = model.recommend(users, k=4, exclude=R[users] if exclude_seen else None)
    assert got.dtype.kind == "i" and got.shape == scores.shape == (5, 4)
    assert np.array_equal(got < 0, np.isneginf(scores))  # one padding convention: -1 / -inf
    np.testing.assert_array_equal(got, naive_recommend(R, naive_cosine(R), users, 4, exclude_seen))
    if exclude_seen:
        for row, u in zip(got, users):
            assert all(R[u, j] == 0 for j in row if j >= 0)


def test_recommend_pads_with_minus_one_when_candidates_run_out():
    R = np.array([[1, 1, 0, 0], [1, 0, 0, 0], [0, 0, 1, 1]], dtype=float)
    got, scores = ItemCF().fit(R).recommend([1, 2], k=3, exclude=R[[1, 2]])
    assert got.tolist() == [[1, -1, -1], [-1, -1, -1]]
    assert np.isneginf(scores[got < 0]).all()


# ----------------------------------------------------------------------------- offline/online index
def random_log(seed, n_users=12, n_items=15, n_events=120):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"user": rng.integers(0, n_users, n_events),
                         "item": rng.integers(0, n_items, n_events),
                         "weight": rng.choice([1.0, 2.0, 3.0], n_events),  # click / like / share
                         "time": rng.permutation(n_events)})


def naive_last_items(log, n_users, n):
    items = np.full((n_users, n), -1)
    weights = np.zeros((n_users, n))
    for u in range(n_users):
        rows = log[log.user == u]
        latest, total = {}, {}
        for item, weight, time in zip(rows.item, rows.weight, rows.time):
            latest[item] = max(latest.get(item, -np.inf), time)
            total[item] = total.get(item, 0.0) + weight
        ranked = sorted(latest, key=lambda i: (-latest[i], i))[:n]
        items[u, :len(ranked)] = ranked
        weights[u, :len(ranked)] = [total[i] for i in ranked]
    return items, weights


@pytest.mark.parametrize("seed", SEEDS)
def test_user_to_last_items_matches_loops(seed):
    log = random_log(seed)
    items, weights = user_to_last_items(log, n=4, n_users=12)
    expected_items, expected_weights = naive_last_items(log, 12, 4)
    np.testing.assert_array_equal(items, expected_items)
    np.testing.assert_allclose(weights, expected_weights)


@pytest.mark.parametrize("seed", SEEDS)
def test_item_to_items_matches_sorted_rows(seed):
    S = ItemCF().fit(random_weights(seed)).similarity_.toarray()
    neighbours, sims = ItemCF().fit(random_weights(seed)).item_to_items(3)
    for i in range(S.shape[0]):
        ranked = sorted((j for j in range(S.shape[1]) if S[i, j] > 0), key=lambda j: (-S[i, j], j))[:3]
        ranked += [-1] * (3 - len(ranked))
        assert neighbours[i].tolist() == ranked
        np.testing.assert_allclose(sims[i], [S[i, j] if j >= 0 else 0.0 for j in ranked])


@pytest.mark.parametrize("seed", SEEDS)
def test_index_scoring_equals_brute_force_and_restricted_full_score(seed):
    n_users, n_items, n_last, k, n = 12, 15, 4, 3, 5
    log = random_log(seed, n_users, n_items)
    R = sp.csr_matrix((log.weight, (log.user, log.item)), shape=(n_users, n_items))
    model = ItemCF().fit(R)
    last_items, last_weights = user_to_last_items(log, n_last, n_users=n_users)
    neighbours, sims = model.item_to_items(k)
    users = np.arange(n_users)
    got_items, got_scores = score_from_index(last_items[users], last_weights[users], neighbours,
                                             sims, n, exclude=R[users])
    # (1) brute force: walk the n·k candidates with dictionaries.
    for u in users:
        scores = {}
        for item, like in zip(last_items[u], last_weights[u]):
            if item < 0:
                continue
            for candidate, sim in zip(neighbours[item], sims[item]):
                if candidate >= 0 and R[u, candidate] == 0:
                    scores[candidate] = scores.get(candidate, 0.0) + like * sim
        expected = naive_top_n(scores, n)
        assert got_items[u].tolist() == expected
        np.testing.assert_allclose(got_scores[u], [scores.get(c, -np.inf) for c in expected])
    # (2) the same numbers as the full score R_last @ S_top with the seen items removed.
    rows = np.repeat(users, n_last)
    valid = last_items.ravel() >= 0
    R_last = sp.csr_matrix((last_weights.ravel()[valid], (rows[valid], last_items.ravel()[valid])),
                           shape=(n_users, n_items))
    S_top = ItemCF(top_k_neighbours=k).fit(R).similarity_
    full = (R_last @ S_top).toarray()
    full[R.toarray() > 0] = 0.0
    full_items, full_scores = top_k_per_row(sp.csr_matrix(full), n)
    np.testing.assert_array_equal(got_items, full_items)
    np.testing.assert_allclose(got_scores[got_items >= 0], full_scores[full_items >= 0], atol=1e-12)


def test_index_with_everything_equals_recommend():
    # With n_last >= items per user and k = n_items, the index recovers the full ItemCF ranking.
    R = sp.csr_matrix(random_weights(2))
    model = ItemCF().fit(R)
    last_items, last_weights = user_to_last_items(R, n=R.shape[1])
    neighbours, sims = model.item_to_items(R.shape[1])
    got, _ = score_from_index(last_items, last_weights, neighbours, sims, 5, exclude=R)
    np.testing.assert_array_equal(got, model.recommend(np.arange(R.shape[0]), 5, exclude=R)[0])


def test_keep_top_k_per_row_ties_go_to_smaller_index():
    M = sp.csr_matrix(np.array([[0.0, 1.0, 1.0, 1.0], [2.0, 0.0, 0.0, 0.0]]))
    assert keep_top_k_per_row(M, 2).toarray().tolist() == [[0, 1, 1, 0], [2, 0, 0, 0]]


# ----------------------------------------------------------------------------- validation
def test_input_validation():
    with pytest.raises(ValueError, match="2-D"):
        ItemCF().fit(np.ones((2, 2, 2)))
    with pytest.raises(ValueError, match="2-D"):
        ItemCF().fit(np.ones(3))
    with pytest.raises(ValueError, match="negative"):
        ItemCF().fit(np.array([[1.0, -1.0]]))
    with pytest.raises(ValueError, match="NaN"):
        ItemCF().fit(np.array([[1.0, np.nan]]))
    with pytest.raises(TypeError, match="numeric"):
        ItemCF().fit(np.array([["a", "b"]]))
    with pytest.raises(NotFittedError, match="fit"):
        ItemCF().recommend([0], k=2)
    assert issubclass(NotFittedError, ValueError)
    model = ItemCF().fit(NOTE_MATRIX)
    with pytest.raises(ValueError, match="range|lie in"):
        model.recommend([3], k=2)
    with pytest.raises(ValueError, match="lie in"):
        model.recommend([-1], k=2)
    with pytest.raises(ValueError, match=">= 1"):
        model.recommend([0], k=0)
    with pytest.raises(TypeError):
        model.recommend([0], k=2.5)
    with pytest.raises(ValueError, match=">= 1"):
        ItemCF(top_k_neighbours=0).fit(NOTE_MATRIX)
    with pytest.raises(ValueError, match="columns"):
        user_to_last_items(pd.DataFrame({"user": [0], "item": [1]}), n=2)
    with pytest.raises(ValueError, match="square"):
        item_to_items(sp.csr_matrix(np.ones((2, 3))), 1)


def test_top_k_excluding_matches_a_dense_loop():
    import course.recall.cf.top_n as top_n

    scores = sp.random(6, 9, density=0.5, random_state=1, format="csr")
    seen = sp.random(6, 9, density=0.3, random_state=2, format="csr")
    dense, dense_seen = scores.toarray(), seen.toarray() != 0
    for exclude_seen, n in [(True, 3), (False, 4), (True, 9)]:
        got, values = top_n.top_k_excluding(scores, n, seen if exclude_seen else None)
        assert np.isneginf(values[got < 0]).all() and (values[got >= 0] > 0).all()
        for row in range(6):
            keep = (dense[row] > 0) & ~(dense_seen[row] & exclude_seen)
            order = sorted(np.flatnonzero(keep), key=lambda j: (-dense[row, j], j))[:n]
            assert got[row].tolist() == order + [-1] * (n - len(order))


@pytest.mark.parametrize("seed", range(3))
def test_top_k_per_row_matches_a_per_row_sort_on_rows_of_very_different_lengths(seed):
    # row lengths from 0 to ~2000: the threshold step groups rows by length, and small blocks
    # force several padded tables per group
    from course.recall.cf.top_n import _kth_largest_per_row
    rng = np.random.default_rng(seed)
    lengths = np.concatenate([[0, 1, 5], rng.integers(0, 40, 50), rng.integers(200, 2000, 5)])
    dense = np.zeros((lengths.size, 2500))
    for row, length in enumerate(lengths):
        dense[row, rng.choice(2500, length, replace=False)] = rng.choice([0.25, 0.5, 1.0, 2.0, -1.0], length)
    matrix = sp.csr_matrix(dense)
    n = 7
    indices, values = top_k_per_row(matrix, n)
    for row in range(lengths.size):
        columns = np.flatnonzero(dense[row] > 0)
        best = columns[np.lexsort((columns, -dense[row, columns]))][:n]   # score desc, column asc
        assert indices[row, :best.size].tolist() == best.tolist()
        assert (indices[row, best.size:] == -1).all()
        np.testing.assert_array_equal(values[row, :best.size], dense[row, best])
    positive = sp.csr_matrix(np.where(dense > 0, dense, 0.0))
    rows = np.repeat(np.arange(lengths.size), np.diff(positive.indptr))
    small_blocks = _kth_largest_per_row(rows, positive.data, lengths.size, n, block=3000)
    expected = [np.sort(r[r > 0])[-n] if (r > 0).sum() > n else -np.inf for r in dense]
    np.testing.assert_array_equal(small_blocks, expected)
