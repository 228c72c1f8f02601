"""The MovieLens two-tower recommender: planted structure, determinism, seen items, errors."""
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from course.datasets import MovieLens
from course.evaluation.movielens_two_tower import movielens_two_tower

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


def test_errors(planted):
    data, train = planted
    with pytest.raises(ValueError, match="epochs"):
        movielens_two_tower(data, epochs=0)
    with pytest.raises(ValueError, match="temperature"):
        movielens_two_tower(data, temperature=-1.0)
    with pytest.raises(ValueError, match="expected"):
        movielens_two_tower(data, epochs=1)(train[:10], 5)
