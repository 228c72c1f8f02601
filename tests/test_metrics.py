"""Tests for course.metrics against scikit-learn, brute-force loops, hand-computed cases and limits."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from sklearn.calibration import calibration_curve
from sklearn.metrics import log_loss as sklearn_log_loss
from sklearn.metrics import ndcg_score, roc_auc_score

from course.metrics import (
    auc,
    catalogue_coverage,
    ctr,
    daily_active_users,
    expected_calibration_error,
    gauc,
    hit_matrix,
    hit_rate_at_k,
    interactions_per_user,
    intra_list_diversity,
    log_loss,
    lt_retention,
    map_at_k,
    mrr,
    ndcg_at_k,
    novelty,
    precision_at_k,
    recall_at_k,
    reliability_bins,
)
from course.recall.cf import ItemCF

SEEDS = range(6)


# ----------------------------------------------------------------------------- brute-force twins
def naive_auc(labels, scores):
    """Every (positive, negative) pair, a tie worth one half."""
    labels, scores = np.asarray(labels), np.asarray(scores)
    positive, negative = scores[labels == 1][:, None], scores[labels == 0][None, :]  # (P, 1), (1, N)
    return float(((positive > negative) + 0.5 * (positive == negative)).mean())


def naive_gauc(users, labels, scores):
    numerator = denominator = 0.0
    for user in set(users):
        mask = np.asarray(users) == user
        user_labels = np.asarray(labels)[mask]
        if 0 < user_labels.sum() < len(user_labels):
            numerator += mask.sum() * naive_auc(user_labels, np.asarray(scores)[mask])
            denominator += mask.sum()
    return numerator / denominator


def naive_topk(recommended, relevant, k):
    """All six ranking metrics for every user with a relevant item, in plain Python."""
    rows = []
    for items, wanted in zip(recommended, relevant):
        wanted = set(wanted)
        if not wanted:
            continue
        top = list(items)[:k]
        hit = [item in wanted for item in top]
        dcg = sum(h / math.log2(i + 2) for i, h in enumerate(hit))
        idcg = sum(1 / math.log2(i + 2) for i in range(min(k, len(wanted))))
        ap = sum(sum(hit[: i + 1]) / (i + 1) for i, h in enumerate(hit) if h) / min(k, len(wanted))
        reciprocal = next((1 / (i + 1) for i, h in enumerate(hit) if h), 0.0)
        rows.append(dict(precision=sum(hit) / k, recall=sum(hit) / len(wanted), ndcg=dcg / idcg,
                         hit_rate=float(any(hit)), map=ap, mrr=reciprocal))
    return pd.DataFrame(rows).mean()


def random_lists(rng, n_users=40, n_items=30, max_length=12, max_relevant=6):
    """Ragged lists of distinct items; some users have no relevant item, some lists are short."""
    recommended = [list(rng.permutation(n_items)[: rng.integers(0, max_length + 1)]) for _ in range(n_users)]
    relevant = [set(rng.choice(n_items, rng.integers(0, max_relevant + 1), replace=False).tolist())
                for _ in range(n_users)]
    relevant[0] = {int(recommended[0][0])} if recommended[0] else {0}  # at least one user counts
    return recommended, relevant


# ----------------------------------------------------------------------------- AUC / GAUC
@pytest.mark.parametrize("seed", SEEDS)
def test_auc_matches_sklearn_and_pairs_with_ties(seed):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, 300)
    scores = np.round(rng.random(300) + 0.4 * labels, 1)  # rounded: many ties
    assert auc(labels, scores) == pytest.approx(roc_auc_score(labels, scores), abs=1e-12)
    assert auc(labels, scores) == pytest.approx(naive_auc(labels, scores), abs=1e-12)


def test_auc_limits():
    labels = np.array([0, 0, 1, 1, 0, 1])
    scores = np.array([0.1, 0.2, 0.7, 0.9, 0.3, 0.8])
    assert auc(labels, scores) == 1.0
    assert auc(labels, -scores) == 0.0
    assert auc(labels, np.full(6, 0.3)) == 0.5
    assert auc(labels.astype(bool), scores) == 1.0


@pytest.mark.parametrize("seed", SEEDS)
def test_gauc_matches_per_user_loop(seed):
    rng = np.random.default_rng(seed)
    users = rng.integers(0, 25, 400)
    labels = (rng.random(400) < 0.3).astype(int)
    # Coarse scores: ties within users and, for odd seeds, runs of equal scores across users.
    scores = np.round(rng.random(400) + 0.3 * labels, 0 if seed % 2 else 1)
    assert gauc(users, labels, scores) == pytest.approx(naive_gauc(users, labels, scores), abs=1e-12)


def test_gauc_hand_example_and_properties():
    users = ["a", "a", "a", "b", "b", "c"]
    labels = [1, 0, 0, 1, 0, 1]
    scores = [0.9, 0.2, 0.5, 0.1, 0.3, 0.4]
    # a: AUC 1 over 3 impressions, b: AUC 0 over 2, c: a single class, skipped.
    assert gauc(users, labels, scores) == pytest.approx(3 / 5)
    # One user: GAUC is AUC. Adding a per-user offset changes AUC but never GAUC.
    rng = np.random.default_rng(0)
    y, s = rng.integers(0, 2, 50), rng.random(50)
    assert gauc(np.zeros(50), y, s) == pytest.approx(auc(y, s))
    assert gauc(rng.integers(0, 5, 50), y, np.ones(50)) == pytest.approx(0.5)  # constant scores
    users = rng.integers(0, 5, 50)
    assert gauc(users, y, s + 10 * users) == pytest.approx(gauc(users, y, s))


# ----------------------------------------------------------------------------- log loss, calibration
@pytest.mark.parametrize("seed", SEEDS)
def test_log_loss_matches_sklearn(seed):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, 200)
    probabilities = rng.uniform(0.01, 0.99, 200)
    assert log_loss(labels, probabilities) == pytest.approx(sklearn_log_loss(labels, probabilities), rel=1e-12)


def test_log_loss_clips_confident_mistakes():
    assert log_loss([1, 0], [1.0, 0.0]) == pytest.approx(-math.log(1 - 1e-15), abs=1e-12)
    assert log_loss([1], [0.0], eps=1e-7) == pytest.approx(-math.log(1e-7))


@pytest.mark.parametrize("seed", SEEDS)
def test_calibration_matches_brute_force_and_sklearn(seed):
    rng = np.random.default_rng(seed)
    probabilities = rng.beta(2, 5, 500)
    labels = (rng.random(500) < probabilities**0.8).astype(int)
    table = reliability_bins(labels, probabilities, n_bins=8)
    expected_fraction, expected_mean = calibration_curve(labels, probabilities, n_bins=8, strategy="uniform")
    filled = table[table["count"] > 0]
    np.testing.assert_allclose(filled["fraction_positive"], expected_fraction)
    np.testing.assert_allclose(filled["mean_predicted"], expected_mean)
    assert table["count"].sum() == 500 and len(table) == 8
    brute = 0.0
    for low in np.arange(8) / 8:
        inside = (probabilities >= low) & (probabilities < low + 1 / 8)
        if inside.any():
            brute += inside.mean() * abs(probabilities[inside].mean() - labels[inside].mean())
    assert expected_calibration_error(labels, probabilities, n_bins=8) == pytest.approx(brute, abs=1e-12)


def test_calibration_limits():
    # Perfectly calibrated bins give 0; p = 1 lands in the last bin.
    labels = [0, 0, 0, 1, 1, 1]
    assert expected_calibration_error(labels, [0.25, 0.25, 0.25, 0.25, 1.0, 1.0], n_bins=4) == pytest.approx(0.0)
    assert reliability_bins(labels, [0.0] * 3 + [1.0] * 3, n_bins=5)["count"].tolist() == [3, 0, 0, 0, 3]
    assert expected_calibration_error([1, 1], [0.0, 0.0]) == 1.0


# ----------------------------------------------------------------------------- top-k ranking
@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("k", [1, 3, 10, 15])
def test_topk_metrics_match_python_loops(seed, k):
    recommended, relevant = random_lists(np.random.default_rng(seed))
    expected = naive_topk(recommended, relevant, k)
    assert precision_at_k(recommended, relevant, k) == pytest.approx(expected["precision"])
    assert recall_at_k(recommended, relevant, k) == pytest.approx(expected["recall"])
    assert ndcg_at_k(recommended, relevant, k) == pytest.approx(expected["ndcg"])
    assert hit_rate_at_k(recommended, relevant, k) == pytest.approx(expected["hit_rate"])
    assert map_at_k(recommended, relevant, k) == pytest.approx(expected["map"])
    assert mrr(recommended, relevant, k) == pytest.approx(expected["mrr"])


def test_mrr_without_cutoff_reads_whole_lists():
    recommended, relevant = random_lists(np.random.default_rng(1))
    assert mrr(recommended, relevant) == pytest.approx(naive_topk(recommended, relevant, 10**6)["mrr"])


@pytest.mark.parametrize("seed", SEEDS)
def test_ndcg_matches_sklearn_on_full_rankings(seed):
    # sklearn ranks every item by score with graded relevance; a full permutation as the list and
    # 0/1 relevance make the two definitions coincide.
    rng = np.random.default_rng(seed)
    n_users, n_items, k = 20, 25, 7
    recommended = np.array([rng.permutation(n_items) for _ in range(n_users)])
    truth = (rng.random((n_users, n_items)) < 0.2).astype(int)
    truth[:, 0] = 1  # every user has a relevant item (sklearn would count the others as 0)
    relevant = [np.flatnonzero(row) for row in truth]
    scores = np.empty((n_users, n_items))
    scores[np.arange(n_users)[:, None], recommended] = np.arange(n_items, 0, -1)
    assert ndcg_at_k(recommended, relevant, k) == pytest.approx(ndcg_score(truth, scores, k=k))


def test_topk_hand_example_and_limits():
    recommended = [["a", "b", "c"], ["x", "y"], ["p"]]
    relevant = [{"b", "z"}, {"x", "y"}, set()]  # the third user is skipped
    assert precision_at_k(recommended, relevant, 2) == pytest.approx((1 / 2 + 2 / 2) / 2)
    assert recall_at_k(recommended, relevant, 2) == pytest.approx((1 / 2 + 1) / 2)
    first_user_ndcg = (1 / math.log2(3)) / (1 + 1 / math.log2(3))  # hit at rank 2, two relevant
    assert ndcg_at_k(recommended, relevant, 2) == pytest.approx((first_user_ndcg + 1) / 2)
    assert map_at_k(recommended, relevant, 3) == pytest.approx((0.5 / 2 + 1) / 2)
    assert mrr(recommended, relevant) == pytest.approx((1 / 2 + 1) / 2)
    # Precision divides by k even for a list shorter than k.
    assert precision_at_k([[1, 2]], [{1, 2}], k=4) == 0.5
    # Perfect lists.
    perfect = np.arange(12).reshape(3, 4)
    assert ndcg_at_k(perfect, [set(row) for row in perfect], 4) == 1.0
    assert ndcg_at_k(perfect, [set(range(100))] * 3, 4) == 1.0  # more relevant items than k
    assert precision_at_k(perfect, [set(range(12))] * 3, 4) == 1.0
    assert map_at_k(perfect, [set(row[:2]) for row in perfect], 4) == 1.0
    assert hit_rate_at_k(perfect, [{99}] * 3, 4) == 0.0


def test_hit_matrix_array_and_list_inputs_agree():
    recommended, relevant = random_lists(np.random.default_rng(3), max_length=8)
    square = np.array([list(rng_list) + [1000 + i for i in range(8 - len(rng_list))] for rng_list in recommended])
    hits_list, n_list = hit_matrix(recommended, relevant, 8)
    hits_array, n_array = hit_matrix(square, relevant, 8)
    np.testing.assert_array_equal(hits_list, hits_array)
    np.testing.assert_array_equal(n_list, [len(r) for r in relevant])


def padded(lists, width, pad=-1):
    """Ragged lists as a 2-D int array, each row padded with ``pad`` after its items."""
    table = np.full((len(lists), width), pad, dtype=np.int64)
    for row, items in enumerate(lists):
        table[row, : len(items)] = list(items)
    return table


RANKING_METRICS = (precision_at_k, recall_at_k, ndcg_at_k, hit_rate_at_k, map_at_k, mrr)


@pytest.mark.parametrize("seed", SEEDS)
def test_minus_one_padding_scores_like_the_ragged_lists(seed):
    # -1 is an empty slot, not item -1: several of them in a row are no repeat, none is a hit,
    # and a padded relevant array is the same as the sets.
    recommended, relevant = random_lists(np.random.default_rng(seed))
    width = max(map(len, recommended)) + 2
    table = padded(recommended, width)
    relevant_table = padded([sorted(r) for r in relevant], max(map(len, relevant)) + 1)
    for k in (1, 3, 10, 15):
        hits, n_relevant = hit_matrix(recommended, relevant, k)
        for inputs in ((table, relevant), (table, relevant_table)):
            padded_hits, padded_n_relevant = hit_matrix(*inputs, k)
            np.testing.assert_array_equal(padded_hits, hits)
            np.testing.assert_array_equal(padded_n_relevant, n_relevant)
            for metric in RANKING_METRICS:
                assert metric(*inputs, k) == metric(recommended, relevant, k)
    assert mrr(table, relevant) == mrr(recommended, relevant)
    # beyond accuracy: empty slots cover nothing, form no pair, carry no novelty
    rng = np.random.default_rng(seed)
    vectors, popularity = rng.normal(size=(30, 4)), rng.integers(1, 50, 30)
    recommended[1] = [3, 4, 5]
    table = padded(recommended, width)
    assert catalogue_coverage(table, 30) == catalogue_coverage(recommended, 30)
    assert intra_list_diversity(table, vectors) == pytest.approx(intra_list_diversity(recommended, vectors))
    assert novelty(table, popularity) == pytest.approx(novelty(recommended, popularity))


def test_an_empty_slot_keeps_its_position_and_itemcf_output_is_accepted():
    # A hole in the middle of a list: the hit after it stays at rank 2, as in the naive loop.
    assert ndcg_at_k(np.array([[-1, 2]]), [{2}], k=2) == pytest.approx(1 / math.log2(3))
    assert mrr(np.array([[-1, 2, -1]]), [{2}]) == 0.5
    assert precision_at_k(np.array([[-1, -1, -1]]), [{2}], k=3) == 0.0
    # ItemCF pads short lists with -1 (several in a row: formerly "a list repeats an item")
    R = np.array([[5, 3, 0, 0, 2], [2, 0, 0, 1, 4], [0, 0, 4, 3, 0]])
    top = ItemCF().fit(R).recommend([0, 1, 2], k=4, exclude=R)[0]
    assert (top == -1).sum(axis=1).max() >= 2
    ragged = [row[row >= 0].tolist() for row in top]
    truth = [{2, 3}, {1}, {0}]
    for metric in RANKING_METRICS:
        assert metric(top, truth, 4) == pytest.approx(naive_topk(ragged, truth, 4)[metric_key(metric)])
    # ragged lists are taken as given: a negative id there is an id (out of the catalogue here)
    with pytest.raises(ValueError, match=r"\[0, 3\)"):
        catalogue_coverage([[-1, 0]], 3)


def metric_key(metric):
    return {"precision_at_k": "precision", "recall_at_k": "recall", "ndcg_at_k": "ndcg",
            "hit_rate_at_k": "hit_rate", "map_at_k": "map", "mrr": "mrr"}[metric.__name__]


@pytest.mark.parametrize(
    "relabel", [lambda i: f"note_{i}", lambda i: i * 2**58, lambda i: float(i), lambda i: np.int32(i)]
)
def test_topk_ignores_how_ids_are_spelled(relabel):
    # Strings and huge ints take the hashing path, small ints the offset path: same answers.
    recommended, relevant = random_lists(np.random.default_rng(4))
    renamed_recommended = [[relabel(int(i)) for i in items] for items in recommended]
    renamed_relevant = [{relabel(int(i)) for i in items} for items in relevant]
    for metric in (precision_at_k, recall_at_k, ndcg_at_k, hit_rate_at_k, map_at_k, mrr):
        assert metric(renamed_recommended, renamed_relevant, 5) == pytest.approx(metric(recommended, relevant, 5))


# ----------------------------------------------------------------------------- beyond accuracy
@pytest.mark.parametrize("seed", SEEDS)
def test_beyond_accuracy_match_brute_force(seed):
    rng = np.random.default_rng(seed)
    recommended, _ = random_lists(rng, n_items=30)
    recommended[1] = [3, 4, 5]  # at least one list with pairs
    vectors = rng.normal(size=(30, 4))
    popularity = rng.integers(1, 50, 30)

    assert catalogue_coverage(recommended, 30) == pytest.approx(len({i for r in recommended for i in r}) / 30)
    per_list = []
    for items in recommended:
        pairs = [(i, j) for a, i in enumerate(items) for j in items[a + 1:]]
        if pairs:
            cosine = [vectors[i] @ vectors[j] / np.linalg.norm(vectors[i]) / np.linalg.norm(vectors[j])
                      for i, j in pairs]
            per_list.append(np.mean([1 - c for c in cosine]))
    assert intra_list_diversity(recommended, vectors) == pytest.approx(np.mean(per_list))
    share = popularity / popularity.sum()
    self_information = [-math.log2(share[i]) for items in recommended for i in items]
    assert novelty(recommended, popularity) == pytest.approx(np.mean(self_information))


def test_beyond_accuracy_limits():
    vectors = np.array([[1.0, 0.0], [2.0, 0.0], [0.0, 3.0]])
    assert intra_list_diversity([[0, 1]], vectors) == pytest.approx(0.0)  # same direction
    assert intra_list_diversity(np.array([[0, 2]]), vectors) == pytest.approx(1.0)  # orthogonal
    assert catalogue_coverage([[0, 1], [2]], 3) == 1.0
    assert novelty([[0, 1]], [1, 1]) == pytest.approx(1.0)  # two equally popular items: 1 bit


# ----------------------------------------------------------------------------- online metrics
def test_ctr_and_interactions_per_user():
    log = pd.DataFrame({
        "user_id": [1, 1, 2, 2, 3],
        "click": [1, 1, 0, 1, 0],
        "like": [1, 0, 0, 1, 0],
        "collect": [0, 1, 0, 0, 0],
        "share": [0, 0, 0, 1, 0],
        "comment": [1, 0, 0, 0, 0],
    })
    assert ctr(log) == pytest.approx(3 / 5)
    assert interactions_per_user(log) == pytest.approx(5 / 3)  # user 3 counts, with 0
    assert interactions_per_user(log, actions=("like",)) == pytest.approx(2 / 3)


def test_daily_active_users_matches_groupby():
    rng = np.random.default_rng(0)
    activity = pd.DataFrame({"user_id": rng.integers(0, 30, 200), "day": rng.integers(0, 10, 200)})
    expected = activity.groupby("day")["user_id"].nunique()  # duplicates in the log count once
    np.testing.assert_array_equal(daily_active_users(activity).to_numpy(), expected.to_numpy())
    gap = pd.DataFrame({"user_id": [1, 2], "day": [3, 5]})
    assert daily_active_users(gap).to_dict() == {3: 1, 4: 0, 5: 1}


def test_lt_retention_hand_example():
    # Users active on day 1: u1 (days 1, 2, 4), u2 (day 1 only), u3 (days 1..4 and 9).
    # LT3 from day 1 = window days 1, 2, 3: u1 2, u2 1, u3 3 -> 6 / 3. u4 (not on day 1) ignored.
    activity = pd.DataFrame({
        "user_id": ["u1", "u1", "u1", "u2", "u3", "u3", "u3", "u3", "u3", "u4", "u4"],
        "day": [1, 2, 4, 1, 1, 2, 3, 4, 9, 2, 3],
    })
    assert lt_retention(activity, start_day=1, horizon=3) == pytest.approx(2.0)
    assert lt_retention(activity, start_day=1, horizon=4) == pytest.approx((3 + 1 + 4) / 3)
    assert lt_retention(activity, start_day=1, horizon=1) == 1.0  # LT1: only t0


@pytest.mark.parametrize("seed", SEEDS)
def test_lt_retention_matches_loop_and_bounds(seed):
    rng = np.random.default_rng(seed)
    activity = pd.DataFrame({"user_id": rng.integers(0, 20, 300), "day": rng.integers(0, 15, 300)})
    days_of = activity.groupby("user_id")["day"].apply(set)
    cohort = [user for user, days in days_of.items() if 3 in days]
    expected = np.mean([len(days_of[user] & set(range(3, 10))) for user in cohort])
    value = lt_retention(activity, start_day=3, horizon=7)
    assert value == pytest.approx(expected)
    assert 1.0 <= value <= 7.0


# ----------------------------------------------------------------------------- errors
VALID_LISTS = ([[1, 2]], [{1}])
ERRORS = [
    (ValueError, "mismatch", lambda: auc([0, 1], [0.1, 0.2, 0.3])),
    (ValueError, "single class", lambda: auc([1, 1, 1], [0.1, 0.2, 0.3])),
    (ValueError, "empty", lambda: auc([], [])),
    (ValueError, "0 and 1", lambda: auc([0, 2], [0.1, 0.2])),
    (ValueError, "NaN", lambda: auc([0, 1], [0.1, np.nan])),
    (TypeError, "numbers", lambda: auc(["a", "b"], [0.1, 0.2])),
    (TypeError, "1-D array-like", lambda: auc("01", [0.1, 0.2])),
    (ValueError, "no user", lambda: gauc([1, 1, 2], [1, 1, 0], [0.1, 0.2, 0.3])),
    (ValueError, "mismatch", lambda: gauc([1, 2], [0, 1, 1], [0.1, 0.2, 0.3])),
    (ValueError, r"\[0, 1\]", lambda: log_loss([0, 1], [0.2, 1.3])),
    (ValueError, r"\[0, 1\]", lambda: expected_calibration_error([0, 1], [-0.1, 0.5])),
    (ValueError, r"\[0, 1\]", lambda: reliability_bins([0, 1], [0.1, 7.0])),
    (ValueError, "n_bins", lambda: expected_calibration_error([0, 1], [0.1, 0.5], n_bins=0)),
    (ValueError, ">= 1", lambda: ndcg_at_k(*VALID_LISTS, k=0)),
    (TypeError, "int", lambda: precision_at_k(*VALID_LISTS, k=2.0)),
    (ValueError, "mismatch", lambda: recall_at_k([[1], [2]], [{1}], k=1)),
    (ValueError, "empty", lambda: hit_rate_at_k([], [], k=1)),
    (ValueError, "no user has any relevant", lambda: map_at_k([[1, 2]], [set()], k=2)),
    (ValueError, "repeats", lambda: ndcg_at_k([[1, 1, 2]], [{1}], k=3)),
    (TypeError, "different types", lambda: precision_at_k([[1, 2]], [{"1"}], k=2)),
    (TypeError, "string", lambda: precision_at_k(["ab"], [{"a"}], k=2)),
    (TypeError, "single id", lambda: recall_at_k([[1]], [1], k=1)),
    (TypeError, "ordered", lambda: mrr([{1, 2}], [{1}])),
    (TypeError, "sequence", lambda: ndcg_at_k(5, [{1}], k=1)),
    (ValueError, r"\[0, 3\)", lambda: catalogue_coverage([[0, 3]], 3)),
    (TypeError, "integers", lambda: novelty([["a"]], [1])),
    (ValueError, "popularity 0", lambda: novelty([[1]], [3, 0])),
    (ValueError, "zero vector", lambda: intra_list_diversity([[0, 1]], np.array([[1.0, 0.0], [0.0, 0.0]]))),
    (ValueError, "fewer than two", lambda: intra_list_diversity([[0], [1]], np.eye(2))),
    (TypeError, "DataFrame", lambda: ctr({"click": [1]})),
    (ValueError, "missing columns", lambda: ctr(pd.DataFrame({"clicked": [1]}))),
    (ValueError, "empty", lambda: ctr(pd.DataFrame({"click": []}))),
    (ValueError, "0/1", lambda: interactions_per_user(pd.DataFrame({"user_id": [1], "like": [2]}), ("like",))),
    (TypeError, "tuple of column names", lambda: interactions_per_user(pd.DataFrame({"user_id": [1]}), "like")),
    (ValueError, "runs past", lambda: lt_retention(pd.DataFrame({"user_id": [1, 1], "day": [0, 5]}), 0, 7)),
    (ValueError, "no user was active", lambda: lt_retention(pd.DataFrame({"user_id": [1, 1], "day": [0, 5]}), 1, 2)),
    (TypeError, "integer day", lambda: daily_active_users(pd.DataFrame({"user_id": [1], "day": ["mon"]}))),
]


@pytest.mark.parametrize("error, message, call", ERRORS)
def test_errors(error, message, call):
    with pytest.raises(error, match=message):
        call()


def test_gauc_equals_the_exercise_loop():
    """course.metrics.gauc (one sort, bincount) against exercise 03f.1's loop over users and pairs."""
    from course.exercises import get_exercise
    exercise, rng = get_exercise("03f.1"), np.random.default_rng(1)
    for _ in range(100):
        case = exercise.make_case(rng)
        assert gauc(case["user_ids"], case["labels"], case["scores"]) == pytest.approx(exercise.reference(**case), abs=1e-12)
