"""MovieLens-100K rating fields: labels, time order, field codes against the raw tables."""
import numpy as np
import pytest

from course.crossing.movielens import AGE_EDGES, movielens_rating_fields
from course.datasets import movielens_100k


@pytest.fixture(scope="module")
def fields():
    return movielens_100k(), movielens_rating_fields(movielens_100k())


def test_labels_split_and_time_order(fields):
    movielens, f = fields
    assert len(f.label) == len(movielens.ratings) == 100_000
    assert f.label.mean() == pytest.approx((movielens.ratings["rating"] >= 4).mean())
    assert (np.diff(f.timestamp) >= 0).all()
    counts = {s: int((f.split == s).sum()) for s in ("train", "valid", "test")}
    assert counts == {"train": 80_000, "valid": 10_000, "test": 10_000}
    assert f.timestamp[f.split == "train"].max() <= f.timestamp[f.split == "valid"].min()
    assert f.timestamp[f.split == "valid"].max() <= f.timestamp[f.split == "test"].min()
    with pytest.raises(ValueError, match="train_fraction"):
        movielens_rating_fields(movielens, 0.6, 0.5)


def test_fields_match_the_raw_tables(fields):
    movielens, f = fields
    assert f.categorical.shape == (100_000, 6) and f.numeric.shape == (100_000, 19)
    assert (f.categorical < np.array(f.cardinalities)).all() and (f.categorical >= 0).all()
    row = 123
    user = movielens.users.set_index("user_id").loc[f.user_id[row]]
    item = movielens.items.set_index("item_id").loc[f.categorical[row, 1]]
    age_code = 1 + sum(user["age"] >= edge for edge in AGE_EDGES)
    assert f.categorical[row, 2] == age_code
    assert f.categorical[row, 3] == (1 if user["gender"] == "F" else 2)
    assert set(np.array(f.numeric_fields)[f.numeric[row] == 1]) == set(item["genres"].split("|"))
    assert f.cardinalities[0] == movielens.users["user_id"].max() + 1
