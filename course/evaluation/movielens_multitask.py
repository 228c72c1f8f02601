"""MovieLens-100K as a two-task funnel (notebook 03b): "rated" on sampled impressions, then "liked".

MovieLens has no impressions, so we make the note's funnel out of ratings. Each rating (u, i, t)
is a positive row of the first task, **rated** (standing in for a click on an impression), and
brings ``negatives`` films u never rated, drawn uniformly, as rows with rated = 0 and the same
time t (standing in for impressions without a click). The second task, **liked** (rating >= 4),
is observed only on rated rows, like a like after a click: its mask is the rated label, and its
label is nan elsewhere (:func:`course.ranking.masked_multitask_loss` never reads it).

The split is by time within each user, as a ranking model is trained on the past and serves the
future: each user's earliest 70 % of ratings (with their negatives) train, the next 10 %
validate (choose epochs and settings), the last 20 % test. A single global time cut would leave
most test users unseen (MovieLens-100K's users arrive over its seven months, and many rate
all their films within a short span), so the test would measure cold start instead; the price of the per-user cut is
that one user's training rows can be later than another user's test rows. Vocabularies come from
the training rows only: a film first rated later gets code 0, "unknown", as in serving.

Features: categorical ``user_id, item_id, gender, age_bucket, occupation`` (codes, 0 = unknown)
and numeric ``19 genres (0/1), release year (standardised on train)``. Uniform negatives are
easy to tell from rated films by popularity alone (people rate popular films); the notebook
keeps item popularity in every table for that reason.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from torch import nn

from course._arrays import rank_within_groups
from course._checks import check_int, check_real
from course.seed import as_generator

__all__ = ["FunnelRows", "MovieLensFunnel", "movielens_funnel", "EmbeddedMultitask", "funnel_loss",
           "funnel_metrics", "per_task_auc", "popularity_scores", "logistic_regression_scores"]

TASKS = ("rated", "liked")
AGE_EDGES = (18, 25, 35, 45, 50, 56)   # MovieLens-1M's age groups: <18, 18-24, …, 56+


@dataclass
class FunnelRows:
    """One split's rows. ``labels``/``masks`` have columns (rated, liked)."""

    categorical: np.ndarray   # (n, 5) int64 codes, 0 = unknown
    numeric: np.ndarray       # (n, 20) float32
    labels: np.ndarray        # (n, 2) float32, liked = nan where not rated
    masks: np.ndarray         # (n, 2) bool
    user_id: np.ndarray       # (n,) the MovieLens ids, for GAUC
    item_id: np.ndarray       # (n,)

    def __len__(self) -> int:
        return len(self.user_id)

    def tensors(self) -> tuple[np.ndarray, ...]:
        """``(categorical, numeric, labels, masks)``: the order :func:`funnel_loss` reads."""
        return self.categorical, self.numeric, self.labels, self.masks


@dataclass
class MovieLensFunnel:
    train: FunnelRows
    valid: FunnelRows
    test: FunnelRows
    categorical_fields: tuple[str, ...]
    cardinalities: tuple[int, ...]
    numeric_fields: tuple[str, ...]
    tasks: tuple[str, ...] = TASKS


def _sample_unrated(users, rated_keys, n_items, negatives, rng) -> np.ndarray:
    """``negatives`` films per row, uniform over 1..n_items among those the user never rated."""
    items = rng.integers(1, n_items + 1, size=(len(users), negatives))
    while True:  # rejection rounds, each vectorised; a user rated at most ~44 % of the films
        bad = np.isin(users[:, None] * (n_items + 1) + items, rated_keys)
        if not bad.any():
            return items
        items[bad] = rng.integers(1, n_items + 1, size=int(bad.sum()))


def movielens_funnel(movielens=None, *, negatives: int = 1, valid_fraction: float = 0.1,
                     test_fraction: float = 0.2, seed=0) -> MovieLensFunnel:
    """Build the two-task funnel rows of MovieLens-100K, split by time (see the module).

    Parameters
    ----------
    movielens : course.datasets.MovieLens, optional
        Loaded with :func:`course.datasets.movielens_100k` when omitted.
    negatives : int, default 1
        Unrated films drawn per rating.
    valid_fraction, test_fraction : float
        Shares of the ratings, latest last, for validation and test.
    seed : int or numpy.random.Generator
        Source of the negatives.

    Returns
    -------
    MovieLensFunnel
    """
    if movielens is None:
        from course.datasets import movielens_100k
        movielens = movielens_100k()
    check_int(negatives, "negatives", minimum=1)
    check_real(valid_fraction, "valid_fraction", 0.0, 1.0, low_open=True, high_open=True)
    check_real(test_fraction, "test_fraction", 0.0, 1.0, low_open=True, high_open=True)
    if valid_fraction + test_fraction >= 1:
        raise ValueError(f"valid_fraction + test_fraction must be < 1, got "
                         f"{valid_fraction} + {test_fraction}")
    rng = as_generator(seed, "seed")
    ratings = movielens.ratings.sort_values(["user_id", "timestamp", "item_id"], kind="stable")
    n_items = int(movielens.items["item_id"].max())
    users = ratings["user_id"].to_numpy()
    rated_keys = np.sort(users * (n_items + 1) + ratings["item_id"].to_numpy())
    neg_items = _sample_unrated(users, rated_keys, n_items, negatives, rng)      # (n, negatives)
    # each user's ratings in time order: rank / count < 1 - valid - test trains, and so on
    rank = rank_within_groups(users)
    share = rank / np.bincount(users)[users]
    cuts = np.asarray([1 - valid_fraction - test_fraction, 1 - test_fraction])
    rating_part = np.searchsorted(cuts, share, side="right")                      # 0/1/2
    part = np.concatenate([rating_part, np.repeat(rating_part, negatives)])
    rows = pd.DataFrame({
        "user_id": np.concatenate([users, np.repeat(users, negatives)]),
        "item_id": np.concatenate([ratings["item_id"].to_numpy(), neg_items.ravel()]),
        "rating": np.concatenate([ratings["rating"].to_numpy(), np.zeros(neg_items.size, int)]),
    })
    rows = rows.merge(movielens.users, on="user_id", how="left")  # merge keeps the row order

    fields, codes, cards = ("user_id", "item_id", "gender", "age_bucket", "occupation"), [], []
    rows["age_bucket"] = np.searchsorted(np.asarray(AGE_EDGES), rows["age"].to_numpy(), side="right")
    train_rows = rows[part == 0]
    for field in fields:  # vocabularies from the training rows only; 0 = unknown
        vocabulary = np.unique(train_rows[field].to_numpy())
        position = np.searchsorted(vocabulary, rows[field].to_numpy())
        position = np.minimum(position, len(vocabulary) - 1)
        known = vocabulary[position] == rows[field].to_numpy()
        codes.append(np.where(known, position + 1, 0))
        cards.append(len(vocabulary) + 1)
    categorical = np.stack(codes, axis=1).astype(np.int64)                        # (N, 5)

    items = movielens.items.set_index("item_id").reindex(np.arange(n_items + 1))  # row = id
    genres = sorted({g for text in items["genres"].dropna() for g in text.split("|") if g})
    per_item = np.stack([items["genres"].fillna("").str.split("|").apply(lambda gs, g=g: g in gs)
                         for g in genres], axis=1).astype(np.float32)          # (n_items+1, G)
    item_ids = rows["item_id"].to_numpy()
    genre_matrix = per_item[item_ids]                                             # (N, G)
    year = items["release_year"].to_numpy(dtype=float)[item_ids]
    mean, std = np.nanmean(year[part == 0]), np.nanstd(year[part == 0])
    year = np.nan_to_num((year - mean) / std, nan=0.0).astype(np.float32)
    numeric = np.concatenate([genre_matrix, year[:, None]], axis=1)               # (N, G+1)

    rated = (rows["rating"].to_numpy() > 0)
    liked = np.where(rated, rows["rating"].to_numpy() >= 4, np.nan)
    labels = np.stack([rated, liked], axis=1).astype(np.float32)                  # (N, 2)
    masks = np.stack([np.ones(len(rows), bool), rated], axis=1)                   # (N, 2)

    def take(p: int) -> FunnelRows:
        sel = part == p
        return FunnelRows(categorical[sel], numeric[sel], labels[sel], masks[sel],
                          rows["user_id"].to_numpy()[sel], rows["item_id"].to_numpy()[sel])

    return MovieLensFunnel(take(0), take(1), take(2), fields, tuple(cards),
                           tuple(f"genre_{g}" for g in genres) + ("release_year",))


class EmbeddedMultitask(nn.Module):
    """Embed each categorical field, concatenate with the numeric ones, feed a multi-task body.

    ``x = [E_1[c_1], …, E_F[c_F], numeric]`` of width ``F·dim + n_numeric``; ``body`` is a
    :class:`~course.ranking.SharedBottom`, :class:`~course.ranking.MMoE` or
    :class:`~course.ranking.PLE` built with that ``n_inputs`` (:meth:`input_width`).
    """

    def __init__(self, cardinalities, n_numeric: int, dim: int, body: nn.Module):
        super().__init__()
        self.embeddings = nn.ModuleList(nn.Embedding(c, dim) for c in cardinalities)
        self.body = body

    @staticmethod
    def input_width(cardinalities, n_numeric: int, dim: int) -> int:
        return len(cardinalities) * dim + n_numeric

    def forward(self, categorical: torch.Tensor, numeric: torch.Tensor) -> torch.Tensor:
        embedded = [emb(categorical[:, f]) for f, emb in enumerate(self.embeddings)]  # F × (B, D)
        return self.body(torch.cat(embedded + [numeric], dim=1))                      # (B, T)


def funnel_loss(model: nn.Module, batch) -> torch.Tensor:
    """The masked two-task loss of a batch ``(categorical, numeric, labels, masks)``."""
    from course.ranking import masked_multitask_loss
    categorical, numeric, labels, masks = batch
    return masked_multitask_loss(model(categorical, numeric), labels, masks)


def per_task_auc(scores, labels, masks, user_ids, tasks) -> dict[str, float]:
    """AUC and GAUC of each task on its own observed rows (``masks[:, t]``).

    Parameters
    ----------
    scores, labels : ndarray of shape (n, T)
    masks : bool ndarray of shape (n, T)
        Where each task is observed (all rows for the first funnel step, the clicked or rated
        rows for the post-click tasks).
    user_ids : ndarray of shape (n,)
    tasks : sequence of T str

    Returns
    -------
    dict ``{"<task> AUC": …, "<task> GAUC": …}``
    """
    from course.metrics import auc, gauc
    scores, labels, masks = np.asarray(scores), np.asarray(labels), np.asarray(masks, dtype=bool)
    if scores.shape != labels.shape or masks.shape != labels.shape or scores.ndim != 2 \
            or scores.shape[1] != len(tasks) or len(user_ids) != len(scores):
        raise ValueError(f"scores, labels and masks must have shape (n, {len(tasks)}) and "
                         f"user_ids (n,), got {scores.shape}, {labels.shape}, {masks.shape}, "
                         f"{np.shape(user_ids)}")
    out = {}
    for t, task in enumerate(tasks):
        on = masks[:, t]
        y, s, u = labels[on, t], scores[on, t], np.asarray(user_ids)[on]
        out[f"{task} AUC"], out[f"{task} GAUC"] = auc(y, s), gauc(u, y, s)
    return out


def funnel_metrics(scores: np.ndarray, rows: FunnelRows) -> dict[str, float]:
    """AUC and GAUC of each task; "liked" only on rated rows (it is conditional on rated).

    Parameters
    ----------
    scores : ndarray of shape (n, 2)
        Scores of (rated, liked) for each row.
    """
    scores = np.asarray(scores)
    if scores.shape != (len(rows), 2):
        raise ValueError(f"scores must have shape ({len(rows)}, 2), got {scores.shape}")
    return per_task_auc(scores, rows.labels, rows.masks, rows.user_id, TASKS)


def popularity_scores(funnel: MovieLensFunnel, rows: FunnelRows) -> np.ndarray:
    """Item popularity for both tasks: the film's number of ratings in the training rows."""
    train = funnel.train
    counts = np.bincount(train.item_id[train.labels[:, 0] == 1], minlength=rows.item_id.max() + 1)
    popularity = counts[rows.item_id].astype(float)
    return np.stack([popularity, popularity], axis=1)


def logistic_regression_scores(funnel: MovieLensFunnel, rows: FunnelRows, C: float = 1.0) -> np.ndarray:
    """One L2 logistic regression per task on one-hot codes and the numeric fields.

    The "liked" model is fit on the rated training rows only, like the masked loss.
    """
    import scipy.sparse as sp
    from sklearn.linear_model import LogisticRegression

    offsets = np.cumsum((0,) + funnel.cardinalities[:-1])

    def design(r: FunnelRows):
        cols = (r.categorical + offsets).ravel()
        onehot = sp.csr_matrix((np.ones(cols.size), (np.repeat(np.arange(len(r)), r.categorical.shape[1]),
                                cols)), shape=(len(r), sum(funnel.cardinalities)))
        return sp.hstack([onehot, sp.csr_matrix(r.numeric)]).tocsr()

    x_train, x_rows = design(funnel.train), design(rows)
    scores = []
    for t in range(2):
        on = funnel.train.masks[:, t]
        model = LogisticRegression(C=C, max_iter=1000).fit(x_train[on], funnel.train.labels[on, t])
        scores.append(model.decision_function(x_rows))
    return np.stack(scores, axis=1)
