"""MovieLens-100K as a click-like task for the crossing models (notebook 04c).

Every rating is one row; the label is 1 for a rating of 4 or 5, 0 for 1–3: "did the user like
the film", among the films they rated (the usual implicit reading of explicit ratings). The rows
are split by time, as a ranker is trained on the past and served on the future: the earliest
``train_fraction`` of the ratings (by timestamp) train, the next ``valid_fraction`` validate, the
rest test. Later users may have no training rating at all: their id vectors stay at their
initial values and the other fields have to carry them (cold start, 冷启动).

Fields, as ``course.features.FeatureSet`` lays them out (categorical codes with 0 = missing or
unknown, then numeric values):

* categorical: ``user_id``, ``item_id``, ``age_bucket`` (MovieLens-1M's buckets <18, 18–24,
  25–34, 35–44, 45–49, 50–55, 56+), ``gender``, ``occupation``, ``release_decade``;
* numeric: the 19 genre indicators (0/1), each entering ``FeatureEmbedding`` as value × vector.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from course._checks import check_probability

__all__ = ["RatingFields", "movielens_rating_fields", "AGE_EDGES"]

AGE_EDGES = (18, 25, 35, 45, 50, 56)


@dataclass(frozen=True)
class RatingFields:
    """One row per rating, sorted by time. Arrays of length n unless said otherwise."""

    categorical: np.ndarray          # (n, 6) int64
    numeric: np.ndarray              # (n, 19) float32
    cardinalities: tuple
    categorical_fields: tuple
    numeric_fields: tuple
    label: np.ndarray                # (n,) float32, rating >= 4
    user_id: np.ndarray              # (n,) original user ids (for GAUC)
    timestamp: np.ndarray            # (n,)
    split: np.ndarray                # (n,) "train" / "valid" / "test"


def movielens_rating_fields(movielens, train_fraction: float = 0.8, valid_fraction: float = 0.1) -> RatingFields:
    """Fields, labels and a time-ordered split of every MovieLens-100K rating.

    Parameters
    ----------
    movielens : course.datasets.MovieLens
        ``ratings`` (user_id, item_id, rating, timestamp), ``users`` (user_id, age, gender,
        occupation), ``items`` (item_id, release_year, genres "A|B|…").
    train_fraction, valid_fraction : float
        Shares of the rows, in time order; the rest is the test split.

    Returns
    -------
    RatingFields
    """
    train_fraction = check_probability(train_fraction, "train_fraction")
    valid_fraction = check_probability(valid_fraction, "valid_fraction")
    if train_fraction <= 0 or train_fraction + valid_fraction >= 1:
        raise ValueError(f"need 0 < train_fraction and train_fraction + valid_fraction < 1, got "
                         f"{train_fraction} and {valid_fraction}")
    ratings = movielens.ratings.sort_values("timestamp", kind="stable").reset_index(drop=True)
    users = movielens.users.set_index("user_id").loc[ratings["user_id"]]
    items = movielens.items.set_index("item_id").loc[ratings["item_id"]]
    occupation = pd.factorize(movielens.users["occupation"], sort=True)[0] + 1          # 1.. per user row
    occupation_of = dict(zip(movielens.users["user_id"], occupation))
    decade = (items["release_year"].to_numpy(dtype=float) // 10)
    decades = np.unique(decade[~np.isnan(decade)])
    categorical = np.column_stack([
        ratings["user_id"].to_numpy(),                                                   # ids start at 1
        ratings["item_id"].to_numpy(),
        np.searchsorted(AGE_EDGES, users["age"].to_numpy(), side="right") + 1,            # 1..7
        np.where(users["gender"].to_numpy() == "F", 1, 2),
        ratings["user_id"].map(occupation_of).to_numpy(),
        np.where(np.isnan(decade), 0, np.searchsorted(decades, np.nan_to_num(decade)) + 1),
    ]).astype(np.int64)
    cardinalities = tuple(int(c) for c in categorical.max(axis=0) + 1)
    genre_names = sorted({g for text in movielens.items["genres"].fillna("") for g in text.split("|") if g})
    genres = items["genres"].fillna("").str.split("|")
    numeric = np.array([[name in row for name in genre_names] for row in genres], dtype=np.float32)
    n = len(ratings)
    n_train, n_valid = int(round(train_fraction * n)), int(round(valid_fraction * n))
    split = np.array(["train"] * n_train + ["valid"] * n_valid + ["test"] * (n - n_train - n_valid))
    return RatingFields(categorical, numeric, cardinalities,
                        ("user_id", "item_id", "age_bucket", "gender", "occupation", "release_decade"),
                        tuple(genre_names), (ratings["rating"].to_numpy() >= 4).astype(np.float32),
                        ratings["user_id"].to_numpy(), ratings["timestamp"].to_numpy(), split)
