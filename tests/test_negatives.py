"""Negative samplers against their definitions: exact probabilities, brute-force pools, shares."""
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from scipy import stats

from course.recall.two_tower import (exposed_unclicked_pool, hard_negative_pool,
                                     make_negative_sampler, mix_negatives, popularity_negatives,
                                     popularity_probabilities, sample_from_pool)


@pytest.mark.parametrize("alpha", [0.0, 0.5, 0.75, 1.0])
def test_popularity_probabilities_follow_the_power_law(alpha):
    clicks = np.array([0, 1, 2, 5, 40, 100])
    expected = np.array([c ** alpha for c in clicks], dtype=float)  # 0 ** 0 == 1 in Python too
    np.testing.assert_allclose(popularity_probabilities(clicks, alpha, smoothing=0), expected / expected.sum())
    smoothed = np.array([(c + 1) ** alpha for c in clicks], dtype=float)
    np.testing.assert_allclose(popularity_probabilities(clicks, alpha), smoothed / smoothed.sum())


def test_smoothing_zero_gives_the_bare_power_law_exactly():
    clicks = np.array([0, 3, 1, 0, 250, 7])
    bare = clicks.astype(float) ** 0.75
    np.testing.assert_array_equal(popularity_probabilities(clicks, 0.75, smoothing=0), bare / bare.sum())


@pytest.mark.parametrize("smoothing", [1.0, 0.5])
def test_smoothing_gives_never_clicked_items_a_positive_probability(smoothing):
    clicks = np.array([0, 3, 0, 0, 250, 7])
    probabilities = popularity_probabilities(clicks, 0.75, smoothing)
    assert (probabilities > 0).all()
    assert probabilities[0] == probabilities[2] == probabilities[3] < probabilities[1]
    draws = popularity_negatives(20_000, clicks, 0.75, rng=0, smoothing=smoothing)
    assert set(np.unique(draws).tolist()) == set(range(clicks.size))
    assert popularity_probabilities(clicks, 0.75, smoothing=0)[clicks == 0].sum() == 0.0


def test_alpha_zero_is_uniform_and_alpha_one_is_proportional():
    clicks = np.array([3, 0, 7])
    np.testing.assert_allclose(popularity_probabilities(clicks, 0.0), np.full(3, 1 / 3))
    np.testing.assert_allclose(popularity_probabilities(clicks, 1.0, smoothing=0), clicks / clicks.sum())


@pytest.mark.parametrize("smoothing", [0.0, 1.0])
@pytest.mark.parametrize("alpha", [0.0, 0.75, 1.0])
def test_popularity_sampler_matches_clicks_to_the_alpha_by_chi_square(alpha, smoothing):
    clicks = np.array([1, 4, 9, 30, 0, 120, 7, 60])
    draws = popularity_negatives(200_000, clicks, alpha, rng=np.random.default_rng(1), smoothing=smoothing)
    observed = np.bincount(draws, minlength=clicks.size)
    expected = popularity_probabilities(clicks, alpha, smoothing) * draws.size
    support = expected > 0
    assert observed[~support].sum() == 0  # items with zero probability are never drawn
    result = stats.chisquare(observed[support], expected[support])
    assert result.pvalue > 1e-3, result


def test_popularity_sampler_is_reproducible_and_shaped():
    clicks = np.arange(1, 50)
    first = popularity_negatives((4, 7), clicks, rng=3)
    again = popularity_negatives((4, 7), clicks, rng=np.random.default_rng(3))
    assert first.shape == (4, 7) and first.dtype == np.int64
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, popularity_negatives((4, 7), clicks, rng=4))


@pytest.mark.parametrize("bad, message", [
    (dict(item_clicks=[-1, 2]), "non-negative"),
    (dict(item_clicks=[0, 0], smoothing=0), "all click counts are zero"),
    (dict(item_clicks=[[1, 2]]), "1-D"),
    (dict(item_clicks=[1, 2], alpha=-0.5), "alpha"),
    (dict(item_clicks=[1, 2], smoothing=-1.0), "smoothing"),
])
def test_popularity_probabilities_reject_bad_input(bad, message):
    with pytest.raises(ValueError, match=message):
        popularity_probabilities(**{"alpha": 0.75, **bad})


def test_popularity_negatives_rejects_a_bad_rng():
    with pytest.raises(TypeError, match="rng"):
        popularity_negatives(3, [1, 2], rng="seed")


def brute_force_hard_pool(ranked, clicked, start, stop):
    pool = np.zeros(clicked.shape, dtype=bool)
    for user, row in enumerate(ranked):
        for item in row[start:stop]:
            if item >= 0 and not clicked[user, item]:
                pool[user, item] = True
    return pool


def test_hard_negative_pool_matches_a_loop():
    rng = np.random.default_rng(0)
    n_users, n_items = 30, 60
    ranked = np.stack([rng.permutation(n_items)[:40] for _ in range(n_users)])
    ranked[rng.random(ranked.shape) < 0.1] = -1  # some padding
    clicked = rng.random((n_users, n_items)) < 0.2
    pool = hard_negative_pool(ranked, sp.csr_matrix(clicked), start=10, stop=35)
    np.testing.assert_array_equal(pool.toarray(), brute_force_hard_pool(ranked, clicked, 10, 35))
    assert not (pool.toarray() & clicked).any()


def test_hard_negative_pool_rejects_bad_input():
    with pytest.raises(ValueError, match="start < stop"):
        hard_negative_pool(np.zeros((2, 3), dtype=int), np.zeros((2, 5)), start=3, stop=3)
    with pytest.raises(ValueError, match="rows"):
        hard_negative_pool(np.zeros((3, 3), dtype=int), np.zeros((2, 5)))
    with pytest.raises(ValueError, match="n_items"):
        hard_negative_pool(np.full((2, 3), 9), np.zeros((2, 5)), start=0, stop=2)


def test_exposed_unclicked_pool_matches_pandas():
    rng = np.random.default_rng(1)
    logs = pd.DataFrame({"user_id": rng.integers(0, 20, 500), "item_id": rng.integers(0, 40, 500),
                         "click": (rng.random(500) < 0.2).astype(int)})
    pool = exposed_unclicked_pool(logs.user_id, logs.item_id, logs.click, 20, 40).toarray()
    ever_clicked = logs.groupby(["user_id", "item_id"])["click"].max()
    expected = np.zeros((20, 40), dtype=bool)
    never = ever_clicked[ever_clicked == 0].index
    expected[never.get_level_values(0), never.get_level_values(1)] = True
    np.testing.assert_array_equal(pool, expected)


def test_sample_from_pool_stays_in_each_pool_and_is_uniform():
    rng = np.random.default_rng(2)
    dense = rng.random((8, 30)) < 0.3
    dense[5] = False  # an empty pool
    pool = sp.csr_matrix(dense)
    users = np.repeat(np.arange(8), 3)
    draws = sample_from_pool(pool, users, n=2000, rng=0)
    for row, user in enumerate(users):
        if user == 5:
            assert (draws[row] == -1).all()
        else:
            assert dense[user, draws[row]].all()
    # uniform within a pool: chi-square over user 0's candidates
    counts = np.bincount(draws[users == 0].ravel(), minlength=30)[dense[0]]
    assert stats.chisquare(counts).pvalue > 1e-3


def test_sample_from_pool_rejects_bad_input():
    pool = sp.csr_matrix(np.eye(3))
    with pytest.raises(ValueError, match="user_ids"):
        sample_from_pool(pool, [0, 3], n=2)
    with pytest.raises(ValueError, match="positive int"):
        sample_from_pool(pool, [0], n=0)


@pytest.mark.parametrize("share", [0.0, 0.3, 0.5, 1.0])
def test_mix_share_within_tolerance(share):
    easy, hard = np.zeros((500, 40), dtype=int), np.ones((500, 40), dtype=int)
    mixed = mix_negatives(easy, hard, share, rng=0)
    assert abs(mixed.mean() - share) < 0.01  # 20,000 Bernoulli slots: sd <= 0.0035


def test_mix_falls_back_to_easy_where_hard_is_missing():
    easy, hard = np.full((2, 4), 5), np.array([[1, -1, 1, -1], [-1, -1, -1, -1]])
    mixed = mix_negatives(easy, hard, 1.0)
    np.testing.assert_array_equal(mixed, [[1, 5, 1, 5], [5, 5, 5, 5]])
    with pytest.raises(ValueError, match="same shape"):
        mix_negatives(easy, hard[:1], 0.5)
    with pytest.raises(ValueError, match="hard_share"):
        mix_negatives(easy, hard, 1.5)


def test_make_negative_sampler_mixes_and_replays():
    clicks = np.array([10, 10, 0, 0])
    pool = sp.csr_matrix(np.array([[0, 0, 1, 0], [0, 0, 0, 1]]))
    users = np.array([0, 1] * 500)
    negatives = make_negative_sampler(clicks, 1.0, pool, hard_share=0.25, seed=7, smoothing=0)(users, 4)
    hard = negatives >= 2  # only the pools hold items 2 and 3
    assert abs(hard.mean() - 0.25) < 0.03
    assert (negatives[users == 0][hard[users == 0]] == 2).all()
    again = make_negative_sampler(clicks, 1.0, pool, hard_share=0.25, seed=7, smoothing=0)(users, 4)
    np.testing.assert_array_equal(negatives, again)
    with pytest.raises(ValueError, match="needs a hard_pool"):
        make_negative_sampler(clicks, hard_share=0.5)


def test_sampler_without_pool_draws_exactly_popularity_negatives():
    clicks = np.array([5, 0, 2, 9, 1])
    sampler = make_negative_sampler(clicks, 0.75, seed=11)
    rng = np.random.default_rng(11)
    for batch in (3, 8):  # two calls: the sampler's generator moves on like rng does
        np.testing.assert_array_equal(sampler(np.arange(batch), 4),
                                      popularity_negatives((batch, 4), clicks, 0.75, rng))
