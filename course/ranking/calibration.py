"""Negative down-sampling (负样本降采样) and the calibration (校准) that undoes it.

Click data is imbalanced: most impressions are not clicked, so the negatives cost most of the
training time while adding little. Keeping every positive and each negative with probability
α ∈ (0, 1] trains α times fewer negatives, but the model then over-predicts: it learns the rate
of the down-sampled data, not the true one. Wang Shusen's lectures (工业界的推荐系统, ranking,
"multi-objective models: down-sampling and calibration") correct the prediction with::

    p_true = α · p / (1 - p + α · p)

He, Pan, Jin et al., "Practical lessons from predicting clicks on ads at Facebook" (ADKDD 2014,
section 6.2) write the same correction as ``q = p / (p + (1 - p) / w)`` with ``w = α``.

When calibration matters: whenever the predicted *value* is used, not only the order. Ranking
one user's candidates by one model's p needs no correction (the map is increasing, the order is
kept); fusing several predicted rates into one score (:mod:`course.ranking.fusion`), bidding
or pricing with p, comparing rates across models or traffic, and monitoring predicted against
observed CTR all need calibrated rates.
"""
from __future__ import annotations

import numbers

import numpy as np

from course._checks import check_array, check_probability
from course.seed import as_generator

__all__ = ["calibrate_downsampled", "downsample_negatives"]


def calibrate_downsampled(p, alpha: float):
    """Map a rate predicted after negative down-sampling back to the true rate.

    Derivation: in the full data the odds of a click are ``odds = n₊ / n₋``. Keeping negatives
    at rate α leaves n₊ positives and about α·n₋ negatives, so a model trained on the kept rows
    learns ``odds' = n₊ / (α·n₋) = odds / α``. With ``p`` the model's prediction,
    ``odds' = p / (1 - p)``, so the true odds are ``α · p / (1 - p)`` and::

        p_true = odds / (1 + odds) = α·p / (1 - p + α·p)

    The map is increasing in p, fixes 0 and 1, and is the identity for α = 1.

    Parameters
    ----------
    p : float, ndarray of any shape, or torch.Tensor
        Predicted rates in [0, 1] from a model trained on down-sampled data.
    alpha : float
        The rate in (0, 1] at which negatives were kept (1: no down-sampling).

    Returns
    -------
    float, ndarray or torch.Tensor
        The calibrated rates, of the type and shape of ``p`` (a float for a Python number).

    Examples
    --------
    >>> round(calibrate_downsampled(0.5, alpha=0.1), 4)   # odds 1 after sampling -> 0.1 -> 0.1/1.1
    0.0909
    >>> calibrate_downsampled(np.array([0.0, 0.2, 1.0]), alpha=1.0)
    array([0. , 0.2, 1. ])
    """
    alpha = check_probability(alpha, "alpha", low_open=True)
    if isinstance(p, numbers.Real) and not isinstance(p, bool):
        p = check_probability(p, "p")
        return alpha * p / (1.0 - p + alpha * p)
    if type(p).__module__.startswith("torch"):
        import torch  # local: the numpy path must not load torch

        if not isinstance(p, torch.Tensor) or not p.is_floating_point():
            raise TypeError(f"p must be a float, an ndarray or a floating torch.Tensor, got {p!r}")
        # nan fails both comparisons, so this also rejects it
        if not bool(((p >= 0) & (p <= 1)).all()):
            raise ValueError("p must hold probabilities in [0, 1] (no nan)")
        return alpha * p / (1 - p + alpha * p)
    p = check_array(p, range(33), "p", "iuf")
    if not ((p >= 0) & (p <= 1)).all():
        raise ValueError(f"p must hold probabilities in [0, 1] (no nan), got min {np.min(p)!r}, "
                         f"max {np.max(p)!r}")
    p = p.astype(np.float64)
    return alpha * p / (1.0 - p + alpha * p)


def downsample_negatives(labels, alpha: float, seed) -> np.ndarray:
    """Keep-mask of negative down-sampling: every positive, each negative with probability α.

    Parameters
    ----------
    labels : array-like of shape (n_samples,)
        0/1 (or bool) labels; 1 is a positive (a click).
    alpha : float
        Keep rate of negatives in (0, 1]; 1 keeps everything.
    seed : int or numpy.random.Generator
        Source of the coin flips (one uniform draw per row, so a row's fate does not depend on
        the other labels).

    Returns
    -------
    ndarray of bool of shape (n_samples,)
        True for the rows to train on; ``labels[mask]`` is the down-sampled set.

    Examples
    --------
    >>> labels = np.array([1, 0, 0, 0, 1, 0])
    >>> mask = downsample_negatives(labels, alpha=0.5, seed=0)
    >>> bool(mask[labels == 1].all())          # positives are always kept
    True
    >>> bool(downsample_negatives(labels, alpha=1.0, seed=0).all())
    True
    """
    labels = check_array(labels, 1, "labels", "biu")
    if labels.size and not np.isin(labels, (0, 1)).all():
        raise ValueError(f"labels must be 0/1, got values {np.unique(labels)[:5].tolist()}")
    alpha = check_probability(alpha, "alpha", low_open=True)
    rng = as_generator(seed, "seed")
    return (labels == 1) | (rng.random(labels.shape[0]) < alpha)
