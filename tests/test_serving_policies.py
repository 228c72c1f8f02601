"""The personalised serving policy against references: brute-force top-k, Plackett-Luce, the oracle."""
import itertools
from collections import defaultdict

import numpy as np
import pytest
import scipy.sparse as sp
from scipy import stats

from course._arrays import rank_within_groups
from course.world.serving_policies import gumbel_top_k, noisy_ranking_policy


def test_zero_temperature_is_the_exact_top_k():
    scores = np.random.default_rng(0).normal(size=(50, 30))
    expected = np.argsort(-scores, axis=1)[:, :7]  # continuous scores: no ties
    np.testing.assert_array_equal(gumbel_top_k(scores, 7, temperature=0), expected)


def plackett_luce_pair_probabilities(scores, temperature):
    """P(first = i, second = j) = p_i p_j / (1 - p_i), p = softmax(scores / T), by enumeration."""
    p = np.exp(scores / temperature) / np.exp(scores / temperature).sum()
    return {(i, j): p[i] * p[j] / (1 - p[i]) for i, j in itertools.permutations(range(len(p)), 2)}


@pytest.mark.parametrize("temperature", [0.5, 1.0, 2.0])
def test_gumbel_top_two_follows_plackett_luce(temperature):
    scores = np.array([1.0, 0.2, -0.5, 0.0])
    draws = gumbel_top_k(np.tile(scores, (40_000, 1)), 2, temperature, rng=1)  # (40000, 2)
    expected = plackett_luce_pair_probabilities(scores, temperature)
    pairs = list(expected)
    observed = np.array([np.sum((draws[:, 0] == i) & (draws[:, 1] == j)) for i, j in pairs])
    result = stats.chisquare(observed, np.array([expected[pair] for pair in pairs]) * len(draws))
    assert result.pvalue > 1e-3, result


def test_minus_infinity_is_drawn_last_and_draws_replay():
    scores = np.array([[0.0, -np.inf, 1.0, -np.inf, 0.5]] * 200)
    draws = gumbel_top_k(scores, 3, temperature=5.0, rng=3)
    assert set(draws.ravel().tolist()) == {0, 2, 4}  # large noise, yet never an excluded column
    assert (np.sort(draws, axis=1) == [0, 2, 4]).all()  # and each row without repeats
    np.testing.assert_array_equal(draws, gumbel_top_k(scores, 3, 5.0, rng=np.random.default_rng(3)))
    assert not np.array_equal(draws, gumbel_top_k(scores, 3, 5.0, rng=4))


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(scores=[1.0, 2.0], k=1), ValueError, "2-D"),
    (dict(scores=[[1.0, np.nan]], k=1), ValueError, "NaN"),
    (dict(scores=[[1.0, np.inf]], k=1), ValueError, r"\+inf"),
    (dict(scores=[[1.0, 2.0]], k=3), ValueError, "k must be"),
    (dict(scores=[[1.0, 2.0]], k=1, temperature=-1), ValueError, "temperature"),
    (dict(scores=[[1.0, 2.0]], k=1, rng="seed"), TypeError, "rng"),
])
def test_gumbel_top_k_rejects_bad_input(kwargs, error, message):
    with pytest.raises(error, match=message):
        gumbel_top_k(**kwargs)


def test_rank_within_groups_matches_a_counter():
    users = np.random.default_rng(0).integers(0, 20, 300)
    counts, expected = defaultdict(int), []
    for user in users:
        expected.append(counts[user])
        counts[user] += 1
    np.testing.assert_array_equal(rank_within_groups(users), expected)


@pytest.fixture()
def environment(tiny_world):
    return tiny_world.environment(seed=0)


def recalled_notes(environment, n_candidates=60, seed=0):
    """Each user gets a random set of available notes as 'recalled', padded with some -1."""
    rng = np.random.default_rng(seed)
    available = environment.available_items()
    n_users = len(environment.world.users)
    recalled = np.stack([rng.choice(available, n_candidates, replace=False) for _ in range(n_users)])
    recalled[:, -5:] = -1  # padding
    return recalled


def test_zero_noise_serves_each_users_true_best_notes_page_by_page(environment):
    recalled = recalled_notes(environment)
    requests = environment.make_requests()
    slates = noisy_ranking_policy(environment, recalled, temperature=0)(requests)
    k = requests.slate_size
    seen_requests = defaultdict(int)
    for user, slate in zip(requests.user_ids, slates):  # brute force: one user at a time
        candidates = recalled[user][recalled[user] >= 0]
        truth = environment.oracle.click_probability(np.full(len(candidates), user), candidates,
                                                     day=requests.day)
        best_first = candidates[np.argsort(-truth, kind="stable")]
        page = seen_requests[user]
        seen_requests[user] += 1
        np.testing.assert_array_equal(slate, best_first[page * k:(page + 1) * k])


def test_noisy_slates_are_valid_distinct_within_a_day_and_reproducible(environment):
    recalled = recalled_notes(environment)
    n_users = recalled.shape[0]
    rng = np.random.default_rng(1)
    exclude = sp.csr_matrix(rng.random((n_users, recalled.max() + 1)) < 0.3)  # ~38 servable: 3 pages
    requests = environment.make_requests()
    policy = noisy_ranking_policy(environment, recalled, temperature=0.5, exclude=exclude, seed=3)
    slates = policy(requests)
    assert slates.shape == (len(requests), requests.slate_size)
    for user, slate in zip(requests.user_ids, slates):
        assert np.isin(slate, recalled[user]).all()  # only recalled notes
        assert not exclude[user, slate].toarray().any()  # never an excluded one
    assert np.isin(slates, requests.available_items).all()
    k = requests.slate_size
    n_requests = np.bincount(requests.user_ids, minlength=n_users)
    n_wrapped = 0
    for user in np.flatnonzero(n_requests):
        candidates = recalled[user][recalled[user] >= 0]
        pages = (~exclude[user, candidates].toarray().ravel()).sum() // k
        shown = slates[requests.user_ids == user]  # (n_requests[user], k)
        # distinct while the pages last, then the ranking starts over from page 0
        assert len(np.unique(shown[:pages])) == min(pages, len(shown)) * k
        wrapped = shown[pages:]
        np.testing.assert_array_equal(wrapped, shown[:len(wrapped)])
        n_wrapped += len(wrapped) > 0
    assert n_wrapped > 0  # the wrap-around was exercised
    np.testing.assert_array_equal(slates, policy(requests))
    other = noisy_ranking_policy(environment, recalled, temperature=0.5, exclude=exclude, seed=4)
    assert not np.array_equal(slates, other(requests))
    exact = noisy_ranking_policy(environment, recalled, temperature=0, exclude=exclude)(requests)
    truth = lambda s: environment.oracle.click_probability(
        np.repeat(requests.user_ids, s.shape[1]), s.ravel(), day=requests.day).mean()
    assert truth(exact) > truth(slates)  # noise costs true click probability


def test_the_environment_serves_it(environment):
    day = environment.step(noisy_ranking_policy(environment, recalled_notes(environment), seed=0))
    assert len(day.impressions) > 0
    assert day.impressions.groupby(["user_id", "item_id"]).size().max() == 1


def test_noisy_ranking_policy_rejects_bad_input(environment):
    recalled = recalled_notes(environment)
    with pytest.raises(ValueError, match="recalled must be"):
        noisy_ranking_policy(environment, recalled[:5])
    with pytest.raises(ValueError, match="temperature"):
        noisy_ranking_policy(environment, recalled, temperature=-0.1)
    repeated = recalled.copy()
    repeated[3, 1] = repeated[3, 0]
    with pytest.raises(ValueError, match="repeats a note"):
        noisy_ranking_policy(environment, repeated)
    with pytest.raises(ValueError, match="one row per user"):
        noisy_ranking_policy(environment, recalled, exclude=np.zeros((3, 10), dtype=bool))
    too_few = recalled.copy()
    too_few[:, 8:] = -1  # 8 candidates, a slate needs 10
    with pytest.raises(ValueError, match="fewer than 10 servable"):
        noisy_ranking_policy(environment, too_few)(environment.make_requests())
