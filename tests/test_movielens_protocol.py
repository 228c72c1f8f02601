"""The MovieLens-100K protocol of Microsoft Recommenders (course.evaluation.movielens).

Compared against: literal pandas re-implementations of both versions of recommenders'
``python_stratified_split``, the split sizes their SAR notebook prints (74,992 / 25,008 ratings,
1,649 / 1,444 items), a loop implementation of the metrics, and the published nDCG@10 range.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from course.evaluation.movielens import (PUBLISHED_MOVIELENS_100K, evaluate_top_k, fit_and_recommend,
                                         movielens_benchmark_table, split_matrices,
                                         stratified_split)
from course.recall.cf import ItemCF, MostPopular


def synthetic_ratings(seed=0, n_users=25):
    rng = np.random.default_rng(seed)
    counts = rng.integers(1, 40, n_users)
    users = np.repeat(rng.permutation(np.arange(100, 100 + n_users)), counts)
    frame = pd.DataFrame({"user_id": users, "item_id": rng.integers(0, 500, users.size),
                          "rating": rng.integers(1, 6, users.size)})
    return frame.sample(frac=1, random_state=1).reset_index(drop=True)  # users interleaved


def reference_shuffle_round(data, ratio=0.75, seed=42):
    """recommenders' original loop: per user, DataFrame.sample(frac=1) then np.split at round()."""
    train, test = [], []
    for _, group in data.groupby("user_id"):
        shuffled = group.sample(frac=1, random_state=seed)
        cut = round(ratio * len(shuffled))
        train.append(shuffled.iloc[:cut])
        test.append(shuffled.iloc[cut:])
    return pd.concat(train), pd.concat(test)


def reference_random_rank(data, ratio=0.75, seed=42):
    """recommenders' later version: one random draw per row, rank / count <= ratio."""
    data = data.copy()
    data["random"] = np.random.RandomState(seed).rand(len(data))
    data = data.sort_values(["user_id", "random"])
    groups = data.groupby("user_id")
    rank = (groups.cumcount() + 1) / groups["user_id"].transform("count")
    return data[rank <= ratio].drop(columns="random"), data[rank > ratio].drop(columns="random")


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("method, reference", [("shuffle_round", reference_shuffle_round),
                                               ("random_rank", reference_random_rank)])
def test_split_matches_reference_implementation(seed, method, reference):
    ratings = synthetic_ratings(seed)
    train, test = stratified_split(ratings, method=method)
    expected_train, expected_test = reference(ratings)
    assert sorted(train.index) == sorted(expected_train.index)
    assert sorted(test.index) == sorted(expected_test.index)
    assert len(train) + len(test) == len(ratings) and not set(train.index) & set(test.index)


def test_split_sizes_per_user():
    ratings = synthetic_ratings(3)
    train, _ = stratified_split(ratings)
    counts = ratings.groupby("user_id").size()
    np.testing.assert_array_equal(train.groupby("user_id").size().reindex(counts.index),
                                  np.round(0.75 * counts))


def test_metrics_match_loops():
    rng = np.random.default_rng(0)
    n_users, n_items, k = 30, 40, 10
    recommended = np.array([rng.permutation(n_items)[:12] for _ in range(n_users)])
    recommended[::4, 7:] = -1  # short lists, padded
    relevant = [set(rng.choice(n_items, rng.integers(1, 15), replace=False)) for _ in range(n_users)]
    ndcg = precision = recall = 0.0
    for row, rel in zip(recommended, relevant):
        gains = [1.0 if item in rel else 0.0 for item in row[:k]]
        dcg = sum(g / math.log2(i + 2) for i, g in enumerate(gains))
        ideal = sum(1 / math.log2(i + 2) for i in range(min(k, len(rel))))
        ndcg += dcg / ideal
        precision += sum(gains) / k
        recall += sum(gains) / len(rel)
    got = evaluate_top_k(recommended, relevant, k=k)
    assert got == pytest.approx({"ndcg@10": ndcg / n_users, "precision@10": precision / n_users,
                                 "recall@10": recall / n_users})


def test_validation():
    with pytest.raises(ValueError, match="columns"):
        stratified_split(pd.DataFrame({"user_id": [1]}))
    with pytest.raises(ValueError, match="ratio"):
        stratified_split(synthetic_ratings(), ratio=1.0)
    with pytest.raises(ValueError, match="method"):
        stratified_split(synthetic_ratings(), method="chrono")
    with pytest.raises(ValueError, match="users"):
        evaluate_top_k(np.zeros((2, 3), dtype=int), [{1}], k=2)


@pytest.fixture(scope="module")
def movielens():
    from course.datasets import movielens_100k
    try:
        return movielens_100k().ratings
    except FileNotFoundError as error:  # DatasetNotInstalledError
        pytest.skip(str(error))


def test_published_split_sizes(movielens):
    # Printed by recommenders' examples/00_quick_start/sar_movielens.ipynb after
    # python_stratified_split(data, ratio=0.75, seed=42).
    train, test = stratified_split(movielens)
    assert (len(train), len(test)) == (74_992, 25_008)
    assert (train.item_id.nunique(), test.item_id.nunique()) == (1_649, 1_444)


@pytest.mark.slow
def test_itemcf_reaches_the_published_range(movielens):
    train, test, _, _ = split_matrices(movielens)
    users = np.arange(train.shape[0])
    itemcf = evaluate_top_k(ItemCF().fit(train).recommend(users, 10, exclude=train)[0], test)
    popular = evaluate_top_k(fit_and_recommend(MostPopular)(train, 10), test)
    # Published: SAR 0.382, BPR 0.442; a popularity list is far behind.
    # The exact numbers the notebook and benchmarks/RESULTS.md print (issue's aim: >= 0.40).
    assert itemcf == pytest.approx({"ndcg@10": 0.4007, "precision@10": 0.3440, "recall@10": 0.1837},
                                   abs=1e-4)
    assert popular["ndcg@10"] == pytest.approx(0.2512, abs=1e-4)


def test_benchmark_table_limits_on_synthetic_ratings():
    # A model that knows the test split puts every held-out item first: nDCG@k = 1 for every
    # user and recall@k = min(k, |test|) / |test|; one that recommends nothing scores 0.
    ratings = synthetic_ratings(5)
    _, test, _, _ = split_matrices(ratings)
    k = 5

    def cheat(train, n):
        out = np.full((train.shape[0], n), -1)
        for u in range(train.shape[0]):
            held_out = test[u].indices[:n]
            out[u, :held_out.size] = held_out
        return out

    table = movielens_benchmark_table({"cheat": cheat, "nothing": lambda R, n: np.full((R.shape[0], n), -1)},
                                      ratings, k=k, published=False)
    counts = np.diff(test.indptr)
    with_test = counts > 0
    cheat_row = table.set_index("model").loc["cheat"]
    assert cheat_row["nDCG@5"] == pytest.approx(1.0)
    assert cheat_row["recall@5"] == pytest.approx(np.mean(np.minimum(k, counts[with_test]) / counts[with_test]))
    assert cheat_row["precision@5"] == pytest.approx(np.mean(np.minimum(k, counts[with_test]) / k))
    assert table.set_index("model").loc["nothing", ["nDCG@5", "precision@5", "recall@5"]].sum() == 0
    assert list(table["model"]) == ["cheat", "nothing"] and set(table["source"]) == {"course"}


def test_benchmark_table_validation():
    ratings = synthetic_ratings(6)
    with pytest.raises(ValueError, match="shape"):
        movielens_benchmark_table({"bad": lambda R, n: np.zeros((1, n), dtype=int)}, ratings)
    with pytest.raises(TypeError, match="callable"):
        movielens_benchmark_table({"bad": 3}, ratings)
    with pytest.raises(ValueError, match="non-empty"):
        movielens_benchmark_table({}, ratings)


@pytest.mark.slow
def test_benchmark_table_on_movielens(movielens):
    models = {"popularity": fit_and_recommend(MostPopular), "ItemCF": fit_and_recommend(ItemCF)}
    table = movielens_benchmark_table(models, movielens).set_index("model")
    # The same numbers as running the protocol by hand.
    train, test, _, _ = split_matrices(movielens)
    direct = evaluate_top_k(ItemCF().fit(train).recommend(np.arange(train.shape[0]), 10, exclude=train)[0], test)
    assert table.loc["ItemCF", "nDCG@10"] == pytest.approx(direct["ndcg@10"])
    assert table.loc["ItemCF", "source"] == "course"
    assert table.loc["ItemCF", "nDCG@10"] == pytest.approx(0.4007, abs=1e-4)  # published SAR: 0.382
    assert table.loc["popularity", "nDCG@10"] == pytest.approx(0.2512, abs=1e-4)
    published = table[table["source"] == "published"]
    assert len(published) == len(PUBLISHED_MOVIELENS_100K) and published["seconds"].isna().all()
    assert published.loc["SAR", "nDCG@10"] == 0.382461 and published.loc["BPR", "nDCG@10"] == 0.441997
    assert table["nDCG@10"].is_monotonic_decreasing
