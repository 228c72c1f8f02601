"""The two-tower model (双塔模型): a user tower (用户塔) and an item tower (物品塔).

Each tower turns one side's features into a vector; their cosine (余弦相似度) or inner
product (内积) is the recall score (note, Part 2, section 2)::

    a = f_user(user features)          # (B, D)
    b = f_item(item features)          # (B, D)
    score(user, item) = cos(a, b) = <a, b> / (|a| |b|)     or   <a, b>

A tower embeds its id and each categorical field (类别特征 → embedding), concatenates the
numeric features (连续特征, already bucketed or normalised, 分桶/归一化), and runs an MLP.
Late fusion (后期融合): users and items never meet before the final product, so the item
vectors can be computed offline into a vector index and only the user vector online
(:mod:`course.recall.ann.exact`). The feature tables are built in
:mod:`course.recall.two_tower.features`, the training objectives are in
:mod:`course.recall.two_tower.losses`, the negatives in :mod:`course.recall.two_tower.negatives`.

References: Huang et al., "Learning Deep Structured Semantic Models for Web Search using
Clickthrough Data", CIKM 2013 (DSSM, the first two-tower model); Covington et al., "Deep
Neural Networks for YouTube Recommendations", RecSys 2016; Yi et al., "Sampling-Bias-Corrected
Neural Modeling for Large Corpus Item Recommendations", RecSys 2019.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from course._checks import check_int, check_tensor, check_width
from course.recall.two_tower.features import TowerFeatures
from course.recall.ann.exact import exact_top_k
from course.training import predict

__all__ = ["TwoTowerConfig", "Tower", "TwoTowerModel", "encode", "recommend"]


@dataclass
class TwoTowerConfig:
    """Sizes of a two-tower model.

    Attributes
    ----------
    user_cardinalities, item_cardinalities : tuple of int
        Number of values of each categorical field (the id first); each value gets an embedding.
    user_numeric, item_numeric : int
        Number of numeric feature columns of each side (0 for id-only towers).
    embedding_dim : int
        Width of every embedding.
    hidden_dims : tuple of int
        Hidden layers of each tower's MLP (ReLU); ``()`` makes the tower linear.
    output_dim : int
        D, the width of the user and item vectors.
    cosine : bool
        L2-normalise the outputs, so that the inner product is the cosine.
    """

    user_cardinalities: tuple[int, ...]
    item_cardinalities: tuple[int, ...]
    user_numeric: int = 0
    item_numeric: int = 0
    embedding_dim: int = 16
    hidden_dims: tuple[int, ...] = (64,)
    output_dim: int = 32
    cosine: bool = True


class Tower(nn.Module):
    """One tower: ``f(x) = MLP([E_1[x_1], ..., E_F[x_F], x_numeric])``, L2-normalised if cosine.

    Parameters
    ----------
    cardinalities : sequence of int
        Values per categorical field.
    n_numeric : int
    embedding_dim, hidden_dims, output_dim, normalize
        As in :class:`TwoTowerConfig` (``normalize`` is its ``cosine``).

    Examples
    --------
    >>> tower = Tower([10, 3], n_numeric=2, embedding_dim=4, hidden_dims=(8,), output_dim=5)
    >>> out = tower(torch.tensor([[1, 0], [9, 2]]), torch.zeros(2, 2))
    >>> tuple(out.shape), torch.allclose(out.norm(dim=1), torch.ones(2))
    ((2, 5), True)
    """

    def __init__(self, cardinalities, n_numeric: int = 0, embedding_dim: int = 16,
                 hidden_dims=(64,), output_dim: int = 32, normalize: bool = True):
        super().__init__()
        cardinalities = tuple(int(c) for c in cardinalities)
        if not cardinalities or min(cardinalities) < 1:
            raise ValueError(f"need at least one categorical field, each with >= 1 value, "
                             f"got {cardinalities}")
        checks = [("n_numeric", n_numeric, 0), ("embedding_dim", embedding_dim, 1),
                  ("output_dim", output_dim, 1), *(("hidden_dims", h, 1) for h in hidden_dims)]
        for name, value, minimum in checks:
            check_int(value, name, minimum=minimum)
        self.cardinalities, self.n_numeric, self.normalize = cardinalities, n_numeric, normalize
        # One table holds every field's rows, field j starting at offsets[j]: the same maths as
        # F separate nn.Embedding tables, but one lookup and one backward pass instead of F.
        self.embedding = nn.Embedding(sum(cardinalities), embedding_dim)
        nn.init.normal_(self.embedding.weight, std=0.1)  # small start: N(0, 1) would swamp the numerics
        offsets = torch.tensor((0,) + cardinalities[:-1]).cumsum(0)
        self.register_buffer("offsets", offsets, persistent=False)
        self.register_buffer("sizes", torch.tensor(cardinalities), persistent=False)
        layers, width = [], len(cardinalities) * embedding_dim + n_numeric
        for hidden in hidden_dims:
            layers += [nn.Linear(width, hidden), nn.ReLU()]
            width = hidden
        layers.append(nn.Linear(width, output_dim))
        self.mlp = nn.Sequential(*layers)

    def forward(self, categorical: torch.Tensor, numeric: torch.Tensor) -> torch.Tensor:
        """Vectors of shape (B, D) from ``categorical`` (B, F) int64 and ``numeric`` (B, N)."""
        check_tensor(categorical, "categorical", 2, floating=False)
        check_width(categorical, "categorical", 1, len(self.cardinalities), "categorical fields")
        check_tensor(numeric, "numeric", 2)
        if numeric.shape != (len(categorical), self.n_numeric):
            raise ValueError(f"numeric must have shape ({len(categorical)}, {self.n_numeric}), "
                             f"got {tuple(numeric.shape)}")
        # An out-of-range code would silently read the next field's rows of the shared table.
        if (categorical < 0).any() or (categorical >= self.sizes).any():
            raise ValueError(f"categorical codes must lie in [0, cardinality) per column, "
                             f"cardinalities {self.cardinalities}")
        rows = (categorical + self.offsets).reshape(-1)  # (B F,) rows of the shared table
        # index_select equals self.embedding(rows); its backward (index_add) is ~2x faster on CPU.
        fields = self.embedding.weight.index_select(0, rows).reshape(len(categorical), -1)  # (B, F E)
        hidden = torch.cat([fields, numeric], dim=1)  # (B, F E + N)
        out = self.mlp(hidden)  # (B, D)
        return F.normalize(out, dim=1) if self.normalize else out


class TwoTowerModel(nn.Module):
    """User tower and item tower; ``forward`` scores aligned (user, item) pairs.

    ``score_i = <a_i, b_i>``, the cosine when ``config.cosine`` (both towers normalise).

    Examples
    --------
    >>> model = TwoTowerModel(TwoTowerConfig(user_cardinalities=(5,), item_cardinalities=(7,)))
    >>> no_numeric = torch.zeros(2, 0)
    >>> users, items = torch.tensor([[0], [4]]), torch.tensor([[6], [2]])
    >>> scores = model(users, no_numeric, items, no_numeric)
    >>> a, b = model.encode_users(users, no_numeric), model.encode_items(items, no_numeric)
    >>> tuple(scores.shape), torch.allclose(scores, (a * b).sum(1))
    ((2,), True)
    """

    def __init__(self, config: TwoTowerConfig):
        super().__init__()
        self.config = config
        common = dict(embedding_dim=config.embedding_dim, hidden_dims=config.hidden_dims,
                      output_dim=config.output_dim, normalize=config.cosine)
        self.user_tower = Tower(config.user_cardinalities, config.user_numeric, **common)
        self.item_tower = Tower(config.item_cardinalities, config.item_numeric, **common)

    def encode_users(self, categorical: torch.Tensor, numeric: torch.Tensor) -> torch.Tensor:
        """User vectors a, shape (B, D)."""
        return self.user_tower(categorical, numeric)

    def encode_items(self, categorical: torch.Tensor, numeric: torch.Tensor) -> torch.Tensor:
        """Item vectors b, shape (B, D)."""
        return self.item_tower(categorical, numeric)

    def forward(self, user_categorical, user_numeric, item_categorical, item_numeric) -> torch.Tensor:
        """Scores of shape (B,) of the pairs (user row i, item row i)."""
        users = self.encode_users(user_categorical, user_numeric)  # (B, D)
        items = self.encode_items(item_categorical, item_numeric)  # (B, D)
        return (users * items).sum(dim=1)  # (B,)


def encode(tower: nn.Module, features: TowerFeatures, ids=None, batch_size: int = 8192) -> np.ndarray:
    """Vectors of shape (len(ids), D) for the rows ``ids`` (default: all), without gradients."""
    ids = np.arange(len(features.categorical)) if ids is None else np.asarray(ids)
    categorical, numeric = features.rows(ids)
    return predict(tower, None, (categorical, numeric), batch_size=batch_size)


def recommend(model: TwoTowerModel, user_features: TowerFeatures, item_features: TowerFeatures,
              user_ids, k: int, exclude=None) -> tuple[np.ndarray, np.ndarray]:
    """Top-k items per user by the model's score: exact nearest-neighbour search (最近邻查找).

    Parameters
    ----------
    user_ids : array-like of shape (n_queries,)
    k : int
    exclude : sparse matrix or bool ndarray of shape (n_queries, n_items), optional
        Pairs never returned (seen items, items not published yet...); row r is ``user_ids[r]``.

    Returns
    -------
    items : ndarray of shape (n_queries, k), int64 item ids, best first (-1 if too few remain)
    scores : ndarray of shape (n_queries, k), float (-inf in the -1 slots)
    """
    users = encode(model.user_tower, user_features, user_ids)  # (n_queries, D)
    items = encode(model.item_tower, item_features)  # (n_items, D), the offline index
    return exact_top_k(users, items, k, exclude=exclude)
