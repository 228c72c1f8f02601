"""UserCF (course.recall.cf.usercf) against set/loop brute-force twins and the popularity property."""
from __future__ import annotations

import math

import numpy as np
import pytest
from course._checks import NotFittedError

from course.recall.cf import UserCF, user_similarity

SEEDS = range(5)


def random_matrix(seed, n_users=15, n_items=12, density=0.35):
    rng = np.random.default_rng(seed)
    mask = rng.random((n_users, n_items)) < density
    return np.where(mask, rng.uniform(0.5, 3.0, (n_users, n_items)), 0.0)


def naive_user_similarity(R):
    n_users, n_items = R.shape
    items_of = [set(np.flatnonzero(R[u])) for u in range(n_users)]
    popularity = [sum(1 for u in range(n_users) if R[u, l] > 0) for l in range(n_items)]
    sim = np.zeros((n_users, n_users))
    for a in range(n_users):
        for b in range(n_users):
            if a == b or not items_of[a] or not items_of[b]:
                continue
            shared = sum(1 / math.log(1 + popularity[l]) for l in items_of[a] & items_of[b])
            sim[a, b] = shared / math.sqrt(len(items_of[a]) * len(items_of[b]))
    return sim


def naive_scores(R, candidates, k, u, exclude_seen=True):
    sim = naive_user_similarity(R)
    neighbours = sorted((v for v in range(R.shape[0]) if sim[u, v] > 0), key=lambda v: (-sim[u, v], v))[:k]
    return {i: sum(sim[u, v] * candidates[v, i] for v in neighbours)
            for i in range(R.shape[1]) if not (exclude_seen and R[u, i] > 0)}


@pytest.mark.parametrize("seed", SEEDS)
def test_similarity_matches_brute_force(seed):
    R = random_matrix(seed)
    R[4] = 0.0  # a user with no history: zero row, no NaN
    S = UserCF().fit(R).similarity_.toarray()
    np.testing.assert_allclose(S, naive_user_similarity(R), rtol=1e-12, atol=1e-15)
    assert np.all(np.diag(S) == 0) and np.allclose(S, S.T) and np.all(S[4] == 0)


def test_hand_computed():
    # Users 0 and 1 share item 0 (3 users took it) and item 1 (2 users took it); |J0| = 2, |J1| = 3.
    R = np.array([[1, 1, 0], [1, 1, 1], [1, 0, 0]], dtype=float)
    expected = (1 / math.log(4) + 1 / math.log(3)) / math.sqrt(2 * 3)
    assert user_similarity(R)[0, 1] == pytest.approx(expected)


def test_popular_items_count_less():
    # Pair (0, 1) shares a niche item, pair (2, 3) a popular one; otherwise symmetric.
    R = np.zeros((10, 4))
    R[[0, 1], 0] = 1  # niche item: 2 users
    R[2:, 1] = 1  # popular item: 8 users
    R[[0, 2], 2] = 1
    R[[1, 3], 3] = 1
    S = user_similarity(R).toarray()
    assert S[0, 1] > S[2, 3] > 0


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("exclude_seen", [True, False])
def test_recommend_matches_brute_force(seed, exclude_seen):
    R = random_matrix(seed)
    k, n = 4, 5
    got = UserCF(n_neighbours=k).fit(R).recommend(np.arange(R.shape[0]), n, exclude=R if exclude_seen else None)[0]
    for u in range(R.shape[0]):
        scores = naive_scores(R, R, k, u, exclude_seen)
        best = sorted((s for s in scores.values() if s > 0), reverse=True)[:n]
        items = [i for i in got[u] if i >= 0]
        assert len(items) == len(best) and all(i in scores for i in items)
        # Compare scores, not ids: neighbours with the same items give exactly tied scores.
        np.testing.assert_allclose([scores[i] for i in items], best, rtol=1e-12)


def test_recent_weights_replace_r_in_the_score():
    R = random_matrix(1)
    rng = np.random.default_rng(7)
    recent = R * rng.random(R.shape)  # e.g. weights times a time decay
    model = UserCF(n_neighbours=3).fit(R, recent_weights=recent)
    # Similarity still from R; candidate scores from the recent matrix.
    np.testing.assert_allclose(model.similarity_.toarray(), naive_user_similarity(R), atol=1e-15)
    for u in range(R.shape[0]):
        scores = naive_scores(R, recent, 3, u)
        np.testing.assert_allclose(model.score([u]).toarray()[0][list(scores)], list(scores.values()),
                                   atol=1e-12)


def test_neighbour_matrix_keeps_k_per_row():
    model = UserCF(n_neighbours=2).fit(random_matrix(0))
    assert np.all(np.diff(model.neighbour_similarity_.indptr) <= 2)


def test_validation():
    with pytest.raises(NotFittedError, match="fit"):
        UserCF().recommend([0], k=3)
    with pytest.raises(ValueError, match=">= 1"):
        UserCF(n_neighbours=0).fit(np.eye(3))
    with pytest.raises(ValueError, match="negative"):
        UserCF().fit(-np.eye(3))
    with pytest.raises(ValueError, match="shape"):
        UserCF().fit(np.eye(3), recent_weights=np.eye(4))
    model = UserCF().fit(np.eye(3))
    with pytest.raises(ValueError, match="lie in"):
        model.recommend([5], k=3)
    with pytest.raises(ValueError, match="1-D"):
        model.recommend([[0]], k=3)
    with pytest.raises(ValueError, match=">= 1"):
        model.recommend([0], k=0)
