"""MMR against a plain loop that recomputes max over S every step, and its limits."""
import numpy as np
import pytest

from course.rerank import MaxConsecutive, mmr
from course.rerank.mmr import _WindowMax


def plain_mmr(rewards, similarity, k, theta, window=None):
    """The definition, looped: every step, every candidate, max over the (windowed) list."""
    n, picked = len(rewards), []
    for _ in range(min(k, n)):
        best, best_score = None, -np.inf
        for i in range(n):
            if i in picked:
                continue
            S = picked if window is None else picked[-window:]
            penalty = max(similarity[i, j] for j in S) if S else 0.0
            score = theta * rewards[i] - (1 - theta) * penalty if S else theta * rewards[i]
            if score > best_score:  # strict: the first of ties (smallest index) stays
                best, best_score = i, score
        picked.append(best)
    return picked


def random_case(rng, ties: bool):
    n = int(rng.integers(1, 30))
    if ties:  # few distinct values: many exact ties in rewards, similarities and scores
        return n, rng.integers(0, 3, n).astype(float), rng.integers(-2, 3, (n, n)) / 2.0
    return n, rng.normal(size=n), rng.normal(size=(n, n))


@pytest.mark.parametrize("window", [None, 1, 2, 3, 7])
@pytest.mark.parametrize("ties", [False, True])
def test_mmr_picks_what_the_plain_loop_picks(window, ties):
    rng = np.random.default_rng(10 + (window or 0) + 100 * ties)
    for _ in range(60):
        n, rewards, similarity = random_case(rng, ties)
        k, theta = int(rng.integers(1, n + 5)), float(rng.choice([0.0, 0.25, 0.5, 0.7, 1.0]))
        picked = mmr(rewards, similarity, k, theta, window)
        assert picked.dtype == np.int64
        assert picked.tolist() == plain_mmr(rewards, similarity, k, theta, window)


def test_theta_one_is_top_k_by_reward_ties_to_the_smaller_index():
    rng = np.random.default_rng(0)
    rewards = rng.integers(0, 5, 40).astype(float)
    similarity = rng.normal(size=(40, 40))
    for window in (None, 3):
        np.testing.assert_array_equal(mmr(rewards, similarity, 10, 1.0, window),
                                      np.argsort(-rewards, kind="stable")[:10])


def test_k_above_n_returns_every_item_once():
    rng = np.random.default_rng(1)
    picked = mmr(rng.normal(size=6), rng.normal(size=(6, 6)), k=50, theta=0.5)
    assert sorted(picked.tolist()) == list(range(6))


def test_a_window_forgets_old_items_by_hand():
    # 0 and 2 are similar (0.9), 1 and 3 unlike anything; θ = 0.5, rewards 1, 0.5, 0.9, 0.3.
    # Step 1: 0. Step 2: 1 scores 0.25, 2 scores 0.45 - 0.45 = 0 -> 1.
    # Step 3, whole list: 2 still pays for 0 (score 0), 3 scores 0.15 -> 3, then 2.
    # Step 3, window 1: S = {1}, so 2 scores 0.45 and beats 3 (0.15) -> 2, then 3.
    rewards = np.array([1.0, 0.5, 0.9, 0.3])
    sim = np.array([[1, 0, 0.9, 0], [0, 1, 0, 0], [0.9, 0, 1, 0], [0, 0, 0, 1]])
    assert mmr(rewards, sim, 4, 0.5).tolist() == [0, 1, 3, 2]
    assert mmr(rewards, sim, 4, 0.5, window=1).tolist() == [0, 1, 2, 3]
    assert mmr(rewards, sim, 4, 0.5, window=2).tolist() == [0, 1, 3, 2]  # S = {0, 1}: as whole


@pytest.mark.parametrize("w", [1, 2, 3, 5])
def test_window_max_equals_max_over_the_last_w_rows(w):
    rows = np.random.default_rng(w).normal(size=(23, 9))
    running = _WindowMax(w, 9)
    for t, row in enumerate(rows):
        running.add(row)
        np.testing.assert_array_equal(running.max(), rows[max(0, t + 1 - w):t + 1].max(axis=0))


def test_rules_can_end_the_list_early():
    types = np.zeros(5, dtype=np.int64)  # one type only: at most 2 in a row means 2 items
    picked = mmr(np.arange(5.0), np.eye(5), 5, 0.5, rules=[MaxConsecutive(types, 2)])
    assert picked.tolist() == [4, 3]


GOOD = dict(rewards=np.ones(3), similarity=np.eye(3), k=2, theta=0.5)


@pytest.mark.parametrize("change, error, match", [
    (dict(similarity=np.ones((3, 2))), ValueError, "square"),
    (dict(similarity=np.eye(4)), ValueError, r"shape \(n, n\) = \(3, 3\)"),
    (dict(similarity=np.ones(3)), ValueError, "2-D"),
    (dict(rewards=np.ones((3, 1))), ValueError, "1-D"),
    (dict(rewards=np.array([]), similarity=np.zeros((0, 0))), ValueError, "non-empty"),
    (dict(rewards=np.array([1.0, np.nan, 0.0])), ValueError, "rewards must be finite.*index 1"),
    (dict(similarity=np.full((3, 3), np.inf)), ValueError, "similarity must be finite"),
    (dict(rewards=np.array(["a", "b", "c"])), TypeError, "rewards must have a real"),
    (dict(k=0), ValueError, "k must be a positive int"),
    (dict(k=2.0), TypeError, "k must be a positive int"),
    (dict(theta=1.5), ValueError, r"theta must be a number in \[0, 1\]"),
    (dict(theta=-0.1), ValueError, "theta"),
    (dict(theta="0.5"), TypeError, "theta"),
    (dict(window=0), ValueError, "window must be a positive int"),
    (dict(rules=[object()]), TypeError, "rules must be a sequence of Rule"),
    (dict(rules=3), TypeError, "rules must be a sequence of Rule"),
    (dict(rules=[MaxConsecutive([0, 1], 1)]), ValueError, r"types must have shape \(3,\)"),
])
def test_bad_inputs_raise_clear_errors(change, error, match):
    with pytest.raises(error, match=match):
        mmr(**{**GOOD, **change})
