"""Score fusion (融分): one ranking score from a multi-task model's predicted rates.

A ranking model predicts several rates per candidate (click, like, collect, share, watch time,
add-to-cart, pay …); the funnel needs one number to sort by. Wang Shusen's lectures
(工业界的推荐系统, ranking, "multi-objective models: fusing the predicted scores") list five
forms, all here as vectorised functions over arrays of shape (n_items,) or (n_items, n_targets):

1. :func:`linear_fusion` — the simple weighted sum ``p_click + Σ_x w_x · p_x``;
2. :func:`multiplicative_fusion` — the click rate times a weighted sum,
   ``p_click · (1 + Σ_x w_x · p_x)``: the other rates are per click, so
   ``p_click · p_x`` is the rate per impression;
3. :func:`video_fusion` — an overseas short-video app: ``Π_t (1 + w_t · p_t)^α_t``;
4. :func:`rank_fusion` — a domestic short-video app (Kuaishou): ranks, not rates,
   ``Σ_t w_t / (r_t^α_t + β_t)``, so each target counts by its order only;
5. :func:`ecommerce_fusion` — an e-commerce platform:
   ``p_click^α1 · p_cart^α2 · p_pay^α3 · price^α4``, the expected revenue of an impression when
   every α is 1.

The weights and exponents are hyper-parameters tuned by A/B tests. Calibrated rates
(:func:`course.ranking.calibrate_downsampled`) matter here: every form but the rank one uses
the rates' values.
"""
from __future__ import annotations

import numpy as np

from course._checks import check_array

__all__ = ["linear_fusion", "multiplicative_fusion", "video_fusion", "rank_fusion",
           "ecommerce_fusion"]


def _rates(x, name: str, ndim, *, probability: bool = True) -> np.ndarray:
    """Finite float64 array of ``ndim``; in [0, 1] if ``probability``, else >= 0."""
    x = check_array(x, ndim, name, "iuf").astype(np.float64)
    if not np.isfinite(x).all():
        raise ValueError(f"{name} must be finite (no nan or inf)")
    if (x < 0).any() or (probability and (x > 1).any()):
        wanted = "in [0, 1]" if probability else ">= 0"
        raise ValueError(f"{name} must be {wanted}, got min {x.min()!r}, max {x.max()!r}")
    return x


def _parameters(x, name: str, n_targets: int, *, minimum: float | None = None,
                positive: bool = False) -> np.ndarray:
    """A scalar (broadcast) or a finite vector of length ``n_targets``."""
    x = check_array(x, (0, 1), name, "iuf").astype(np.float64)
    if x.ndim == 1 and x.shape[0] != n_targets:
        raise ValueError(f"{name} must have length {n_targets} (one per target), got {x.shape[0]}")
    if not np.isfinite(x).all():
        raise ValueError(f"{name} must be finite (no nan or inf)")
    if positive and (x <= 0).any():
        raise ValueError(f"{name} must be > 0, got {x.tolist()}")
    if minimum is not None and (x < minimum).any():
        raise ValueError(f"{name} must be >= {minimum:g}, got {x.tolist()}")
    return np.broadcast_to(x, (n_targets,))


def _click_and_others(p_click, others, weights):
    p_click = _rates(p_click, "p_click", 1)
    others = _rates(others, "others", (1, 2))
    others = others[:, None] if others.ndim == 1 else others  # one target as a column
    if others.shape[0] != p_click.shape[0]:
        raise ValueError(f"others must have one row per item ({p_click.shape[0]}), "
                         f"got shape {others.shape}")
    return p_click, others, _parameters(weights, "weights", others.shape[1])


def linear_fusion(p_click, others, weights) -> np.ndarray:
    """The lecture's first form, a weighted sum: ``p_click + Σ_x w_x · p_x``.

    Parameters
    ----------
    p_click : array of shape (n_items,)
        Predicted click rates in [0, 1].
    others : array of shape (n_items, n_targets) or (n_items,)
        The other predicted rates (like, collect, share …), in [0, 1].
    weights : float or array of shape (n_targets,)
        ``w_x``, finite.

    Returns
    -------
    ndarray of shape (n_items,)

    Examples
    --------
    >>> linear_fusion([0.1, 0.2], [[0.5, 0.0], [0.0, 0.5]], [1.0, 2.0])   # 0.1 + 0.5, 0.2 + 1.0
    array([0.6, 1.2])
    """
    p_click, others, weights = _click_and_others(p_click, others, weights)
    return p_click + others @ weights


def multiplicative_fusion(p_click, others, weights) -> np.ndarray:
    """The lecture's second form: ``p_click · (1 + Σ_x w_x · p_x)``.

    The other rates are conditional on a click (a like happens after a click), so
    ``p_click · p_x`` is a rate per impression: the score adds the expected clicks and the
    weighted expected interactions of one impression.

    Parameters and returns as :func:`linear_fusion`.

    Examples
    --------
    >>> multiplicative_fusion([0.1, 0.2], [[0.5, 0.0], [0.0, 0.5]], [1.0, 2.0])  # 0.1·1.5, 0.2·2
    array([0.15, 0.4 ])
    """
    p_click, others, weights = _click_and_others(p_click, others, weights)
    return p_click * (1.0 + others @ weights)


def video_fusion(predictions, weights, exponents) -> np.ndarray:
    """The lecture's third form (an overseas short-video app): ``Π_t (1 + w_t · p_t)^α_t``.

    Parameters
    ----------
    predictions : array of shape (n_items, n_targets)
        Predicted rates in [0, 1] (watch time first in the lecture: a normalised one).
    weights : float or array of shape (n_targets,)
        ``w_t >= 0``, so every base is at least 1.
    exponents : float or array of shape (n_targets,)
        ``α_t``, finite.

    Returns
    -------
    ndarray of shape (n_items,)

    Examples
    --------
    >>> video_fusion([[0.5, 1.0]], weights=[2.0, 1.0], exponents=[1.0, 0.5])  # 2 · sqrt(2)
    array([2.82842712])
    """
    predictions = _rates(predictions, "predictions", 2)
    n_targets = predictions.shape[1]
    weights = _parameters(weights, "weights", n_targets, minimum=0.0)
    exponents = _parameters(exponents, "exponents", n_targets)
    # a sum of logs, not a product of powers: no overflow or underflow for many targets
    return np.exp((np.log1p(predictions * weights) * exponents).sum(axis=1))


def _ranks(predictions: np.ndarray) -> np.ndarray:
    """1-based rank of each item under each target (column), best (largest) = 1."""
    # a stable sort of -p keeps equal predictions in item order: ties go to the smaller index
    order = np.argsort(-predictions, axis=0, kind="stable")               # (n_items, n_targets)
    ranks = np.empty(predictions.shape, dtype=np.int64)
    positions = np.broadcast_to(np.arange(1, len(predictions) + 1)[:, None], predictions.shape)
    np.put_along_axis(ranks, order, positions, axis=0)
    return ranks


def rank_fusion(predictions, weights, alpha, beta) -> np.ndarray:
    """The lecture's Kuaishou form: ``Σ_t w_t / (r_t^α_t + β_t)``, with ranks instead of rates.

    ``r_t`` is the item's 1-based rank among the candidates when sorted by target t's
    prediction, largest first (best = 1). Equal predictions are ranked by item index: the
    smaller index gets the better rank, so the result is deterministic. Only the order of each
    column matters, so the score is unchanged by any increasing transform of a target's
    predictions (uncalibrated rates, logits, a predicted watch time in seconds all work).

    Parameters
    ----------
    predictions : array of shape (n_items, n_targets)
        Any finite scores, larger is better.
    weights : float or array of shape (n_targets,)
        ``w_t``, finite.
    alpha : float or array of shape (n_targets,)
        ``α_t > 0``: how fast a target's credit decays with its rank.
    beta : float or array of shape (n_targets,)
        ``β_t >= 0``: smooths the top ranks (the denominator stays >= 1).

    Returns
    -------
    ndarray of shape (n_items,)

    Examples
    --------
    >>> p = [[0.9, 0.1], [0.5, 0.7], [0.1, 0.3]]        # ranks (1, 3), (2, 1), (3, 2)
    >>> rank_fusion(p, weights=[1.0, 2.0], alpha=1.0, beta=1.0)   # 1/2 + 2/4, 1/3 + 2/2, 1/4 + 2/3
    array([1.        , 1.33333333, 0.91666667])
    """
    predictions = check_array(predictions, 2, "predictions", "iuf").astype(np.float64)
    if not np.isfinite(predictions).all():
        raise ValueError("predictions must be finite (no nan or inf)")
    n_targets = predictions.shape[1]
    weights = _parameters(weights, "weights", n_targets)
    alpha = _parameters(alpha, "alpha", n_targets, positive=True)
    beta = _parameters(beta, "beta", n_targets, minimum=0.0)
    ranks = _ranks(predictions).astype(np.float64)
    return (weights / (ranks**alpha + beta)).sum(axis=1)


def ecommerce_fusion(p_click, p_cart, p_pay, price, exponents) -> np.ndarray:
    """The lecture's e-commerce form: ``p_click^α1 · p_cart^α2 · p_pay^α3 · price^α4``.

    With every α = 1 it is the expected revenue of one impression (GMV): click, then add to
    cart given a click, then pay given the cart, times the price. The exponents trade
    revenue against engagement (α4 < 1 lowers the pull of expensive items).

    Parameters
    ----------
    p_click, p_cart, p_pay : array of shape (n_items,)
        Predicted click rate, add-to-cart rate given a click, pay rate given the cart, in [0, 1].
    price : array of shape (n_items,)
        Prices, >= 0.
    exponents : array of shape (4,)
        ``(α1, α2, α3, α4)``, each >= 0 (0 drops that factor; ``0^0 = 1``).

    Returns
    -------
    ndarray of shape (n_items,)

    Examples
    --------
    >>> ecommerce_fusion([0.1], [0.5], [0.2], [30.0], exponents=[1, 1, 1, 1])  # 0.01 · 30
    array([0.3])
    """
    p_click = _rates(p_click, "p_click", 1)
    n_items = p_click.shape[0]
    factors = [p_click]
    for name, x, probability in (("p_cart", p_cart, True), ("p_pay", p_pay, True),
                                 ("price", price, False)):
        x = _rates(x, name, 1, probability=probability)
        if x.shape[0] != n_items:
            raise ValueError(f"{name} must have length {n_items} like p_click, got {x.shape[0]}")
        factors.append(x)
    exponents = check_array(exponents, 1, "exponents", "iuf")
    if exponents.shape[0] != 4:
        raise ValueError(f"exponents must have length 4 (α1..α4), got {exponents.shape[0]}")
    exponents = _parameters(exponents, "exponents", 4, minimum=0.0)
    return np.prod(np.stack(factors, axis=1) ** exponents, axis=1)
