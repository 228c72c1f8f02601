"""Fast greedy DPP (incremental Cholesky) against the log-determinant greedy, and its limits."""
import numpy as np
import pytest

from course.rerank import dpp, dpp_kernel, naive_dpp
from course.rerank.dpp import _drop_oldest


def random_kernel(rng, n, rank):
    """S = X Xᵀ of rank ``rank`` (a PSD kernel, singular when rank < n)."""
    X = rng.normal(size=(n, rank))
    return X @ X.T


@pytest.mark.parametrize("window", [None, 2, 3, 6])
def test_fast_greedy_picks_what_the_log_det_greedy_picks(window):
    rng = np.random.default_rng(20 + (window or 0))
    for _ in range(40):
        n = int(rng.integers(1, 30))
        S = random_kernel(rng, n, int(rng.integers(1, n + 3)))  # full rank or not
        rewards = rng.normal(size=n)
        k, theta = int(rng.integers(1, n + 5)), float(rng.choice([0.0, 0.3, 0.6, 0.9, 1.0]))
        fast = dpp(rewards, S, k, theta, window)
        assert fast.dtype == np.int64 and len(set(fast.tolist())) == len(fast)
        np.testing.assert_array_equal(fast, naive_dpp(rewards, S, k, theta, window))


def test_window_of_one_scores_each_item_alone():
    # W is empty: score θ·reward + (1 − θ)·log S_ii, the same every step
    rng = np.random.default_rng(3)
    S, rewards = random_kernel(rng, 12, 12), rng.normal(size=12)
    score = 0.4 * rewards + 0.6 * np.log(np.diag(S))
    np.testing.assert_array_equal(dpp(rewards, S, 12, 0.4, window=1), np.argsort(-score)[:12])
    np.testing.assert_array_equal(naive_dpp(rewards, S, 12, 0.4, window=1), np.argsort(-score)[:12])


@pytest.mark.parametrize("rank", [1, 3, 7])
def test_a_rank_deficient_kernel_stops_after_rank_items(rank):
    rng = np.random.default_rng(rank)
    S, rewards = random_kernel(rng, 20, rank), rng.normal(size=20)
    for theta in (0.0, 0.5, 1.0):
        assert len(dpp(rewards, S, 15, theta)) == rank
        assert len(naive_dpp(rewards, S, 15, theta)) == rank
    # with a window of w ≤ rank the window never fills the span: the list goes on to k
    assert len(dpp(rewards, S, 15, 0.5, window=rank)) == 15


def test_theta_one_on_a_full_rank_kernel_is_top_k_by_reward():
    rng = np.random.default_rng(4)
    S, rewards = random_kernel(rng, 30, 40), rng.normal(size=30)
    np.testing.assert_array_equal(dpp(rewards, S, 10, 1.0), np.argsort(-rewards)[:10])


def test_two_items_by_hand():
    # S = [[1, s], [s, 1]], rewards (1, 0.5), θ = 0.5: first 0 (0.5·1 + 0.5·log 1 = 0.5 > 0.25);
    # then d_1² = 1 − s² and item 1 is taken if the kernel allows it.
    S = np.array([[1.0, 0.6], [0.6, 1.0]])
    assert dpp([1.0, 0.5], S, 2, 0.5).tolist() == [0, 1]
    # θ = 0 (only diversity), a third item: 2 is orthogonal to both, 1 explained by 64 %.
    S3 = np.array([[1.0, 0.8, 0.0], [0.8, 1.0, 0.0], [0.0, 0.0, 1.0]])
    assert dpp([1.0, 0.9, 0.0], S3, 3, 0.0).tolist() == [0, 2, 1]  # ties at 0: smaller index 0
    # ... and 2 goes last only when relevance dominates: 0.9·0.9 + 0.1·log 0.36 = 0.708 > 0.9·0
    assert dpp([1.0, 0.9, 0.0], S3, 3, 0.9).tolist() == [0, 1, 2]


def test_kernel_is_diag_r_s_diag_r_and_its_log_det_splits():
    rng = np.random.default_rng(5)
    S, rewards, theta = random_kernel(rng, 6, 6), rng.normal(size=6), 0.6
    alpha = theta / (2 * (1 - theta))
    L = dpp_kernel(rewards, S, theta)
    for i in range(6):
        for j in range(6):
            assert L[i, j] == pytest.approx(np.exp(alpha * rewards[i]) * S[i, j] * np.exp(alpha * rewards[j]))
    Y = [0, 2, 5]
    assert np.linalg.slogdet(L[np.ix_(Y, Y)])[1] == pytest.approx(
        2 * alpha * rewards[Y].sum() + np.linalg.slogdet(S[np.ix_(Y, Y)])[1])


def test_dropping_the_oldest_item_leaves_the_factor_of_the_rest():
    rng = np.random.default_rng(6)
    n, S = 9, random_kernel(rng, 9, 9)
    order, m = [4, 1, 7, 0], 4
    V = np.linalg.cholesky(S[np.ix_(order, order)])
    C = np.linalg.solve(V, S[order])                       # (m, n) every item's Cholesky row
    d2 = np.diag(S) - (C * C).sum(axis=0)
    _drop_oldest(V, C, d2, m)
    rest = order[1:]
    np.testing.assert_allclose(V[:3, :3], np.linalg.cholesky(S[np.ix_(rest, rest)]), atol=1e-12)
    np.testing.assert_allclose(C[:3], np.linalg.solve(V[:3, :3], S[rest]), atol=1e-10)
    np.testing.assert_allclose(d2, np.diag(S) - (C[:3] ** 2).sum(axis=0), atol=1e-10)
    assert not V[3].any() and not V[:, 3].any() and not C[3].any()


def test_theta_near_one_does_not_overflow():
    # r = exp(49.5 · 20) overflows float64; the fast greedy never forms it
    rng = np.random.default_rng(7)
    S, rewards = random_kernel(rng, 50, 50), 20 * rng.random(50)
    picked = dpp(rewards, S, 10, 0.99)
    assert len(picked) == 10
    with np.errstate(over="ignore"):
        assert not np.isfinite(dpp_kernel(rewards, S, 0.99)).all()


GOOD = dict(rewards=np.ones(3), similarity=np.eye(3), k=2, theta=0.5)


@pytest.mark.parametrize("function", [dpp, naive_dpp])
@pytest.mark.parametrize("change, error, match", [
    (dict(similarity=np.array([[1.0, 0.5, 0], [0, 1, 0], [0, 0, 1]])), ValueError, "symmetric"),
    (dict(similarity=np.array([[1.0, 2, 0], [2, 1, 0], [0, 0, 1]])), ValueError, "positive semi-definite"),
    (dict(similarity=np.ones((3, 2))), ValueError, "square"),
    (dict(similarity=np.eye(2)), ValueError, "match rewards"),
    (dict(rewards=np.array([np.nan, 1, 1])), ValueError, "rewards must be finite"),
    (dict(k=0), ValueError, "k must be a positive int"),
    (dict(theta=2), ValueError, "theta"),
    (dict(window=-1), ValueError, "window"),
    (dict(eps=0.0), ValueError, "eps must be a positive number"),
])
def test_bad_inputs_raise_clear_errors(function, change, error, match):
    with pytest.raises(error, match=match):
        function(**{**GOOD, **change})


def test_a_non_psd_kernel_is_caught_on_the_way_without_the_full_check():
    S = np.array([[1.0, 2.0], [2.0, 1.0]])  # eigenvalues 3 and -1
    with pytest.raises(ValueError, match="positive semi-definite.*negative"):
        dpp([1.0, 0.0], S, 2, 0.5, check_kernel=False)


def test_dpp_kernel_has_no_theta_one():
    with pytest.raises(ValueError, match="no finite DPP kernel"):
        dpp_kernel(np.ones(2), np.eye(2), 1.0)


def test_k_above_n_on_a_full_rank_kernel_returns_every_item_once_ties_to_the_smaller_index():
    rng = np.random.default_rng(8)
    S, rewards = random_kernel(rng, 7, 12), rng.normal(size=7)
    for window in (None, 3):
        assert sorted(dpp(rewards, S, 50, 0.5, window).tolist()) == list(range(7))
    # equal rewards on orthonormal items: every step is a tie, broken by the index
    assert dpp(np.ones(5), np.eye(5), 5, 0.5).tolist() == [0, 1, 2, 3, 4]
    assert naive_dpp(np.ones(5), np.eye(5), 5, 0.5).tolist() == [0, 1, 2, 3, 4]


@pytest.mark.parametrize("change", [dict(theta=True), dict(k=True), dict(window=True)])
def test_a_bool_is_not_a_number_here(change):
    with pytest.raises(TypeError):
        dpp(**{**GOOD, **change})
