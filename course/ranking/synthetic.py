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

from pathlib import Path
from typing import Callable, Mapping, NamedTuple

import numpy as np
import pandas as pd
import torch

from course._checks import check_int, check_real
from course.seed import as_generator
from course.training import train

__all__ = ["SyntheticTasks", "mmoe_synthetic", "task_correlation_grid", "best_within", "stored_task_correlation_grid"]


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
                   noise_std: float = 0.1, seed=0, sines_seed=None) -> SyntheticTasks:
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
    sines_seed : int, optional
        If given, α and β are drawn from their own generator seeded with it, so that datasets
        of different ``seed`` share one pair of sine shapes (the paper's α, β are "given
        parameters", the same in every run) and differ only in u1, u2, x, ε. ``seed``'s
        generator still draws (and discards) its own α, β, so x and ε do not depend on
        ``sines_seed``.

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
    if sines_seed is not None:
        shapes = np.random.default_rng(check_int(sines_seed, "sines_seed", minimum=0))
        alpha, beta = shapes.standard_normal(m), shapes.standard_normal(m)
    x = rng.standard_normal((n, d))
    linear = x @ w.T                                                              # (n, 2)
    sines = np.sin(alpha * linear[:, :, None] + beta).sum(axis=2)                 # (n, 2, m) -> (n, 2)
    y = linear + sines + noise_std * rng.standard_normal((n, 2))
    return SyntheticTasks(x, y, w, alpha, beta)


def _mse(model, batch) -> torch.Tensor:
    return ((model(batch[0]) - batch[1]) ** 2).mean()


def task_correlation_grid(models: Mapping[str, Callable[[], torch.nn.Module]], correlations,
                          seeds, *, sizes=(10_000, 2_000, 4_000), d: int = 100, m: int = 10,
                          epochs: int = 40, batch_size: int = 256, learning_rate: float = 3e-3,
                          sines_seed: int | None = 0) -> pd.DataFrame:
    """Train each model on :func:`mmoe_synthetic` data for every p and seed; losses after every epoch.

    The MMoE paper's experiment (its figure of loss against task correlation), as a protocol:
    for each (p, seed) draw ``sum(sizes)`` rows with that seed and split them in order into
    train / validation / test; for each model call ``torch.manual_seed(seed)``, build it, and
    train it with :func:`course.training.train` (Adam, one epoch per call, the optimizer kept;
    epoch e shuffles with seed ``1000·seed + e``) on the mean squared error of both tasks,
    recording the validation and test losses after every epoch. :func:`best_within` then reads
    the result as early stopping with a budget: the epoch with the lowest validation loss among
    the first E, and its test loss.

    Parameters
    ----------
    models : mapping of str to callable
        Name -> a function that builds a fresh ``nn.Module`` mapping (B, d) inputs to (B, 2).
    correlations : sequence of float
        The p values.
    seeds : sequence of int
        Data and initialisation seeds.
    sizes : (int, int, int)
        Train, validation and test rows.
    d, m : int
        Input dimension and number of sines of :func:`mmoe_synthetic`.
    epochs, batch_size, learning_rate
        The training budget and Adam's settings.
    sines_seed : int or None, default 0
        Fixes the sines' α, β across seeds, as the paper's "given parameters"; None draws them
        per seed.

    Returns
    -------
    DataFrame
        One row per (model, p, seed, epoch), epoch 1-based: ``valid_loss``, ``test_loss`` (both
        tasks), ``test_loss_y1`` and ``test_loss_y2``. Task 1's data does not depend on p (same
        seed: same u1, x, ε), so ``test_loss_y1`` shows what task 2's presence does to it.
    """
    if not models:
        raise ValueError("models is empty: give at least one name -> builder")
    sizes = tuple(check_int(n, "sizes", minimum=1) for n in sizes)
    if len(sizes) != 3:
        raise ValueError(f"sizes must be (train, validation, test) rows, got {len(sizes)} numbers")
    check_int(epochs, "epochs", minimum=1)
    rows = []
    for p in correlations:
        for seed in seeds:
            data = mmoe_synthetic(sum(sizes), p, d=d, m=m, seed=seed, sines_seed=sines_seed)
            cuts = np.cumsum(sizes)[:-1]
            (x, y), valid, (x_test, y_test) = [
                (torch.from_numpy(a.astype(np.float32)), torch.from_numpy(b.astype(np.float32)))
                for a, b in zip(np.split(data.x, cuts), np.split(data.y, cuts))]
            for name, make in models.items():
                torch.manual_seed(seed)
                model = make()
                optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate)
                for epoch in range(epochs):
                    train(model, _mse, (x, y), epochs=1, batch_size=batch_size, optimizer=optimizer,
                          seed=1000 * seed + epoch)
                    with torch.no_grad():                       # train() left the model in eval mode
                        per_task = ((model(x_test) - y_test) ** 2).mean(0)          # (2,)
                        valid_loss = _mse(model, valid).item()
                    rows.append({"model": name, "p": float(p), "seed": int(seed), "epoch": epoch + 1,
                                 "valid_loss": valid_loss, "test_loss": per_task.mean().item(),
                                 "test_loss_y1": per_task[0].item(), "test_loss_y2": per_task[1].item()})
    return pd.DataFrame(rows)


def best_within(grid: pd.DataFrame, max_epoch: int) -> pd.DataFrame:
    """Early stopping with a budget: per run, the row of the lowest validation loss among epochs ≤ max_epoch.

    ``grid`` is :func:`task_correlation_grid`'s output (any extra columns, e.g. a learning
    rate, also identify a run). Returns one row per run; ties go to the earlier epoch.
    """
    check_int(max_epoch, "max_epoch", minimum=1)
    if grid.empty:
        raise ValueError("grid is empty")
    keys = [c for c in grid.columns if c not in
            ("epoch", "valid_loss", "test_loss", "test_loss_y1", "test_loss_y2")]
    within = grid[grid["epoch"] <= max_epoch].sort_values(keys + ["epoch"], kind="stable")
    best = within.loc[within.groupby(keys, sort=False)["valid_loss"].idxmin()]
    return best.reset_index(drop=True)


STORED_GRID = Path(__file__).resolve().parents[2] / "data" / "mmoe_synthetic_grid.csv"


def stored_task_correlation_grid() -> pd.DataFrame:
    """The paper-scale grid that ``tools/mmoe_synthetic_grid.py`` ran once and stored.

    One row per (learning_rate, model, p, seed, epoch), with the columns of
    :func:`task_correlation_grid`; the protocol is in that script's docstring. Notebook 03b
    reads it because the run takes minutes; ``tests/test_mmoe_grid.py`` re-runs one cell.
    """
    if not STORED_GRID.exists():
        raise FileNotFoundError(f"{STORED_GRID} is missing: run python tools/mmoe_synthetic_grid.py")
    return pd.read_csv(STORED_GRID)
