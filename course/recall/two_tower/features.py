"""Feature tables for the two towers (双塔的特征): integer codes plus numeric columns, by id.

The note (Part 2, section 2): categorical features (类别特征) get embeddings, numeric
features (连续特征) are normalised (归一化) or bucketed (分桶) first. Each function here returns
one :class:`TowerFeatures` per side, row r describing user r or item r, so that a training
batch of ids becomes tower inputs with one indexing step, ``features.rows(ids)``.

Statistics (counts, popularity) come from the training data only: computing them on the
test days would leak the future into the features.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd
import scipy.sparse as sp
import torch

from course._checks import check_positive_int

__all__ = ["TowerFeatures", "id_features", "quantile_buckets", "world_features", "movielens_features"]


class TowerFeatures(NamedTuple):
    """One side's feature table, row r = id r: integer codes and numeric columns.

    ``rows(ids)`` returns the ``(categorical, numeric)`` pair a tower takes.
    """

    categorical: torch.Tensor  # (n, F) int64, column 0 is the id
    numeric: torch.Tensor  # (n, N) float32
    cardinalities: tuple[int, ...]
    names: tuple[str, ...]  # the F categorical names, then the N numeric ones

    def rows(self, ids) -> tuple[torch.Tensor, torch.Tensor]:
        ids = torch.as_tensor(ids, dtype=torch.long)
        return self.categorical[ids], self.numeric[ids]


def id_features(n: int) -> TowerFeatures:
    """A table with only the id: the tower is then an embedding (+ MLP), i.e. matrix factorisation.

    Examples
    --------
    >>> id_features(3).rows([2, 0])[0].tolist()
    [[2], [0]]
    """
    n = check_positive_int(n, "n")
    return TowerFeatures(torch.arange(n).unsqueeze(1), torch.zeros(n, 0), (int(n),), ("id",))


def quantile_buckets(values, n_buckets: int) -> tuple[np.ndarray, int]:
    """Bucket (分桶) numbers by quantiles: codes ``0 .. n - 1`` and the number of buckets n.

    Equal-count buckets suit long-tailed counts (a log is not needed: quantiles ignore monotone
    transforms); tied quantiles are merged, so ``n`` may be smaller than ``n_buckets``.

    Examples
    --------
    >>> quantile_buckets([1, 2, 3, 4, 100, 1000], 3)
    (array([0, 0, 1, 1, 2, 2]), 3)
    """
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 1 or values.size == 0 or not np.isfinite(values).all():
        raise ValueError("values must be a non-empty 1-D array of finite numbers")
    n_buckets = check_positive_int(n_buckets, "n_buckets")
    edges = np.unique(np.quantile(values, np.linspace(0, 1, n_buckets + 1)[1:-1]))
    edges = edges[edges < values.max()]  # an edge at the maximum would leave its bucket empty
    # bucket b holds edges[b - 1] < value <= edges[b] (right-closed, as pandas.qcut)
    return np.searchsorted(edges, values, side="left"), len(edges) + 1


def _standardise(values: np.ndarray) -> np.ndarray:
    return (values - values.mean()) / (values.std() or 1.0)


def _table(codes: dict[str, tuple[np.ndarray, int]], numeric: dict[str, np.ndarray]) -> TowerFeatures:
    categorical = np.stack([code for code, _ in codes.values()], axis=1).astype(np.int64)  # (n, F)
    n_rows = len(categorical)
    columns = np.stack(list(numeric.values()), axis=1) if numeric else np.zeros((n_rows, 0))  # (n, N)
    return TowerFeatures(torch.from_numpy(categorical), torch.from_numpy(columns.astype(np.float32)),
                         tuple(int(size) for _, size in codes.values()),
                         tuple(codes) + tuple(numeric))


def _category_codes(column: pd.Series) -> tuple[np.ndarray, int]:
    categories = pd.Categorical(column)  # sorted categories: codes do not depend on row order
    return categories.codes.astype(np.int64), len(categories.categories)


def world_features(world, train_impressions: pd.DataFrame, n_buckets: int = 8):
    """User and item feature tables of the simulated world, statistics from the TRAIN logs only.

    User fields: ``user_id, gender, age_bucket, city, device_os`` and quantile buckets of the
    user's train clicks and impressions; numeric: their standardised ``log(1 + count)``.
    Item fields: ``item_id, category, subcategory, note_type, city, author_id``, buckets of
    ``log(1 + word_count)``, of video length (bucket 0 = image note) and of train clicks;
    numeric: standardised ``log(1 + word_count)`` and ``log(1 + train clicks)``.

    Parameters
    ----------
    world : course.world.World
    train_impressions : DataFrame with columns user_id, item_id, click
        Only these logs feed the counts (never the test days: that would leak).
    n_buckets : int

    Returns
    -------
    user_features, item_features : TowerFeatures
        Row r describes user r / item r (world ids are row positions).
    """
    missing = {"user_id", "item_id", "click"} - set(train_impressions.columns)
    if missing:
        raise ValueError(f"train_impressions lacks columns {sorted(missing)}")
    users, items = world.users, world.items
    user_ids = train_impressions["user_id"].to_numpy()
    item_ids = train_impressions["item_id"].to_numpy()
    clicks = train_impressions["click"].to_numpy(np.float64)
    user_clicks = np.log1p(np.bincount(user_ids, clicks, minlength=len(users)))  # (n_users,)
    user_shown = np.log1p(np.bincount(user_ids, minlength=len(users)).astype(np.float64))
    item_clicks = np.log1p(np.bincount(item_ids, clicks, minlength=len(items)))  # (n_items,)
    user_table = _table(
        {"user_id": (users["user_id"].to_numpy(), len(users)),
         **{name: _category_codes(users[name]) for name in ("gender", "age_bucket", "city", "device_os")},
         "clicks_bucket": quantile_buckets(user_clicks, n_buckets),
         "impressions_bucket": quantile_buckets(user_shown, n_buckets)},
        {"log_clicks": _standardise(user_clicks), "log_impressions": _standardise(user_shown)})
    words = np.log1p(items["word_count"].to_numpy(np.float64))
    video = items["video_length"].to_numpy(np.float64)
    is_video = ~np.isnan(video)
    video_bucket = np.zeros(len(items), dtype=np.int64)  # 0 = image note, 1.. = length buckets
    video_codes, n_video = quantile_buckets(video[is_video], n_buckets)
    video_bucket[is_video] = video_codes + 1
    item_table = _table(
        {"item_id": (items["item_id"].to_numpy(), len(items)),
         "category": (items["category_id"].to_numpy(), int(items["category_id"].max()) + 1),
         "subcategory": (items["subcategory_id"].to_numpy(), int(items["subcategory_id"].max()) + 1),
         "note_type": _category_codes(items["note_type"]),
         "city": _category_codes(items["city"]),
         "author_id": (items["author_id"].to_numpy(), len(world.authors)),
         "words_bucket": quantile_buckets(words, n_buckets),
         "video_length_bucket": (video_bucket, n_video + 1),
         "clicks_bucket": quantile_buckets(item_clicks, n_buckets)},
        {"log_words": _standardise(words), "log_clicks": _standardise(item_clicks)})
    return user_table, item_table


def movielens_features(movielens, user_ids, item_ids, train_matrix, n_buckets: int = 6):
    """User and item feature tables of MovieLens-100K for the rows / columns of a train matrix.

    User fields: row index (the id), age bucket, gender, occupation. Item fields: column index,
    release-year bucket (a missing year gets its own code); numeric: the 19 genre indicators
    and the standardised ``log(1 + ratings in train)``.

    Parameters
    ----------
    movielens : course.datasets.MovieLens
        Its ``users`` and ``items`` tables.
    user_ids, item_ids : array-like
        The original id of each matrix row / column (as returned by ``split_matrices``).
    train_matrix : sparse matrix of shape (len(user_ids), len(item_ids))
        Training interactions; only their counts are used.
    n_buckets : int

    Returns
    -------
    user_features, item_features : TowerFeatures
    """
    train_matrix = sp.csr_matrix(train_matrix)
    user_ids, item_ids = np.asarray(user_ids), np.asarray(item_ids)
    if train_matrix.shape != (user_ids.size, item_ids.size):
        raise ValueError(f"train_matrix has shape {train_matrix.shape}, expected "
                         f"{(user_ids.size, item_ids.size)} (len(user_ids), len(item_ids))")
    if not (np.isin(user_ids, movielens.users["user_id"]).all()
            and np.isin(item_ids, movielens.items["item_id"]).all()):
        raise ValueError("user_ids / item_ids must be ids of movielens.users / movielens.items")
    users = movielens.users.set_index("user_id").loc[user_ids]
    items = movielens.items.set_index("item_id").loc[item_ids]
    user_table = _table(
        {"user_id": (np.arange(user_ids.size), user_ids.size),
         "age_bucket": quantile_buckets(users["age"].to_numpy(np.float64), n_buckets),
         "gender": _category_codes(users["gender"]), "occupation": _category_codes(users["occupation"])},
        {})
    year = items["release_year"].astype("Float64").to_numpy(np.float64, na_value=np.nan)  # (n_items,)
    known = ~np.isnan(year)
    year_bucket = np.zeros(item_ids.size, dtype=np.int64)  # 0 = year unknown
    year_codes, n_years = quantile_buckets(year[known], n_buckets)
    year_bucket[known] = year_codes + 1
    genres = items["genres"].fillna("").str.get_dummies("|")  # (n_items, n_genres) 0/1
    ratings = np.log1p(np.diff(train_matrix.tocsc().indptr).astype(np.float64))  # (n_items,)
    item_table = _table(
        {"item_id": (np.arange(item_ids.size), item_ids.size), "year_bucket": (year_bucket, n_years + 1)},
        {**{f"genre_{name}": genres[name].to_numpy(np.float64) for name in genres.columns},
         "log_ratings": _standardise(ratings)})
    return user_table, item_table
