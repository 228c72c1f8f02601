"""The MMoE paper's synthetic two-task regression data, with a task correlation you choose.

Ma, Zhao, Yi, Chen, Hong, Chi, "Modeling Task Relationships in Multi-task Learning with
Multi-gate Mixture-of-Experts", KDD 2018, section 3.2. Real tasks' relatedness cannot be
dialled; here it can. Two orthogonal unit vectors u1, u2 in R^d give the tasks' directions::

    w1 = c·u1,   w2 = c·(p·u1 + √(1 − p²)·u2)          # cos(w1, w2) = p
    x ~ N(0, I_d)
    y_i = w_iᵀx + Σ_{j=1..m} sin(α_j·w_iᵀx + β_j) + ε_i,   ε_i ~ N(0, 0.01)

With x standard normal, the linear parts w1ᵀx and w2ᵀx have Pearson correlation exactly p
(their covariance is w1ᵀw2 = c²p, each variance c²). The sines make the tasks non-linear, so
the labels' own correlation is a smaller, monotone function of p (the paper's figure 2 plots
it); the sines are the same for both tasks, so at p = 1 the two tasks are one task.

What the paper leaves open and we fix: it gives neither the distribution of α_j, β_j nor, in
the text we could check, the values of d and m; we take the issue's d = 100, c = 1, m = 10 and
draw α_j, β_j ~ N(0, 1) once per seed. N(0, 0.01) is read as variance 0.01 (standard deviation
0.1). The random parts are drawn in the order u, α, β, x, ε from one generator, so datasets with
the same seed and different p share u1, u2, α, β and x: only w2 (and y2) changes with p.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from course._checks import check_int, check_real
from course.seed import as_generator

__all__ = ["SyntheticTasks", "mmoe_synthetic"]


class SyntheticTasks(NamedTuple):
    """What :func:`mmoe_synthetic` returns; unpack as ``x, y, *_ = mmoe_synthetic(...)``.

    Attributes
    ----------
    x : ndarray of shape (n, d)
    y : ndarray of shape (n, 2)
        The two tasks' labels.
    w : ndarray of shape (2, d)
        w1 and w2; ``x @ w.T`` are the linear parts.
    alpha, beta : ndarray of shape (m,)
        The sines' frequencies and phases.
    """

    x: np.ndarray
    y: np.ndarray
    w: np.ndarray
    alpha: np.ndarray
    beta: np.ndarray


def mmoe_synthetic(n: int, correlation: float, *, d: int = 100, c: float = 1.0, m: int = 10,
                   noise_std: float = 0.1, seed=0) -> SyntheticTasks:
    """Draw ``n`` rows of the MMoE paper's two regression tasks with task correlation p.

    Parameters
    ----------
    n : int
        Rows (>= 1).
    correlation : float in [-1, 1]
        p, the cosine of w1 and w2 (and the Pearson correlation of the linear parts).
    d : int, default 100
        Input dimension (>= 2: u1 and u2 must be orthogonal).
    c : float, default 1.0
        Scale of w1 and w2 (> 0).
    m : int, default 10
        Number of sine terms (>= 0).
    noise_std : float, default 0.1
        Standard deviation of ε (>= 0); 0.1 is the paper's variance 0.01.
    seed : int or numpy.random.Generator
        Source of u1, u2, α, β, x and ε (in that order).

    Returns
    -------
    SyntheticTasks
        ``(x, y, w, alpha, beta)``.

    Examples
    --------
    >>> data = mmoe_synthetic(5, 0.5, d=4, m=2, seed=0)
    >>> data.x.shape, data.y.shape
    ((5, 4), (5, 2))
    >>> w1, w2 = data.w
    >>> round(float(w1 @ w2 / (np.linalg.norm(w1) * np.linalg.norm(w2))), 6)
    0.5
    """
    check_int(n, "n", minimum=1)
    check_real(correlation, "correlation", -1.0, 1.0)
    check_int(d, "d", minimum=2)
    check_real(c, "c", low=0.0, low_open=True)
    check_int(m, "m", minimum=0)
    check_real(noise_std, "noise_std", low=0.0)
    rng = as_generator(seed, "seed")
    # QR of a Gaussian matrix: two orthonormal columns, uniformly oriented.
    u, _ = np.linalg.qr(rng.standard_normal((d, 2)))                            # (d, 2)
    u1, u2 = u[:, 0], u[:, 1]
    w = c * np.stack([u1, correlation * u1 + np.sqrt(1.0 - correlation**2) * u2])  # (2, d)
    alpha, beta = rng.standard_normal(m), rng.standard_normal(m)
    x = rng.standard_normal((n, d))
    linear = x @ w.T                                                              # (n, 2)
    sines = np.sin(alpha * linear[:, :, None] + beta).sum(axis=2)                 # (n, 2, m) -> (n, 2)
    y = linear + sines + noise_std * rng.standard_normal((n, 2))
    return SyntheticTasks(x, y, w, alpha, beta)
