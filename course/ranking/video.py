"""Video targets beyond the click: what the watch-time head learns, completion, the length adjustment.

Wang Shusen's lectures (工业界的推荐系统, ranking, "video watch time" and "video completion"):

- **Watch time** (观看时长): the head outputs z, ``p = sigmoid(z)``, is trained with the
  cross-entropy against ``y = t / (1 + t)`` and predicts ``t̂ = exp(z)``
  (:mod:`course.ranking.watch_time`). :func:`cross_entropy_watch_time` gives in closed form what
  ``exp(z)`` converges to for one group of rows: not the mean of t but
  ``1 / mean(1 / (1 + t)) - 1``, the harmonic mean of ``1 + t`` minus 1. It is below the mean
  unless t is constant (the inequality of the arithmetic and harmonic means), and since the
  ``1`` in ``1 + t`` has the unit of t, the gap depends on the unit: small when t is small in
  that unit (hours), large when t is large (seconds).
- **Completion rate** (完播率): regressed directly (a prediction of E[watched fraction]), or as a
  binary target, "watched at least 80 %" (:func:`completion_targets`).
- **Length adjustment**: long videos are completed less, so a raw completion rate favours short
  videos. The lecture divides the prediction by a curve of completion against length,
  ``p / f(length)``, fitted from the data (:class:`LengthAdjustment`).

:class:`VideoModel` is the small model the notebook (03d) trains with each of these targets.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from course._checks import check_array, check_int, check_is_fitted, check_probability

__all__ = ["cross_entropy_watch_time", "completion_targets", "LengthAdjustment", "VideoModel"]


def _finite(x, name: str, ndim=1) -> np.ndarray:
    x = check_array(x, ndim, name, "iuf").astype(np.float64)
    if not np.isfinite(x).all():
        raise ValueError(f"{name} must be finite (no nan or inf)")
    return x


def cross_entropy_watch_time(t) -> float:
    """``exp(z*)`` for the one constant logit z* that minimises the watch-time cross-entropy.

    The mean of ``-[y log p + (1 - y) log(1 - p)]`` over a sample is smallest at ``p = ȳ``, the
    mean label; with ``y = t / (1 + t)``, ``1 - ȳ = mean(1 / (1 + t))`` and::

        exp(z*) = ȳ / (1 - ȳ) = 1 / mean(1 / (1 + t)) - 1 = HM(1 + t) - 1,

    HM the harmonic mean. It equals the mean of t only when t is constant and is below it
    otherwise: a model trained this way estimates a quantity smaller than E[t], by an amount
    that depends on the unit t is measured in.

    Parameters
    ----------
    t : array of shape (n,)
        Watch times, >= 0, n >= 1.

    Returns
    -------
    float

    Examples
    --------
    >>> cross_entropy_watch_time([1.0, 1.0])          # constant t: the mean
    1.0
    >>> cross_entropy_watch_time([0.0, 2.0])          # mean 1; 1 / ((1 + 1/3) / 2) - 1
    0.5
    """
    t = _finite(t, "t")
    if t.size == 0:
        raise ValueError("t must hold at least one watch time, got an empty array")
    if (t < 0).any():
        raise ValueError(f"t must be >= 0 (a watch time), got min {t.min()!r}")
    return float(1.0 / np.mean(1.0 / (1.0 + t)) - 1.0)


def completion_targets(completion, threshold: float = 0.8) -> np.ndarray:
    """The binary completion label ``1[completion >= threshold]`` as floats (0.0 / 1.0).

    Parameters
    ----------
    completion : array of shape (n,)
        Watched fractions in [0, 1].
    threshold : float in (0, 1]
        The lecture's example is 80 %.

    Examples
    --------
    >>> completion_targets([0.2, 0.8, 1.0])
    array([0., 1., 1.])
    """
    completion = _finite(completion, "completion")
    if ((completion < 0) | (completion > 1)).any():
        raise ValueError(f"completion must be in [0, 1], got min {completion.min()!r}, max {completion.max()!r}")
    threshold = check_probability(threshold, "threshold", low_open=True)
    return (completion >= threshold).astype(np.float64)


class LengthAdjustment:
    """``f(length)``, the mean completion against video length, and the adjusted rate ``p / f(length)``.

    ``fit`` cuts the log lengths into ``n_bins`` bins of equal counts (quantiles) and keeps each
    bin's mean log length and mean completion; ``curve`` interpolates linearly between those
    points in log length, and is flat beyond the first and last (a video longer than any seen
    gets the longest bin's rate, not an extrapolation). Dividing a predicted completion by
    ``f(length)`` gives "completion relative to videos of the same length": 1 is average.

    Parameters
    ----------
    n_bins : int
        Number of quantile bins; bins left empty by repeated lengths are dropped.

    Attributes
    ----------
    log_lengths_ : ndarray of shape (n_kept_bins,)
        Mean log length of each bin, increasing.
    means_ : ndarray of shape (n_kept_bins,)
        Mean completion of each bin, all > 0.
    counts_ : ndarray of shape (n_kept_bins,)
        Rows per bin.

    Examples
    --------
    >>> adj = LengthAdjustment(n_bins=2).fit([10.0, 10.0, 100.0, 100.0], [0.9, 0.7, 0.4, 0.2])
    >>> adj.means_
    array([0.8, 0.3])
    >>> adj.adjust([0.8, 0.6], [10.0, 100.0])              # 0.8 / 0.8, 0.6 / 0.3
    array([1., 2.])
    """

    def __init__(self, n_bins: int = 10):
        self.n_bins = n_bins

    def fit(self, length, completion) -> "LengthAdjustment":
        """Fit the curve from lengths (> 0) and watched fractions in [0, 1] of shape (n,)."""
        n_bins = check_int(self.n_bins, "n_bins", minimum=1)
        log_length = self._log_lengths(length)
        completion = _finite(completion, "completion")
        if completion.shape != log_length.shape:
            raise ValueError(f"completion must have the shape of length {log_length.shape}, got {completion.shape}")
        if log_length.size == 0:
            raise ValueError("length must hold at least one video, got an empty array")
        if ((completion < 0) | (completion > 1)).any():
            raise ValueError("completion must be in [0, 1]")
        edges = np.quantile(log_length, np.linspace(0.0, 1.0, n_bins + 1))
        bins = np.clip(np.searchsorted(edges, log_length, side="right") - 1, 0, n_bins - 1)
        counts = np.bincount(bins, minlength=n_bins)
        keep = counts > 0                                  # repeated lengths can leave a bin empty
        self.counts_ = counts[keep]
        self.log_lengths_ = np.bincount(bins, weights=log_length, minlength=n_bins)[keep] / self.counts_
        self.means_ = np.bincount(bins, weights=completion, minlength=n_bins)[keep] / self.counts_
        if (self.means_ <= 0).any():
            raise ValueError("every length bin needs a positive mean completion (p / f would divide by 0)")
        return self

    def curve(self, length) -> np.ndarray:
        """``f(length)`` of shape (n,): the fitted mean completion at each length."""
        check_is_fitted(self, "means_")
        return np.interp(self._log_lengths(length), self.log_lengths_, self.means_)

    def adjust(self, p, length) -> np.ndarray:
        """``p / f(length)`` of shape (n,), for predicted completions ``p`` of shape (n,)."""
        f = self.curve(length)
        p = _finite(p, "p")
        if p.shape != f.shape:
            raise ValueError(f"p must have the shape of length {f.shape}, got {p.shape}")
        return p / f

    @staticmethod
    def _log_lengths(length) -> np.ndarray:
        length = _finite(length, "length")
        if (length <= 0).any():
            raise ValueError(f"length must be > 0 (seconds), got min {length.min()!r}")
        return np.log(length)


class VideoModel(nn.Module):
    """One output per (user, video): user, item and category embeddings and the log length, an MLP.

    ``score = MLP([e_user, e_item, e_category, log_length])``, returned as a raw number: a
    logit for the cross-entropy targets (watch time as ``t/(1+t)``, binary completion), a value
    for the regressions. The same model is trained with each target so that only the target
    and the loss differ.

    Parameters
    ----------
    n_users, n_items, n_categories : int
        Sizes of the id vocabularies.
    dim : int
        Width of each embedding.
    hidden : int
        Width of the MLP's one hidden layer.

    Examples
    --------
    >>> model = VideoModel(3, 4, 2, dim=2, hidden=5)
    >>> tuple(model(torch.tensor([0, 2]), torch.tensor([1, 3]), torch.tensor([0, 1]), torch.zeros(2)).shape)
    (2,)
    """

    def __init__(self, n_users: int, n_items: int, n_categories: int, dim: int = 8, hidden: int = 32):
        super().__init__()
        for value, name in ((n_users, "n_users"), (n_items, "n_items"), (n_categories, "n_categories"),
                            (dim, "dim"), (hidden, "hidden")):
            check_int(value, name, minimum=1)
        self.user = nn.Embedding(n_users, dim)
        self.item = nn.Embedding(n_items, dim)
        self.category = nn.Embedding(n_categories, dim)
        self.mlp = nn.Sequential(nn.Linear(3 * dim + 1, hidden), nn.ReLU(), nn.Linear(hidden, 1))

    def forward(self, users: torch.Tensor, items: torch.Tensor, categories: torch.Tensor,
                log_length: torch.Tensor) -> torch.Tensor:
        """Outputs of shape (B,) from ids of shape (B,) and log lengths of shape (B,)."""
        shapes = {tuple(x.shape) for x in (users, items, categories, log_length)}
        if len(shapes) != 1 or users.ndim != 1:
            raise ValueError(f"users, items, categories and log_length must share one 1-D shape, got {shapes}")
        x = torch.cat([self.user(users), self.item(items), self.category(categories),
                       log_length.to(self.mlp[0].weight.dtype)[:, None]], dim=1)   # (B, 3D + 1)
        return self.mlp(x).squeeze(1)                                               # (B,)
