"""Pre-ranking (粗排): the three-tower model and the cost of one request.

Wang Shusen's lectures (工业界的推荐系统, ranking, "pre-ranking three-tower model"): after
recall, thousands of candidates are left, too many for the ranker (精排), which runs a large
network on every (user, candidate) pair. The pre-ranker cuts them to a few hundred with a model
built so that most of its work is shared:

- the **user tower** (用户塔) reads user and context features: one forward pass per request,
  however many candidates;
- the **item tower** (物品塔) reads item features only: its outputs are **cached** (缓存) and
  recomputed only for new items or when the cache refreshes, so a request pays (almost) nothing;
- the **cross tower** (交叉塔) reads the user-item statistics (the user's rate on the note's
  category, follows the author, same city): it must run for every candidate, so it is small;
- the **upper network** (上层网络) concatenates the three vectors and outputs the logits; it also
  runs for every candidate and is where a request's cost goes.

:class:`ThreeTower` takes the (B, F, D) field stack of :class:`course.features.FeatureEmbedding`
(wrap it in :class:`course.features.FeatureModel` with ``flatten=False`` to train it) and splits
the fields among its towers. :func:`request_cost` counts one request's forward passes and
multiply-adds from the parameter shapes, for the three-tower model and for any per-candidate
ranker (the shared bottom of :mod:`course.ranking.multitask`).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import torch
from torch import nn

from course._checks import check_int, check_nonnegative_int, check_positive_int

__all__ = ["ThreeTower", "multiply_adds", "request_cost"]


def _mlp(n_inputs: int, hidden: tuple[int, ...]) -> nn.Sequential:
    layers, width = [], n_inputs
    for h in hidden:
        layers += [nn.Linear(width, h), nn.ReLU()]
        width = h
    return nn.Sequential(*layers)


def _widths(hidden, name: str) -> tuple[int, ...]:
    hidden = (hidden,) if isinstance(hidden, int) else tuple(hidden)
    if not hidden:
        raise ValueError(f"{name} must name at least one layer width, got ()")
    return tuple(check_int(h, f"{name} widths", minimum=1) for h in hidden)


def _field_indices(fields, name: str) -> tuple[int, ...]:
    if isinstance(fields, (str, int)) or not hasattr(fields, "__iter__"):
        raise TypeError(f"{name} must be a sequence of field indices, got {fields!r}")
    fields = tuple(check_nonnegative_int(f, name) for f in fields)
    if not fields:
        raise ValueError(f"{name} must hold at least one field index")
    return fields


class ThreeTower(nn.Module):
    """The pre-ranking three-tower model over a (B, F, D) stack of feature fields.

    ``logits = upper([user_tower(x_user), item_tower(x_item), cross_tower(x_cross)])`` with
    ``x_user`` the user fields of the stack flattened, and so on: each tower an MLP with ReLU,
    the upper network an MLP followed by a linear layer to ``n_tasks`` logits.

    Parameters
    ----------
    dim : int
        D, the width of every field vector.
    user_fields, item_fields, cross_fields : sequence of int
        Indices into the F fields; every field belongs to at most one tower (a field in none is
        not used, e.g. the slot position a served pre-ranker does not know).
    user_hidden, item_hidden, cross_hidden, upper_hidden : int or sequence of int
        Layer widths; the last width of a tower is the size of its vector.
    n_tasks : int
        Logits out (1: click).

    Examples
    --------
    >>> model = ThreeTower(4, user_fields=[0, 1], item_fields=[2], cross_fields=[3],
    ...                    user_hidden=(8,), item_hidden=(8,), cross_hidden=(2,), upper_hidden=(6,))
    >>> tuple(model(torch.zeros(5, 4, 4)).shape)
    (5, 1)
    """

    def __init__(self, dim: int, user_fields, item_fields, cross_fields, *, user_hidden=(64, 32),
                 item_hidden=(64, 32), cross_hidden=(8,), upper_hidden=(32,), n_tasks: int = 1):
        super().__init__()
        self.dim = check_positive_int(dim, "dim")
        self.user_fields = _field_indices(user_fields, "user_fields")
        self.item_fields = _field_indices(item_fields, "item_fields")
        self.cross_fields = _field_indices(cross_fields, "cross_fields")
        everything = self.user_fields + self.item_fields + self.cross_fields
        if len(set(everything)) != len(everything):
            raise ValueError("a field may belong to one tower only (or to none)")
        widths = {name: _widths(h, name) for name, h in (("user_hidden", user_hidden), ("item_hidden", item_hidden),
                                                          ("cross_hidden", cross_hidden), ("upper_hidden", upper_hidden))}
        self.n_tasks = check_positive_int(n_tasks, "n_tasks")
        self.n_fields = max(everything) + 1                    # the stack must have at least these
        self.user_tower = _mlp(len(self.user_fields) * dim, widths["user_hidden"])
        self.item_tower = _mlp(len(self.item_fields) * dim, widths["item_hidden"])
        self.cross_tower = _mlp(len(self.cross_fields) * dim, widths["cross_hidden"])
        n_concat = widths["user_hidden"][-1] + widths["item_hidden"][-1] + widths["cross_hidden"][-1]
        self.upper = nn.Sequential(_mlp(n_concat, widths["upper_hidden"]),
                                   nn.Linear(widths["upper_hidden"][-1], n_tasks))
        for name in ("user_fields", "item_fields", "cross_fields"):
            self.register_buffer(f"_{name}", torch.tensor(getattr(self, name)), persistent=False)

    def _check(self, fields: torch.Tensor) -> None:
        if not isinstance(fields, torch.Tensor) or not fields.is_floating_point():
            raise TypeError(f"fields must be a floating torch.Tensor, got {type(fields).__name__}")
        if fields.ndim != 3 or fields.shape[1] < self.n_fields or fields.shape[2] != self.dim:
            raise ValueError(f"fields must have shape (B, F >= {self.n_fields}, {self.dim}), got {tuple(fields.shape)}")

    def user_vector(self, fields: torch.Tensor) -> torch.Tensor:
        """(B, user_hidden[-1]) from fields (B, F, D): once per request at serving."""
        self._check(fields)
        return self.user_tower(fields[:, self._user_fields].flatten(1))       # (B, F_u·D) -> (B, H_u)

    def item_vector(self, fields: torch.Tensor) -> torch.Tensor:
        """(B, item_hidden[-1]) from fields (B, F, D): computed offline and cached at serving."""
        self._check(fields)
        return self.item_tower(fields[:, self._item_fields].flatten(1))       # (B, F_i·D) -> (B, H_i)

    def cross_vector(self, fields: torch.Tensor) -> torch.Tensor:
        """(B, cross_hidden[-1]) from fields (B, F, D): once per candidate."""
        self._check(fields)
        return self.cross_tower(fields[:, self._cross_fields].flatten(1))     # (B, F_c·D) -> (B, H_c)

    def combine(self, user: torch.Tensor, item: torch.Tensor, cross: torch.Tensor) -> torch.Tensor:
        """Logits (N, n_tasks) from the three towers' vectors; a user vector of one row broadcasts."""
        user = user.expand(item.shape[0], -1) if user.shape[0] == 1 else user   # (N, H_u)
        return self.upper(torch.cat([user, item, cross], dim=1))               # (N, H_u + H_i + H_c)

    def forward(self, fields: torch.Tensor) -> torch.Tensor:
        """Logits (B, n_tasks) of B (user, item) rows: every tower on every row, for training."""
        return self.combine(self.user_vector(fields), self.item_vector(fields), self.cross_vector(fields))


def multiply_adds(module: nn.Module) -> int:
    """Multiply-adds of one row through the ``nn.Linear`` layers of ``module``: Σ in · out.

    The bias additions, the activations and the embedding lookups are not counted: lookups are
    memory reads, and the rest is a small fraction of the matrix products.

    Examples
    --------
    >>> multiply_adds(nn.Sequential(nn.Linear(10, 8), nn.ReLU(), nn.Linear(8, 4)))   # 80 + 32
    112
    """
    if not isinstance(module, nn.Module):
        raise TypeError(f"module must be an nn.Module, got {type(module).__name__}")
    return sum(m.in_features * m.out_features for m in module.modules() if isinstance(m, nn.Linear))


def request_cost(model: nn.Module, n_candidates: int, *, n_uncached: int = 0) -> pd.DataFrame:
    """Forward passes and multiply-adds of one request that scores ``n_candidates`` items.

    For a :class:`ThreeTower`: the user tower runs once, the item tower only for the
    ``n_uncached`` items missing from the cache, the cross tower and the upper network once per
    candidate. For any other model (a ranker such as the shared bottom) the whole network runs
    once per candidate.

    Parameters
    ----------
    model : nn.Module
    n_candidates : int
        Candidates scored in the request (>= 1).
    n_uncached : int
        Candidates whose item vector is not cached (three-tower model only), 0..n_candidates.

    Returns
    -------
    DataFrame
        One row per part and a ``total`` row; columns ``forward passes``, ``multiply-adds per
        pass``, ``multiply-adds``.

    Examples
    --------
    >>> ranker = nn.Sequential(nn.Linear(10, 8), nn.ReLU(), nn.Linear(8, 1))
    >>> int(request_cost(ranker, 100).loc["total", "multiply-adds"])     # 100 · (80 + 8)
    8800
    """
    n_candidates = check_positive_int(n_candidates, "n_candidates")
    n_uncached = check_int(n_uncached, "n_uncached", minimum=0, maximum=n_candidates)
    if isinstance(model, ThreeTower):
        parts = {"user tower": (model.user_tower, 1), "item tower (uncached items)": (model.item_tower, n_uncached),
                 "cross tower": (model.cross_tower, n_candidates), "upper network": (model.upper, n_candidates)}
    elif isinstance(model, nn.Module):
        if n_uncached:
            raise ValueError("n_uncached applies to a ThreeTower only (other models cache nothing)")
        parts = {"whole network": (model, n_candidates)}
    else:
        raise TypeError(f"model must be an nn.Module, got {type(model).__name__}")
    table = pd.DataFrame({"forward passes": [n for _, n in parts.values()],
                          "multiply-adds per pass": [multiply_adds(m) for m, _ in parts.values()]},
                         index=list(parts))
    table["multiply-adds"] = table["forward passes"] * table["multiply-adds per pass"]
    table.loc["total"] = [int(table["forward passes"].sum()), np.nan, int(table["multiply-adds"].sum())]
    return table.astype({"forward passes": np.int64, "multiply-adds": np.int64})
