"""Deep Retrieval: beam search vs brute force, a proper distribution, planted clusters, monotone EM
step, and the penalty on crowded paths against a brute-force loop."""
from collections import Counter

import numpy as np
import pytest
import torch

from course.recall.ann import (PathModel, all_paths, assign_with_path_penalty, beam_search,
                               fit_deep_retrieval, path_log_probs_all, penalized_objective,
                               reassign_items, retrieve, total_log_likelihood)


def brute_force_path_log_probs(model, users):
    """Enumerate every path with a Python loop, multiplying the per-layer softmaxes."""
    out = np.zeros((len(users), model.width ** model.depth))
    with torch.no_grad():
        for u in range(len(users)):
            for r, path in enumerate(all_paths(model.depth, model.width)):
                total = 0.0
                for d in range(model.depth):
                    prefix = torch.tensor(path[:d]).reshape(1, d)
                    total += model.next_log_probs(users[u:u + 1], prefix)[0, path[d]].item()
                out[u, r] = total
    return out


@pytest.mark.parametrize("depth,width", [(1, 5), (2, 3), (3, 2)])
def test_probabilities_sum_to_one_and_match_loop(depth, width):
    torch.manual_seed(0)
    model = PathModel(user_dim=4, depth=depth, width=width)
    users = torch.randn(6, 4)
    log_probs = path_log_probs_all(model, users)
    np.testing.assert_allclose(log_probs.exp().sum(1).numpy(), 1.0, rtol=1e-5)
    np.testing.assert_allclose(log_probs.numpy(), brute_force_path_log_probs(model, users), atol=1e-5)


def test_exhaustive_beam_equals_enumeration():
    torch.manual_seed(1)
    model = PathModel(user_dim=3, depth=3, width=3)
    users = torch.randn(7, 3)
    paths, scores = beam_search(model, users, beam_size=27)
    log_probs = path_log_probs_all(model, users).numpy()  # (7, 27)
    order = np.argsort(-log_probs, axis=1)
    np.testing.assert_array_equal(paths, all_paths(3, 3)[order])
    np.testing.assert_allclose(scores, np.take_along_axis(log_probs, order, 1), atol=1e-5)


def test_narrow_beam_is_a_prefix_of_exhaustive_when_greedy_suffices():
    torch.manual_seed(2)
    model = PathModel(user_dim=2, depth=1, width=6)  # one layer: beam B = exact top-B
    users = torch.randn(4, 2)
    narrow = beam_search(model, users, beam_size=2)[0]
    full = beam_search(model, users, beam_size=6)[0]
    np.testing.assert_array_equal(narrow, full[:, :2])


def planted(seed=0, n_clusters=4, items_per_cluster=10, n_users=200, clicks_per_user=5):
    rng = np.random.default_rng(seed)
    item_cluster = np.repeat(np.arange(n_clusters), items_per_cluster)
    user_cluster = rng.integers(n_clusters, size=n_users)
    user_vectors = np.eye(n_clusters)[user_cluster] + 0.1 * rng.normal(size=(n_users, n_clusters))
    pair_users = np.repeat(np.arange(n_users), clicks_per_user)
    pair_items = user_cluster[pair_users] * items_per_cluster + rng.integers(items_per_cluster, size=len(pair_users))
    return user_vectors, pair_users, pair_items, item_cluster, user_cluster


def test_planted_clusters_are_retrieved():
    user_vectors, pair_users, pair_items, item_cluster, user_cluster = planted()
    model, item_paths, history = fit_deep_retrieval(user_vectors, pair_users, pair_items, n_items=40,
                                                    depth=2, width=4, seed=0)
    retrieved, scores = retrieve(model, user_vectors, item_paths, beam_size=2, k=10)  # (200, 10)
    relevant = item_cluster[np.clip(retrieved, 0, None)] == user_cluster[:, None]
    recall = (relevant & (retrieved >= 0)).sum() / (10 * len(user_vectors))  # 10 relevant items each
    assert recall > 0.8  # random 10 of 40 items: 0.25
    assert history[-1] >= history[0]
    # the recall return convention: best first, -1 / -inf padding, a padded tail past n_items
    assert retrieved.shape == scores.shape == (200, 10)
    assert (np.diff(scores, axis=1) <= 0).all() and np.isneginf(scores[retrieved < 0]).all()
    wide_items, wide_scores = retrieve(model, user_vectors, item_paths, beam_size=2, k=50)
    assert wide_items.shape == (200, 50) and (wide_items[:, 40:] == -1).all()
    assert np.isneginf(wide_scores[:, 40:]).all()
    np.testing.assert_array_equal(wide_items[:, :10], retrieved)
    with pytest.raises(ValueError, match="k must be a positive int"):
        retrieve(model, user_vectors, item_paths, beam_size=2, k=0)


def test_reassignment_never_lowers_the_likelihood():
    user_vectors, pair_users, pair_items, _, _ = planted(seed=3)
    rng = np.random.default_rng(0)
    for seed in range(3):
        torch.manual_seed(seed)
        model = PathModel(4, depth=2, width=3)
        paths = rng.integers(3, size=(40, 2))
        before = total_log_likelihood(model, user_vectors, pair_users, pair_items, paths)
        new_paths = reassign_items(model, user_vectors, pair_users, pair_items, paths)
        after = total_log_likelihood(model, user_vectors, pair_users, pair_items, new_paths)
        assert after >= before - 1e-6
        # and it is the best single path for each item: no other path scores higher
        item = int(pair_items[0])
        mine = pair_users[pair_items == item]
        scores = path_log_probs_all(model, torch.tensor(user_vectors[mine], dtype=torch.float32)).sum(0)
        assert scores.max().item() == pytest.approx(scores[np.ravel_multi_index(new_paths[item], (3, 3))].item(), abs=1e-4)


def brute_force_objective(scores, codes, penalty, power=4):
    """Σ_v score(v, c_v) - α Σ_c |c|^p / p, with plain Python sums."""
    sizes = Counter(int(c) for c in codes)
    return (sum(scores[v][c] for v, c in enumerate(codes))
            - penalty * sum(size ** power for size in sizes.values()) / power)


def brute_force_penalized_assignment(scores, codes, penalty, items, power=4):
    """Item by item, try every path and keep the one with the best *whole* objective."""
    codes = [int(c) for c in codes]
    for v in items:
        best_value, best_path = -np.inf, None
        for c in range(len(scores[v])):  # first best wins, as np.argmax
            trial = codes[:v] + [c] + codes[v + 1:]
            value = brute_force_objective(scores, trial, penalty, power)
            if value > best_value + 1e-12:
                best_value, best_path = value, c
        codes[v] = best_path
    return codes


@pytest.mark.parametrize("seed", range(4))
def test_penalized_assignment_matches_brute_force(seed):
    rng = np.random.default_rng(seed)
    n_items, n_paths = 7, 4
    scores = rng.normal(size=(n_items, n_paths)) + 2.0 * (np.arange(n_paths) == 0)  # path 0 popular
    codes = rng.integers(n_paths, size=n_items)
    items = rng.permutation(n_items)[:5]
    for penalty in [0.0, 0.05, 0.5]:
        fast = assign_with_path_penalty(scores, codes, penalty, items=items)
        assert fast.tolist() == brute_force_penalized_assignment(scores.tolist(), codes, penalty, items)
        assert penalized_objective(scores, fast, penalty) == pytest.approx(brute_force_objective(scores, fast, penalty))
        # a coordinate-ascent pass never lowers the penalised objective
        assert penalized_objective(scores, fast, penalty) >= penalized_objective(scores, codes, penalty) - 1e-9


def test_penalty_spreads_items_over_more_paths():
    rng = np.random.default_rng(0)
    n_items, n_paths = 60, 16
    scores = rng.normal(0, 0.3, size=(n_items, n_paths)) + 3.0 * (np.arange(n_paths) < 2)  # 2 favourite paths
    start = rng.integers(n_paths, size=n_items)
    used, largest = [], []
    for penalty in [0.0, 1e-4, 1e-3, 1e-2]:
        codes = start
        for _ in range(3):
            codes = assign_with_path_penalty(scores, codes, penalty)
        sizes = np.bincount(codes, minlength=n_paths)
        used.append(int((sizes > 0).sum()))
        largest.append(int(sizes.max()))
    assert used[0] == 2 and largest[0] >= 30  # no penalty: everything on the two favourites
    assert used == sorted(used) and largest == sorted(largest, reverse=True)
    assert used[-1] >= 12 and largest[-1] <= 8


def test_reassign_with_penalty_uses_the_click_likelihood_scores():
    user_vectors, pair_users, pair_items, _, _ = planted(seed=5, n_users=30)
    torch.manual_seed(0)
    model = PathModel(4, depth=2, width=3)
    paths = np.random.default_rng(1).integers(3, size=(40, 2))
    per_user = brute_force_path_log_probs(model, torch.tensor(user_vectors, dtype=torch.float32))  # (30, 9)
    scores = np.zeros((40, 9))
    np.add.at(scores, pair_items, per_user[pair_users])  # score(v, c) = Σ over v's clicks
    codes = paths[:, 0] * 3 + paths[:, 1]
    clicked = np.unique(pair_items)
    for penalty in [0.0, 0.02]:
        new_paths = reassign_items(model, user_vectors, pair_users, pair_items, paths, penalty=penalty)
        expected = assign_with_path_penalty(scores, codes, penalty, items=clicked)
        np.testing.assert_array_equal(new_paths[:, 0] * 3 + new_paths[:, 1], expected)
    unclicked = np.setdiff1d(np.arange(40), clicked)
    np.testing.assert_array_equal(new_paths[unclicked], paths[unclicked])  # no clicks: no move


def test_errors():
    with pytest.raises(ValueError):
        PathModel(0, 2, 2)
    model = PathModel(2, 2, 2)
    with pytest.raises(ValueError, match="beam_size"):
        beam_search(model, torch.zeros(1, 2), 0)
    with pytest.raises(ValueError, match="paths must have shape"):
        model(torch.zeros(2, 2), torch.zeros(2, 3, dtype=torch.long))
    with pytest.raises(ValueError, match="pair_items"):
        fit_deep_retrieval(np.zeros((2, 2)), np.array([0]), np.array([5]), n_items=3)
    with pytest.raises(ValueError, match="penalty"):
        assign_with_path_penalty(np.zeros((2, 3)), np.array([0, 1]), penalty=-1.0)
    with pytest.raises(ValueError, match="penalty must be a finite number >= 0"):
        penalized_objective(np.zeros((2, 3)), np.array([0, 1]), penalty=np.inf)
    with pytest.raises(ValueError, match="power must be a finite number >= 1"):
        assign_with_path_penalty(np.zeros((2, 3)), np.array([0, 1]), penalty=1.0, power=0.5)
    with pytest.raises(TypeError, match="penalty"):
        assign_with_path_penalty(np.zeros((2, 3)), np.array([0, 1]), penalty=None)
    with pytest.raises(ValueError, match="codes"):
        assign_with_path_penalty(np.zeros((2, 3)), np.array([0, 3]), penalty=1.0)
    with pytest.raises(ValueError, match="items"):
        assign_with_path_penalty(np.zeros((2, 3)), np.array([0, 1]), penalty=1.0, items=[2])
