"""Swing (course.recall.cf.swing) against a set-based brute force, hand cases and the small-circle
property that motivates it (小圈子: ItemCF is fooled, Swing is not)."""
from __future__ import annotations

import itertools

import numpy as np
import pytest
from course._checks import NotFittedError

from course.recall.cf import ItemCF, Swing, swing_similarity

SEEDS = range(5)


def naive_swing(R, alpha=1.0, beta=0.0, offset=15.0):
    """Literal definition: sum over unordered pairs of distinct users in U_i ∩ U_j."""
    n_users, n_items = R.shape
    items_of = [set(np.flatnonzero(R[u])) for u in range(n_users)]
    users_of = [set(np.flatnonzero(R[:, i])) for i in range(n_items)]
    weight = [(len(items_of[u]) + offset) ** (-beta) if items_of[u] else 0.0 for u in range(n_users)]
    sim = np.zeros((n_items, n_items))
    for i, j in itertools.combinations(range(n_items), 2):
        total = 0.0
        for u, v in itertools.combinations(sorted(users_of[i] & users_of[j]), 2):
            total += weight[u] * weight[v] / (alpha + len(items_of[u] & items_of[v]))
        sim[i, j] = sim[j, i] = total
    return sim


def random_matrix(seed, n_users=16, n_items=11, density=0.4):
    rng = np.random.default_rng(seed)
    mask = rng.random((n_users, n_items)) < density
    return np.where(mask, rng.uniform(0.5, 3.0, (n_users, n_items)), 0.0)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("alpha, beta, offset", [(1.0, 0.0, 15.0), (0.5, 0.3, 15.0), (0.0, 1.0, 2.0)])
def test_swing_matches_set_brute_force(seed, alpha, beta, offset):
    R = random_matrix(seed)
    got = Swing(alpha=alpha, user_weight_beta=beta, user_weight_offset=offset).fit(R).similarity_
    dense = got.toarray()
    np.testing.assert_allclose(dense, naive_swing(R, alpha, beta, offset), rtol=1e-12, atol=1e-14)
    assert np.all(np.diag(dense) == 0) and np.allclose(dense, dense.T)


@pytest.mark.parametrize("chunk_size", [3, 50])
def test_chunking_does_not_change_the_result(chunk_size):
    R = random_matrix(2)
    np.testing.assert_allclose(swing_similarity(R, chunk_size=chunk_size).toarray(),
                               naive_swing(R), rtol=1e-12, atol=1e-14)


def test_swing_binarises_weights():
    R = random_matrix(3)
    np.testing.assert_allclose(swing_similarity(R).toarray(),
                               swing_similarity((R > 0).astype(float)).toarray())


def test_hand_computed_three_users():
    # u0 = {0, 1}, u1 = {0, 1, 2}, u2 = {1, 2, 3}.
    # sim(0, 1): pair (u0, u1), overlap 2 -> 1 / (1 + 2).  sim(1, 2): pair (u1, u2), overlap 2.
    # sim(0, 2), sim(2, 3), sim(1, 3): at most one common user -> no pair -> 0.
    R = np.array([[1, 1, 0, 0], [1, 1, 1, 0], [0, 1, 1, 1]], dtype=float)
    S = Swing().fit(R).similarity_.toarray()
    expected = np.zeros((4, 4))
    expected[0, 1] = expected[1, 0] = expected[1, 2] = expected[2, 1] = 1 / 3
    np.testing.assert_allclose(S, expected)
    # With beta = 1, offset = 0: w = 1/|I_u|, so sim(0, 1) = (1/2)(1/3) / 3.
    S = Swing(user_weight_beta=1.0, user_weight_offset=0.0).fit(R).similarity_.toarray()
    assert S[0, 1] == pytest.approx(1 / 18)


@pytest.mark.parametrize("seed", SEEDS)
def test_recommend_matches_brute_force(seed):
    R = random_matrix(seed)
    S = naive_swing(R)
    got = Swing().fit(R).recommend(np.arange(R.shape[0]), k=3, exclude=R)[0]
    for u in range(R.shape[0]):
        scores = {j: sum(R[u, i] * S[i, j] for i in range(R.shape[1]))
                  for j in range(R.shape[1]) if R[u, j] == 0}
        best = sorted((s for s in scores.values() if s > 0), reverse=True)[:3]
        items = [j for j in got[u] if j >= 0]
        assert len(items) == len(best) and all(j in scores for j in items)  # unseen only
        # Items with identical user sets give exactly tied scores, which floating point may
        # order either way: compare the scores of the list, not the item ids.
        np.testing.assert_allclose([scores[j] for j in items], best, rtol=1e-12)


def small_circle_world(seed=0):
    """A circle of 6 users who all took the same 8 unrelated items (0..7), and a genuine pair
    (items 8, 9) co-consumed by 12 otherwise unrelated users, plus background noise."""
    rng = np.random.default_rng(seed)
    n_items = 60
    rows = []
    for _ in range(6):  # the circle: identical baskets, pairwise overlap 8
        basket = np.zeros(n_items)
        basket[:8] = 1
        rows.append(basket)
    for _ in range(12):  # independent users who like both 8 and 9, plus their own tastes
        basket = np.zeros(n_items)
        basket[[8, 9]] = 1
        basket[rng.choice(np.arange(10, n_items), 3, replace=False)] = 1
        rows.append(basket)
    for _ in range(8):  # users who took only one of 8 / 9: the pair's cosine is < 1
        basket = np.zeros(n_items)
        basket[rng.choice([8, 9])] = 1
        basket[rng.choice(np.arange(10, n_items), 3, replace=False)] = 1
        rows.append(basket)
    for _ in range(30):  # background
        basket = np.zeros(n_items)
        basket[rng.choice(np.arange(10, n_items), 4, replace=False)] = 1
        rows.append(basket)
    return np.array(rows)


@pytest.mark.parametrize("seed", SEEDS)
def test_small_circle_fools_itemcf_not_swing(seed):
    R = small_circle_world(seed)
    cosine = ItemCF().fit(R).similarity_.toarray()
    swing = Swing().fit(R).similarity_.toarray()
    circle, genuine = cosine[0, 1], cosine[8, 9]
    assert circle == pytest.approx(1.0)  # identical columns: ItemCF's best possible score
    assert circle > genuine
    # Swing: 15 circle pairs, each damped by 1 / (1 + 8); 66 independent pairs at 1 / (1 + 2).
    assert swing[0, 1] == pytest.approx(15 / 9)
    assert swing[8, 9] > 5 * swing[0, 1]
    # Item 0's top neighbour: ItemCF picks a circle item; Swing's score for it is tiny next to
    # the genuine pair's.
    assert np.argmax(cosine[0]) in range(1, 8)
    assert swing[0].max() < swing[8, 9] / 5


def test_validation():
    with pytest.raises(ValueError, match=">= 0"):
        Swing(alpha=-1.0).fit(np.eye(3))
    with pytest.raises(ValueError, match="user_weight_beta must be a finite number >= 0"):
        Swing(user_weight_beta=-0.5).fit(np.eye(3))
    with pytest.raises(ValueError, match="user_weight_offset"):
        Swing(user_weight_offset=np.nan).fit(np.eye(3))
    with pytest.raises(TypeError, match="alpha"):
        Swing(alpha="1").fit(np.eye(3))
    with pytest.raises(ValueError, match="negative"):
        Swing().fit(-np.eye(3))
    with pytest.raises(NotFittedError):
        Swing().item_to_items(2)
    with pytest.raises(ValueError, match=">= 1"):
        Swing().fit(np.eye(3)).recommend([0], k=0)


def test_no_pairs_gives_empty_similarity():
    S = Swing().fit(np.eye(4)).similarity_
    assert S.shape == (4, 4) and S.nnz == 0
