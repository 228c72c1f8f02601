"""The MovieLens two-tower recommender: planted structure, determinism, seen items, errors."""
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from course.datasets import MovieLens
from course.evaluation.movielens_two_tower import (movielens_two_tower, validation_ensemble, validation_grid,
                                                  validation_split)

pytestmark = pytest.mark.slow  # trains two-tower models


def planted_movielens(n_users=120, n_items=60, per_user=8, seed=0):
    """Two tastes: even users rate only 'Comedy' movies (even ids), odd users only 'Drama'."""
    rng = np.random.default_rng(seed)
    user_ids, item_ids = np.arange(1, n_users + 1), np.arange(1, n_items + 1)
    taste = user_ids % 2                                   # 0: comedy, 1: drama
    rows = []
    for user, kind in zip(user_ids, taste):
        pool = item_ids[(item_ids % 2) == kind]
        rows += [(user, item) for item in rng.choice(pool, per_user, replace=False)]
    ratings = pd.DataFrame(rows, columns=["user_id", "item_id"]).assign(rating=4, timestamp=0)
    users = pd.DataFrame({"user_id": user_ids, "age": rng.integers(18, 60, n_users),
                          "gender": np.where(taste == 0, "M", "F"), "occupation": "other",
                          "zip_code": "00000"})
    items = pd.DataFrame({"item_id": item_ids, "title": [f"movie {i}" for i in item_ids],
                          "release_year": pd.array(1990 + item_ids % 10, dtype="Int64"),
                          "genres": np.where(item_ids % 2 == 0, "Comedy", "Drama")})
    return MovieLens(ratings, users, items)


@pytest.fixture(scope="module")
def planted():
    data = planted_movielens()
    train = sp.csr_matrix((np.ones(len(data.ratings)), (data.ratings.user_id - 1, data.ratings.item_id - 1)),
                          shape=(120, 60))
    return data, train


def test_learns_the_planted_tastes_and_skips_seen(planted):
    data, train = planted
    top = movielens_two_tower(data, epochs=20, batch_size=64, embedding_dim=8, output_dim=8)(train, 5)
    assert top.shape == (120, 5)
    # row r is user r + 1 and column c is movie c + 1: both parities flip, so they still match
    same_taste = ((top % 2) == (np.arange(120) % 2)[:, None]).mean()
    assert same_taste > 0.9, same_taste                    # random lists: 0.5
    assert not train[np.arange(120)[:, None], top].toarray().any()   # no seen movie returned


def test_same_seed_same_lists_and_log_q_changes_them(planted):
    data, train = planted
    make = lambda **kw: movielens_two_tower(data, epochs=2, batch_size=64, embedding_dim=8, output_dim=8, **kw)
    first, second = make()(train, 5), make()(train, 5)
    np.testing.assert_array_equal(first, second)
    assert not np.array_equal(first, make(log_q_correction=False)(train, 5))
    assert not np.array_equal(first, make(weight_decay=0.0)(train, 5))   # the default's 5e-4 acts


def test_defaults_are_the_validation_choice():
    defaults = movielens_two_tower.__kwdefaults__   # tools/movielens_two_tower_search.py's choice
    assert {name: defaults[name] for name in ("temperature", "weight_decay", "epochs", "n_models")} == \
        {"temperature": 0.1, "weight_decay": 5e-4, "epochs": 8, "n_models": 3}


def test_an_ensemble_is_one_two_tower_with_concatenated_vectors(planted):
    """n_models=2 serves the summed cosines of the seed-0 and seed-1 models (a loop twin)."""
    from course.evaluation.movielens_two_tower import _fit
    data, train = planted
    settings = dict(epochs=2, batch_size=64, embedding_dim=8, output_dim=8)
    top = movielens_two_tower(data, n_models=2, **settings)(train, 5)
    full = {name: value for name, value in movielens_two_tower.__kwdefaults__.items()
            if name not in ("n_models", "seed")} | settings
    runs = [_fit(data, train, seed=seed, **full) for seed in (0, 1)]
    scores = sum(users @ items.T for users, items in runs)            # (n_users, n_items)
    scores[train.toarray() > 0] = -np.inf
    expected = np.argsort(-scores, axis=1, kind="stable")[:, :5]
    np.testing.assert_array_equal(top, expected)
    assert not np.array_equal(top, movielens_two_tower(data, n_models=1, **settings)(train, 5))


def test_validation_ensemble_columns_are_the_single_runs_and_their_ensemble(planted):
    data, train = planted
    settings = dict(batch_size=64, embedding_dim=8, output_dim=8)
    table = validation_ensemble(data, train, n_models=2, epochs=2, **settings)
    assert list(table.columns) == ["seed 0", "seed 1", "mean of the single models", "ensemble"]
    assert table.index.tolist() == [1, 2]
    grid = validation_grid(data, train, [{}], epochs=2, **settings)      # seed 0, one model
    np.testing.assert_allclose(table["seed 0"], grid["valid nDCG@10"])
    np.testing.assert_allclose(table["mean of the single models"], table[["seed 0", "seed 1"]].mean(axis=1))
    assert table["ensemble"].between(0, 1).all()
    with pytest.raises(ValueError, match="n_models"):
        validation_ensemble(data, train, n_models=0, epochs=1)


def test_validation_ensemble_vectors_reproduce_the_last_row(planted):
    from course.evaluation.movielens import evaluate_top_k

    data, train = planted
    settings = dict(batch_size=64, embedding_dim=8, output_dim=8)
    table, vectors = validation_ensemble(data, train, n_models=2, epochs=2, return_vectors=True, **settings)
    pd.testing.assert_frame_equal(table, validation_ensemble(data, train, n_models=2, epochs=2, **settings))
    assert len(vectors) == 2 and all(u.shape == (120, 8) and i.shape == (60, 8) for u, i in vectors)
    fit, valid = validation_split(train, 0.2, 0)

    def ndcg(pairs):                  # a dense twin of the ensemble's top-10: summed inner products
        scores = sum(u @ i.T for u, i in pairs)
        scores[fit.toarray() > 0] = -np.inf
        return evaluate_top_k(np.argsort(-scores, axis=1, kind="stable")[:, :10], valid, 10)["ndcg@10"]

    assert ndcg(vectors[:1]) == pytest.approx(table["seed 0"].iloc[-1], abs=1e-12)
    assert ndcg(vectors[1:]) == pytest.approx(table["seed 1"].iloc[-1], abs=1e-12)
    assert ndcg(vectors) == pytest.approx(table["ensemble"].iloc[-1], abs=1e-12)
    with pytest.raises(TypeError, match="return_vectors"):
        validation_ensemble(data, train, n_models=1, epochs=1, return_vectors=1)


def test_errors(planted):
    data, train = planted
    with pytest.raises(ValueError, match="epochs"):
        movielens_two_tower(data, epochs=0)
    with pytest.raises(ValueError, match="temperature"):
        movielens_two_tower(data, temperature=-1.0)
    with pytest.raises(ValueError, match="weight_decay"):
        movielens_two_tower(data, weight_decay=-1e-4)
    with pytest.raises(TypeError, match="weight_decay"):
        movielens_two_tower(data, weight_decay="0")
    with pytest.raises(ValueError, match="expected"):
        movielens_two_tower(data, epochs=1)(train[:10], 5)


def test_validation_split_is_disjoint_sized_by_user_and_deterministic():
    rng = np.random.default_rng(3)
    train = sp.random(50, 80, density=0.2, format="lil", random_state=4, data_rvs=lambda n: rng.integers(1, 6, n))
    train[7] = 0                                           # a user without ratings
    train[8] = 0
    train[8, 5] = 4                                        # a user with a single rating keeps it
    train = train.tocsr()
    train.eliminate_zeros()
    fit, valid = validation_split(train, ratio=0.25, seed=1)
    assert fit.multiply(valid).nnz == 0                    # disjoint
    assert abs(fit + valid - train).max() == 0             # together: train, values included
    counts = np.diff(train.indptr)
    expected = np.minimum(np.round(0.25 * counts), np.maximum(counts - 1, 0))
    np.testing.assert_array_equal(np.diff(valid.indptr), expected)
    assert valid[8].nnz == 0 and fit[8, 5] == 4
    again_fit, again_valid = validation_split(train, ratio=0.25, seed=1)
    assert (again_valid != valid).nnz == 0 and (again_fit != fit).nnz == 0
    other_fit, other_valid = validation_split(train, ratio=0.25, seed=2)
    assert (other_valid != valid).nnz > 0
    with pytest.raises(ValueError, match="ratio"):
        validation_split(train, ratio=1.0)
    # the seed goes through check_rng: an int seed and its Generator give the same split
    gen_fit, gen_valid = validation_split(train, ratio=0.25, seed=np.random.default_rng(1))
    assert (gen_valid != valid).nnz == 0 and (gen_fit != fit).nnz == 0
    with pytest.raises(ValueError, match="seed"):
        validation_split(train, ratio=0.25, seed=-1)
    with pytest.raises(TypeError, match="seed"):
        validation_split(train, ratio=0.25, seed=1.5)


def test_validation_grid_scores_every_setting_and_epoch_without_the_test_split(planted):
    data, train = planted
    table = validation_grid(data, train, [{"temperature": 0.1}, {"temperature": 0.5}], epochs=3,
                            batch_size=64, embedding_dim=8, output_dim=8)
    assert table.shape == (6, 4)
    assert table["split_seed"].tolist() == [0] * 6
    assert table["epochs"].tolist() == [1, 2, 3] * 2 and table["temperature"].tolist() == [0.1] * 3 + [0.5] * 3
    assert table["valid nDCG@10"].between(0, 1).all()
    again = validation_grid(data, train, [{"temperature": 0.1}], epochs=3, batch_size=64, embedding_dim=8,
                            output_dim=8)
    np.testing.assert_array_equal(again["valid nDCG@10"], table["valid nDCG@10"][:3])
    with pytest.raises(ValueError, match="temperature"):
        validation_grid(data, train, [{"temperature": -1.0}], epochs=1)
    two_splits = validation_grid(data, train, [{"temperature": 0.1}], epochs=1, split_seeds=(0, 1),
                                 batch_size=64, embedding_dim=8, output_dim=8)
    assert two_splits["split_seed"].tolist() == [0, 1]
    assert two_splits["valid nDCG@10"].iloc[0] == table["valid nDCG@10"].iloc[0]
    with pytest.raises(ValueError, match="split_seeds"):
        validation_grid(data, train, [{}], epochs=1, split_seeds=())
