"""The DCN-V2 / TensorFlow Recommenders synthetic polynomial: can a model learn a known cross?

The TensorFlow Recommenders tutorial "Deep & Cross Network (DCN)" (after the DCN-V2 paper,
Wang et al., WWW 2021, arXiv 2008.13535) draws three features as a shop's customers might have
them: x1 = country (200 values), x2 = bananas bought (24), x3 = cookbooks bought (6), each
scaled to [0, 1), and asks a model to learn::

    y = 0.1 x1 + 0.4 x2 + 0.7 x3 + 0.1 x1 x2 + 3.1 x2 x3 + 0.1 x3²

One cross layer and a linear head, ``ŷ = hᵀ(x ⊙ (W x + b) + x) + c``, is exactly a quadratic:
its coefficient of x_i x_j (i ≠ j) is ``h_i W_ij + h_j W_ji``, of x_i² it is ``h_i W_ii``, and
of x_i it is ``h_i (b_i + 1)`` (:func:`quadratic_coefficients`). So 16 parameters can fit y
exactly, where a linear model cannot and a deep ReLU network must approximate the products
piece by piece. ``cubic=`` adds a term ``cubic · x1 x2 x3`` that one cross layer (degree 2)
cannot express and two can (degree 3): the depth question of the widget in notebook 04a.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from course._checks import check_positive_int, check_real
from course.crossing.cross import CrossNetwork, _mlp
from course.seed import as_generator

__all__ = ["POLYNOMIAL_LINEAR", "POLYNOMIAL_CROSSES", "polynomial_data",
           "CrossRegressor", "DeepRegressor", "quadratic_coefficients", "rmse"]

POLYNOMIAL_LINEAR = np.array([0.1, 0.4, 0.7])
POLYNOMIAL_CROSSES = np.array([[0.0, 0.1, 0.0],   # [i, j] = coefficient of x_i x_j (i < j),
                               [0.1, 0.0, 3.1],   # mirrored to [j, i]; [i, i] = coefficient
                               [0.0, 3.1, 0.1]])  # of x_i²
_LEVELS = (200, 24, 6)  # countries, bananas, cookbooks


def polynomial_data(n_rows: int, seed=0, cubic: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Draw ``n_rows`` rows of the tutorial's features and target.

    Parameters
    ----------
    n_rows : int
    seed : int or numpy.random.Generator
    cubic : float
        Coefficient of an extra ``x1 x2 x3`` term (0: the tutorial's polynomial).

    Returns
    -------
    x : ndarray of shape (n_rows, 3), float32
        ``integers(levels) / levels`` per column, levels (200, 24, 6).
    y : ndarray of shape (n_rows,), float32

    Examples
    --------
    >>> x, y = polynomial_data(2, seed=0)
    >>> x.shape, y.dtype.name
    ((2, 3), 'float32')
    """
    n_rows = check_positive_int(n_rows, "n_rows")
    cubic = check_real(cubic, "cubic")
    rng = as_generator(seed)
    x = np.column_stack([rng.integers(levels, size=n_rows) / levels for levels in _LEVELS])
    upper = np.triu(POLYNOMIAL_CROSSES)  # each pair once
    y = x @ POLYNOMIAL_LINEAR + np.einsum("ni,ij,nj->n", x, upper, x) + cubic * x.prod(axis=1)
    return x.astype(np.float32), y.astype(np.float32)


class CrossRegressor(nn.Module):
    """A cross network and a linear head: ``ŷ = hᵀ x_L + c`` (the tutorial's "cross" model).

    Parameters
    ----------
    dim : int
        Width of x.
    n_layers, rank, version
        As in :class:`course.crossing.CrossNetwork`.

    Examples
    --------
    >>> sum(p.numel() for p in CrossRegressor(3).parameters())  # W 9 + b 3 + h 3 + c 1
    16
    """

    def __init__(self, dim: int = 3, n_layers: int = 1, rank: int | None = None, version: int = 2):
        super().__init__()
        self.cross = CrossNetwork(dim, n_layers, rank=rank, version=version)
        self.head = nn.Linear(dim, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Predictions of shape (B,) from x of shape (B, dim)."""
        return self.head(self.cross(x)).squeeze(1)  # (B,)


class DeepRegressor(nn.Module):
    """A ReLU MLP and a linear head (the tutorial's "deep" model, [512, 256, 128] there).

    Examples
    --------
    >>> sum(p.numel() for p in DeepRegressor(3, (512, 256, 128)).parameters())
    166401
    """

    def __init__(self, dim: int = 3, hidden_dims=(512, 256, 128)):
        super().__init__()
        self.deep, width = _mlp(check_positive_int(dim, "dim"), hidden_dims)
        self.head = nn.Linear(width, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Predictions of shape (B,) from x of shape (B, dim)."""
        return self.head(self.deep(x)).squeeze(1)  # (B,)


def quadratic_coefficients(model: CrossRegressor) -> tuple[np.ndarray, np.ndarray]:
    """The polynomial a one-layer, full-rank :class:`CrossRegressor` computes.

    ``ŷ = c + Σ_i h_i (b_i + 1) x_i + Σ_{i,j} h_i W_ij x_i x_j``, so the coefficient of x_i x_j
    (i ≠ j) is ``h_i W_ij + h_j W_ji`` and of x_i² it is ``h_i W_ii``.

    Returns
    -------
    linear : ndarray of shape (d,)
        Coefficient of each x_i.
    crosses : ndarray of shape (d, d)
        Symmetric, laid out like :data:`POLYNOMIAL_CROSSES`.
    """
    if not isinstance(model, CrossRegressor):
        raise TypeError(f"model must be a CrossRegressor, got {type(model).__name__}")
    layers = model.cross.layers
    if len(layers) != 1 or getattr(layers[0], "rank", 0) is not None:
        raise ValueError("quadratic_coefficients reads one full-rank DCN-V2 cross layer; "
                         f"this model has {len(layers)} layer(s) of type {type(layers[0]).__name__}")
    W = layers[0].w.weight.detach().double().numpy()
    b = layers[0].w.bias.detach().double().numpy()
    h = model.head.weight.detach().double().numpy()[0]
    per_term = h[:, None] * W  # h_i W_ij multiplies x_i x_j
    crosses = per_term + per_term.T - np.diag(np.diag(per_term))
    return h * (b + 1), crosses


def rmse(model: nn.Module, x: np.ndarray, y: np.ndarray) -> float:
    """Root mean squared error of ``model(x)`` against ``y`` (no gradients).

    Examples
    --------
    >>> rmse(nn.Flatten(0), np.zeros((4, 1), np.float32), np.full(4, 2.0))
    2.0
    """
    was_training = model.training
    model.eval()
    with torch.no_grad():
        predicted = model(torch.as_tensor(np.asarray(x, dtype=np.float32))).double().numpy()
    model.train(was_training)
    y = np.asarray(y, dtype=np.float64)
    if predicted.shape != y.shape:
        raise ValueError(f"predictions of shape {predicted.shape} do not match y of shape {y.shape}")
    return float(np.sqrt(np.mean((predicted - y) ** 2)))
