"""Watch-time modelling (观看时长建模) for video ranking.

Wang Shusen's lectures (工业界的推荐系统, ranking, "video watch time"): one head of the ranking
model outputs a logit z, ``p = sigmoid(z)``; the watch time t (seconds, >= 0) becomes the label
``y = t / (1 + t)`` and the head is trained with the cross-entropy ``CE(y, p)``. Since
``y / (1 - y) = t``, the odds ``exp(z) = p / (1 - p)`` play the role of t, and the prediction
is ``t̂ = exp(z)``.

What the loss estimates exactly. For one constant logit over a sample t_1..t_n the loss is
minimised at ``sigmoid(z*) = ȳ`` (the mean label), so::

    exp(z*) = ȳ / (1 - ȳ) = Σ_i t_i/(1 + t_i) / Σ_i 1/(1 + t_i) = Σ_i w_i t_i / Σ_i w_i,
    w_i = 1 / (1 + t_i)

a mean of t weighted by ``1/(1 + t)``. It equals the mean E[t] exactly when t does not vary
(given the features); otherwise long watches get less weight and ``exp(z*) <= E[t]``
(Chebyshev's sum inequality: the weights fall as t rises). The gap is ``-Cov(w, t) / E[w]``:
small when t varies little relative to 1 + t, e.g. when every t is small.

YouTube's form for comparison (Covington, Adams & Sargin, "Deep neural networks for YouTube
recommendations", RecSys 2016): a logistic regression on clicked (positive) and unclicked
impressions, each positive weighted by its watch time T_i, each negative by 1. For a constant
logit the learned odds are ``Σ T_i / (N - k)`` (k clicks in N impressions) ``= E[T] / (1 - P)``
with E[T] the watch time per impression and P the click rate; the paper writes its first-order
form ``E[T] · (1 + P)``, close to E[T] when P is small. :func:`weighted_logistic_odds` gives
that closed form.
"""
from __future__ import annotations

import numbers

import numpy as np
import torch
import torch.nn.functional as F

from course._checks import check_array

__all__ = ["watch_time_targets", "watch_time_loss", "predict_watch_time",
           "weighted_logistic_loss", "weighted_logistic_odds"]


def _times(t, name: str = "t"):
    """t as a float tensor (from a tensor, an array or a number), all finite and >= 0."""
    if isinstance(t, torch.Tensor):
        if not t.is_floating_point():
            t = t.to(torch.get_default_dtype())
    else:
        if isinstance(t, bool) or not isinstance(t, (numbers.Real, np.ndarray, list, tuple)):
            raise TypeError(f"{name} must be a number, an array or a tensor, got {type(t).__name__}")
        array = check_array(t, range(33), name, "iuf")
        # torch.tensor copies: a read-only array (a pandas column) would make as_tensor warn
        t = torch.tensor(array, dtype=torch.float64 if array.dtype == np.float64
                            else torch.get_default_dtype())
    if not bool(torch.isfinite(t).all()) or bool((t < 0).any()):
        raise ValueError(f"{name} must be finite and >= 0 (a watch time), got min {t.min().item()!r}")
    return t


def watch_time_targets(t) -> torch.Tensor:
    """The label ``y = t / (1 + t)`` in [0, 1) for watch times t >= 0.

    Parameters
    ----------
    t : tensor, array or number of any shape
        Watch times (seconds, or any unit: the prediction comes back in the same unit).

    Returns
    -------
    torch.Tensor of the shape of t

    Examples
    --------
    >>> watch_time_targets([0.0, 1.0, 3.0])
    tensor([0.0000, 0.5000, 0.7500], dtype=torch.float64)
    """
    t = _times(t)
    return t / (1 + t)


def watch_time_loss(logits: torch.Tensor, t) -> torch.Tensor:
    """Mean binary cross-entropy ``-[y log p + (1 - y) log(1 - p)]``, ``p = sigmoid(z)``,
    ``y = t / (1 + t)``.

    Computed from the logits (``binary_cross_entropy_with_logits``), which is stable for
    large |z|; its gradient in z_i is ``(sigmoid(z_i) - y_i) / n``.

    Parameters
    ----------
    logits : torch.Tensor of shape (n,)
        The watch-time head's z.
    t : tensor or array of shape (n,)
        Observed watch times, >= 0.

    Returns
    -------
    torch.Tensor, a scalar

    Examples
    --------
    >>> round(watch_time_loss(torch.zeros(1), [1.0]).item(), 4)   # y = p = 1/2: log 2
    0.6931
    """
    if not isinstance(logits, torch.Tensor) or not logits.is_floating_point():
        raise TypeError(f"logits must be a floating torch.Tensor, got {type(logits).__name__}")
    y = watch_time_targets(t).to(logits.dtype)
    if y.shape != logits.shape:
        raise ValueError(f"t must have the shape of logits {tuple(logits.shape)}, got {tuple(y.shape)}")
    return F.binary_cross_entropy_with_logits(logits, y)


def predict_watch_time(logits: torch.Tensor) -> torch.Tensor:
    """The predicted watch time ``exp(z)``: the odds of ``sigmoid(z)``, as ``t = y / (1 - y)``.

    Examples
    --------
    >>> predict_watch_time(torch.tensor([0.0, float(np.log(30.0))]))
    tensor([ 1., 30.])
    """
    if not isinstance(logits, torch.Tensor) or not logits.is_floating_point():
        raise TypeError(f"logits must be a floating torch.Tensor, got {type(logits).__name__}")
    return torch.exp(logits)


def _clicks_and_times(clicked, t):
    clicked = check_array(clicked, 1, "clicked", "biu")
    if clicked.size and not np.isin(clicked, (0, 1)).all():
        raise ValueError("clicked must be 0/1")
    t = _times(t)
    if tuple(t.shape) != clicked.shape:
        raise ValueError(f"t must have the shape of clicked {clicked.shape}, got {tuple(t.shape)}")
    return torch.as_tensor(clicked.astype(bool)), t


def weighted_logistic_loss(logits: torch.Tensor, clicked, t) -> torch.Tensor:
    """YouTube's weighted logistic loss (Covington et al. 2016), summed over impressions.

    ``Σ_{clicked} -T_i log sigmoid(z_i) + Σ_{not clicked} -log(1 - sigmoid(z_i))``: positives
    weighted by their watch time T_i, negatives by 1. Serving predicts ``exp(z)``.

    Parameters
    ----------
    logits : torch.Tensor of shape (n,)
    clicked : array of 0/1 of shape (n,)
    t : tensor or array of shape (n,)
        Watch times (those of unclicked rows are not used).

    Examples
    --------
    >>> round(weighted_logistic_loss(torch.zeros(2), [1, 0], [3.0, 0.0]).item(), 4)  # 4 log 2
    2.7726
    """
    if not isinstance(logits, torch.Tensor) or not logits.is_floating_point():
        raise TypeError(f"logits must be a floating torch.Tensor, got {type(logits).__name__}")
    clicked, t = _clicks_and_times(clicked, t)
    if tuple(logits.shape) != tuple(clicked.shape):
        raise ValueError(f"logits must have shape {tuple(clicked.shape)}, got {tuple(logits.shape)}")
    weights = torch.where(clicked, t.to(logits.dtype), torch.ones_like(logits))
    targets = clicked.to(logits.dtype)
    return F.binary_cross_entropy_with_logits(logits, targets, weight=weights, reduction="sum")


def weighted_logistic_odds(clicked, t) -> float:
    """The odds ``Σ_{clicked} T_i / #(not clicked)`` that minimise :func:`weighted_logistic_loss`
    for one constant logit; equals ``E[T] / (1 - P)`` (≈ ``E[T] (1 + P)`` for a small click rate P).

    Examples
    --------
    >>> weighted_logistic_odds([1, 0, 0, 0], [8.0, 0.0, 0.0, 0.0])   # 8 / 3 = E[T] / (1 - P) = 2 / 0.75
    2.6666666666666665
    """
    clicked, t = _clicks_and_times(clicked, t)
    n_negatives = int((~clicked).sum())
    if n_negatives == 0:
        raise ValueError("clicked must contain at least one 0: with no negative the odds are infinite")
    return float(t[clicked].sum()) / n_negatives
