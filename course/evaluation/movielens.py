"""The Microsoft Recommenders top-k protocol on MovieLens-100K, so our numbers compare to theirs.

Their benchmark (github.com/recommenders-team/recommenders, ``examples/06_benchmarks``) splits
every user's ratings 75 / 25 at random with seed 42 (``python_stratified_split``), trains on the
75 %, recommends 10 unseen items per user and scores them against *all* of the user's test
ratings (every rating counts as relevant, whatever its value). Published nDCG@10: SAR 0.382,
BPR 0.442.

The split (分层切分). recommenders has shipped two implementations under the same name:

- ``method="shuffle_round"`` (default): for each user, rows in data order, shuffle them with a
  fresh ``RandomState(seed)`` (``DataFrame.sample(frac=1, random_state=seed)``) and put the
  first ``round(ratio · n_user)`` rows (round half to even) in train. This is the code that
  produced the published tables: on MovieLens-100K it gives their printed 74,992 train / 25,008
  test ratings, 1,649 / 1,444 distinct items.
- ``method="random_rank"``: later versions draw one ``RandomState(seed).rand`` number per row,
  sort each user's rows by it and keep rank / n_user <= ratio in train (i.e. floor):
  74,646 / 25,354 on MovieLens-100K.

Metrics. ``evaluate_top_k`` uses :mod:`course.metrics`, whose definitions match recommenders'
``python_evaluation`` for this protocol: precision divides by k, recall by the number of test
items, nDCG has binary gains and an ideal DCG over min(k, |test|) hits. recommenders discounts
by ln(1 + rank) and we by log2(1 + rank); the base cancels in DCG / IDCG. Both average over
users with at least one test item (here every user); recommenders would drop from precision
and recall a user who got no recommendation at all, we count that user as zero.

The table. :func:`movielens_benchmark_table` runs the whole protocol for a set of models and
puts the published numbers beside them; the notebooks and ``benchmarks/bench_cf.py`` both call
it, so their numbers agree by construction. A model is any function
``recommend(train, k) -> ndarray (n_users, k)`` (top-k column indices, seen items removed, -1
padded); :func:`cf_models` holds the course's collaborative-filtering ones and the
popularity baseline (:class:`course.recall.cf.MostPopular`), each wrapped by
:func:`fit_and_recommend`. To add a model
(e.g. the two-tower model), pass ``models={**cf_models(), "two-tower": recommend_fn}``.
"""
from __future__ import annotations

import time
from typing import Callable

import numpy as np
import pandas as pd
import scipy.sparse as sp

from course.metrics import ndcg_at_k, precision_at_k, recall_at_k
from course._checks import check_nonnegative_int, check_positive_int, check_probability
from course.recall.cf.index import check_interactions
from course.recall.cf.itemcf import ItemCF
from course.recall.cf.popularity import MostPopular
from course.recall.cf.swing import Swing
from course.recall.cf.usercf import UserCF

__all__ = ["stratified_split", "split_matrices", "evaluate_top_k",
           "PUBLISHED_MOVIELENS_100K", "fit_and_recommend", "cf_models",
           "movielens_benchmark_table"]

# recommenders' README, "Algorithm Comparison" (examples/06_benchmarks/movielens.ipynb):
# MovieLens-100K, stratified 75 / 25 split, top-10, seen items removed.
PUBLISHED_MOVIELENS_100K = pd.DataFrame(
    [("SAR", 0.382461, 0.330753, 0.176385), ("NCF", 0.396118, 0.347296, 0.180775),
     ("LightGCN", 0.419846, 0.379626, 0.144336), ("BPR", 0.441997, 0.388229, 0.212522),
     ("BiVAE", 0.475077, 0.411771, 0.219145)],
    columns=["model", "nDCG@10", "precision@10", "recall@10"])


def stratified_split(ratings: pd.DataFrame, ratio: float = 0.75, seed: int = 42,
                     method: str = "shuffle_round") -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per-user random split of a ratings table, as recommenders' ``python_stratified_split``.

    Parameters
    ----------
    ratings : DataFrame with columns ``user_id`` and ``item_id`` (others are carried along)
        Row order matters (it is the order that gets shuffled), as in recommenders.
    ratio : float in (0, 1)
        Share of each user's ratings that goes to train.
    seed : int
        Seed of the ``numpy.random.RandomState`` that recommenders uses.
    method : {"shuffle_round", "random_rank"}
        Which of recommenders' two implementations to reproduce (see the module docstring).

    Returns
    -------
    train, test : DataFrame
        Disjoint subsets of ``ratings`` rows, in their original order.

    Examples
    --------
    User 1 has 4 ratings: 3 go to train. User 2 has 2: round(1.5) = 2 (half to even, as
    Python's ``round``), so both go to train and user 2 has no test rating.

    >>> ratings = pd.DataFrame({"user_id": [1] * 4 + [2] * 2, "item_id": range(6)})
    >>> train, test = stratified_split(ratings)
    >>> train.groupby("user_id").size().to_dict(), test.groupby("user_id").size().to_dict()
    ({1: 3, 2: 2}, {1: 1})
    """
    if not isinstance(ratings, pd.DataFrame):
        raise TypeError(f"ratings must be a pandas DataFrame, got {type(ratings).__name__}")
    missing = {"user_id", "item_id"} - set(ratings.columns)
    if missing:
        raise ValueError(f"ratings needs columns user_id and item_id; missing {sorted(missing)}")
    if len(ratings) == 0:
        raise ValueError("ratings is empty")
    check_probability(ratio, "ratio", low_open=True, high_open=True)
    seed = check_nonnegative_int(seed, "seed")
    grouped = ratings.groupby("user_id", sort=False)
    counts = grouped["user_id"].transform("size").to_numpy()  # (n_rows,) rows of the row's user
    if method == "shuffle_round":
        position = grouped.cumcount().to_numpy()  # (n_rows,) index within the user, data order
        in_train = np.zeros(len(ratings), dtype=bool)
        # RandomState(seed) is re-seeded for every user, so the permutation depends only on the
        # user's count: one loop over the distinct counts (a few hundred), not over users.
        for count in np.unique(counts):
            permutation = np.random.RandomState(seed).permutation(count)
            first = np.zeros(count, dtype=bool)
            first[permutation[:int(np.round(ratio * count))]] = True  # half to even, as round()
            rows = counts == count
            in_train[rows] = first[position[rows]]
    elif method == "random_rank":
        draw = np.random.RandomState(seed).rand(len(ratings))  # (n_rows,) one draw per row
        order = np.lexsort((draw, ratings["user_id"].to_numpy()))
        rank = np.empty(len(ratings), dtype=np.int64)
        sorted_users = ratings["user_id"].to_numpy()[order]
        rank[order] = np.arange(len(ratings)) - np.searchsorted(sorted_users, sorted_users) + 1
        in_train = rank / counts <= ratio
    else:
        raise ValueError(f"method must be 'shuffle_round' or 'random_rank', got {method!r}")
    return ratings[in_train], ratings[~in_train]


def split_matrices(ratings: pd.DataFrame, ratio: float = 0.75, seed: int = 42,
                   method: str = "shuffle_round"):
    """Split, then build users × items matrices indexed by the sorted ids of ``ratings``.

    Returns
    -------
    train : scipy.sparse.csr_matrix of shape (n_users, n_items)
        Train ratings as weights (``rating`` column, or 1 if absent).
    test : scipy.sparse.csr_matrix of shape (n_users, n_items)
        1 for every test rating: all of them count as relevant.
    user_ids, item_ids : ndarray
        The id of each row / column.
    """
    train, test = stratified_split(ratings, ratio, seed, method)
    user_ids = np.unique(ratings["user_id"].to_numpy())
    item_ids = np.unique(ratings["item_id"].to_numpy())
    shape = (user_ids.size, item_ids.size)

    def to_matrix(frame, values):
        rows = np.searchsorted(user_ids, frame["user_id"].to_numpy())
        cols = np.searchsorted(item_ids, frame["item_id"].to_numpy())
        return sp.csr_matrix((values, (rows, cols)), shape=shape)

    train_values = (train["rating"].to_numpy(np.float64) if "rating" in train
                    else np.ones(len(train)))
    return (to_matrix(train, train_values), to_matrix(test, np.ones(len(test))),
            user_ids, item_ids)


def evaluate_top_k(recommended, test, k: int = 10) -> dict[str, float]:
    """nDCG@k, precision@k and recall@k of top-k lists against held-out interactions.

    Parameters
    ----------
    recommended : ndarray of shape (n_users, list_length), list_length >= 1
        Item indices per user, best first, padded with -1 (padding counts as a miss).
    test : sparse matrix of shape (n_users, n_items), or a sequence of n_users collections
        Non-zero entries (or the collections' items) are the relevant items.
    k : int

    Returns
    -------
    dict with keys ``"ndcg@k"``, ``"precision@k"``, ``"recall@k"`` (k filled in); each the
    mean over users with at least one relevant item.

    Examples
    --------
    >>> scores = evaluate_top_k(np.array([[2, 0], [1, -1]]), [{0}, {3}], k=2)
    >>> {name: round(value, 4) for name, value in scores.items()}  # ndcg: (1 / log2 3) / 2
    {'ndcg@2': 0.3155, 'precision@2': 0.25, 'recall@2': 0.5}
    """
    k = check_positive_int(k, "k")
    recommended = np.asarray(recommended)
    if recommended.ndim != 2 or recommended.shape[1] < 1:
        raise ValueError(f"recommended must be 2-D (n_users, list_length), got {recommended.shape}")
    if sp.issparse(test):
        test = sp.csr_matrix(test)
        relevant = np.split(test.indices, test.indptr[1:-1])
    else:
        relevant = list(test)
    if len(relevant) != recommended.shape[0]:
        raise ValueError(f"test has {len(relevant)} users, recommended {recommended.shape[0]}")
    lists = recommended[:, :k]  # (n_users, k); course.metrics reads -1 as an empty slot
    return {f"ndcg@{k}": ndcg_at_k(lists, relevant, k),
            f"precision@{k}": precision_at_k(lists, relevant, k),
            f"recall@{k}": recall_at_k(lists, relevant, k)}


def fit_and_recommend(make_estimator: Callable) -> Callable:
    """Turn a scikit-learn style recommender into the ``recommend(train, k)`` a table runs.

    ``make_estimator()`` must return an object with ``fit(R)`` (returning itself) and
    ``recommend(user_indices, k, exclude=...)`` returning ``(items, scores)``, e.g. the class
    ``ItemCF``; the train matrix is excluded (seen items are never recommended).

    Examples
    --------
    >>> recommend = fit_and_recommend(ItemCF)
    >>> recommend(sp.csr_matrix([[5.0, 3, 0], [2, 0, 1]]), 2).tolist()
    [[2, -1], [1, -1]]
    """
    def recommend(train, k: int) -> np.ndarray:
        users = np.arange(train.shape[0])
        return make_estimator().fit(train).recommend(users, k, exclude=train)[0]

    recommend.__name__ = f"fit_and_recommend({getattr(make_estimator, '__name__', 'model')})"
    return recommend


def cf_models() -> dict[str, Callable]:
    """The course's collaborative-filtering recommenders with default parameters, by name.

    Defaults, not values tuned on the test split: the table compares methods, not tuning effort.
    """
    return {"popularity": fit_and_recommend(MostPopular), "ItemCF": fit_and_recommend(ItemCF),
            "Swing": fit_and_recommend(Swing), "UserCF": fit_and_recommend(UserCF)}


def movielens_benchmark_table(models: dict[str, Callable] | None = None,
                              ratings: pd.DataFrame | None = None, k: int = 10,
                              published: bool = True) -> pd.DataFrame:
    """Run the recommenders protocol for each model and list the published numbers beside them.

    Split ``ratings`` with :func:`split_matrices` (75 / 25 per user, seed 42), call every model
    on the train matrix, score its top-k lists with :func:`evaluate_top_k`.

    Parameters
    ----------
    models : dict of name -> callable, optional
        ``recommend(train, k) -> ndarray of shape (n_users, k)``: column indices of the
        (n_users, n_items) train matrix, best first, seen items removed, -1 padded.
        Default :func:`cf_models`.
    ratings : DataFrame, optional
        Columns ``user_id``, ``item_id`` (and ``rating``, used as weights); default
        MovieLens-100K from :func:`course.datasets.movielens_100k`.
    k : int
        List length (the published table uses 10).
    published : bool
        Append :data:`PUBLISHED_MOVIELENS_100K` (only meaningful for MovieLens-100K, k = 10).

    Returns
    -------
    DataFrame with columns ``model``, ``source`` ("course" or "published"), ``nDCG@k``,
    ``precision@k``, ``recall@k``, ``seconds`` (fit + recommend wall time, NaN for published
    rows), sorted by nDCG@k, best first.

    Examples
    --------
    With 4 ratings per user the seed-42 split holds out each user's third one: 12, 12 and 10.
    Popularity (10, 11, 13, 14 twice each in train, ties to the smaller id) hits user 3 only.

    >>> ratings = pd.DataFrame({"user_id": [1] * 4 + [2] * 4 + [3] * 4,
    ...                         "item_id": [10, 11, 12, 13, 10, 11, 12, 14, 12, 13, 10, 14]})
    >>> table = movielens_benchmark_table({"popularity": fit_and_recommend(MostPopular)}, ratings, k=1,
    ...                                   published=False)
    >>> table.drop(columns="seconds").round(4).to_dict("records")
    [{'model': 'popularity', 'source': 'course', 'nDCG@1': 0.3333, 'precision@1': 0.3333, 'recall@1': 0.3333}]
    """
    k = check_positive_int(k, "k")
    models = cf_models() if models is None else models
    if not isinstance(models, dict) or not models:
        raise ValueError("models must be a non-empty dict of name -> recommend(train, k)")
    if ratings is None:
        from course.datasets import movielens_100k  # lazy: only this default needs the files
        ratings = movielens_100k().ratings
    train, test, _, _ = split_matrices(ratings)
    names = [f"nDCG@{k}", f"precision@{k}", f"recall@{k}"]
    rows = []
    for name, recommend in models.items():
        if not callable(recommend):
            raise TypeError(f"model {name!r} must be a callable recommend(train, k)")
        start = time.perf_counter()
        recommended = np.asarray(recommend(train.copy(), k))  # a copy: models may not alter it
        seconds = time.perf_counter() - start
        if recommended.shape != (train.shape[0], k):
            raise ValueError(f"model {name!r} returned shape {recommended.shape}, expected "
                             f"{(train.shape[0], k)} (n_users, k)")
        scores = evaluate_top_k(recommended, test, k)
        rows.append({"model": name, "source": "course",
                     **dict(zip(names, scores.values())), "seconds": seconds})
    table = pd.DataFrame(rows)
    if published:
        reference = PUBLISHED_MOVIELENS_100K.rename(columns=dict(zip(
            PUBLISHED_MOVIELENS_100K.columns[1:], names)))
        table = pd.concat([table, reference.assign(source="published", seconds=np.nan)],
                          ignore_index=True)
    return table.sort_values(names[0], ascending=False, kind="stable").reset_index(drop=True)
