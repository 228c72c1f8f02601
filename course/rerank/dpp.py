"""Determinantal point process (DPP, 行列式点过程) reranking: fast greedy MAP (notebook 06b).

The kernel of Chen, Zhang & Zhou, "Fast greedy MAP inference for determinantal point process
to improve recommendation diversity" (NeurIPS 2018, arXiv 1709.05135)::

    L = Diag(r) · S · Diag(r),    r_i = exp(α · reward_i),    α = θ / (2(1 − θ))

so that ``log det L_Y = 2α Σ_{i∈Y} reward_i + log det S_Y`` (relevance plus the volume the
items span). Greedy MAP adds ``argmax_i log det L_{Y∪{i}}``; times (1 − θ), that is the
lecture's ``argmax_i θ · reward_i + (1 − θ) · log det S_{Y∪{i}}``, or, without the constant
``log det S_Y``,

    argmax_{i ∉ Y}  θ · reward_i + (1 − θ) · log d_i²,     d_i² = det S_{Y∪{i}} / det S_Y

with d_i² the variance of item i left unexplained by Y. Chen et al. keep d_i² for every item
with an incremental Cholesky factorisation: when j joins Y, each item's row of the factor grows
by ``e_i = (S_ji − ⟨c_j, c_i⟩) / d_j`` and ``d_i² -= e_i²``: O(n·|Y|) a step, O(k²·n) in all,
against O(n·k⁴) for a determinant per candidate per step (:func:`naive_dpp`).

What this code does differently, and why:

- It factorises S, not L, and adds ``θ · reward`` itself. The picks are the same (the two
  criteria differ by the factor 1 − θ and a constant), but ``r = exp(α · reward)`` overflows as
  θ → 1 (θ = 0.99 gives α = 49.5) while S stays of order 1, and ε below is on S's scale.
- θ = 1 (α = ∞, no finite kernel) is taken as its limit: the item with the best reward among
  those the kernel can still take; with a full-rank S that is plain top-k by reward.
- Early stop: an item with ``d_i² < ε`` lies in the span of Y (det L_{Y∪{i}} ≈ 0): it is never
  picked, and when no candidate has ``d_i² ≥ ε`` the list ends, short of k. A kernel of rank
  r yields at most r items (without a window). The paper's code checks only the argmax.
- Sliding window (the paper's section 4): with ``window=w`` a candidate is scored with only the
  last w − 1 items picked, ``det L_{W∪{i}}``. Adding an item is the same update; dropping the
  oldest is a rank-one Cholesky update of the rest of the factor by Givens rotations, applied
  to every item's row too: O(n·w) a step.
"""
from __future__ import annotations

import numpy as np

from course.rerank._inputs import check_rerank_inputs
from course.rerank.rules import allowed_by, check_rules

__all__ = ["dpp", "naive_dpp", "dpp_kernel"]

TOLERANCE = 1e-10  # symmetry and PSD checks, relative to the largest entry / eigenvalue


def dpp_kernel(rewards, similarity, theta: float) -> np.ndarray:
    """``L = Diag(r) S Diag(r)``, ``r = exp(θ / (2(1 − θ)) · reward)``: the (n, n) DPP kernel.

    θ = 1 has no finite kernel (ValueError); :func:`dpp` takes it as its limit.

    Examples
    --------
    >>> dpp_kernel([0.0, 1.0], [[1.0, 0.5], [0.5, 1.0]], theta=0.5)  # α = 0.5, r = (1, e^0.5)
    array([[1.        , 0.82436064],
           [0.82436064, 2.71828183]])
    """
    rewards, similarity, _, theta, _ = check_rerank_inputs(rewards, similarity, 1, theta, None)
    if theta == 1.0:
        raise ValueError("theta = 1 has no finite DPP kernel (α = ∞); dpp() takes it as top-k by reward")
    r = np.exp(theta / (2.0 * (1.0 - theta)) * rewards)
    return r[:, None] * similarity * r[None, :]  # (n, n)


def _check_kernel(similarity: np.ndarray) -> None:
    """ValueError unless S is symmetric and positive semi-definite (O(n³): an eigendecomposition)."""
    scale = max(1.0, float(np.abs(similarity).max()))
    asymmetry = float(np.abs(similarity - similarity.T).max())
    if asymmetry > TOLERANCE * scale:
        raise ValueError(f"similarity must be symmetric for a DPP, got max |S - Sᵀ| = {asymmetry:.3g}")
    smallest = float(np.linalg.eigvalsh(similarity)[0])
    if smallest < -TOLERANCE * scale * len(similarity):
        raise ValueError(f"similarity must be positive semi-definite for a DPP, got an eigenvalue "
                         f"{smallest:.3g}")


def _prepare(rewards, similarity, k, theta, window, rules, eps, check_kernel):
    rewards, similarity, k, theta, window = check_rerank_inputs(rewards, similarity, k, theta, window)
    if check_kernel:
        _check_kernel(similarity)
    rules = check_rules(rules, len(rewards))
    eps = float(eps)
    if not eps > 0:
        raise ValueError(f"eps must be a positive number, got {eps!r}")
    return rewards, similarity, k, theta, window, rules, eps


def dpp(rewards, similarity, k: int, theta: float, window: int | None = None, *, rules=(),
        eps: float = 1e-10, check_kernel: bool = True) -> np.ndarray:
    """Greedy MAP of a DPP by incremental Cholesky (Chen, Zhang & Zhou, NeurIPS 2018).

    Parameters
    ----------
    rewards : array of shape (n,)
        Relevance of each item.
    similarity : array of shape (n, n)
        Symmetric positive semi-definite S (e.g. ``V Vᵀ`` of unit item vectors).
    k : int
        Length of the list (shorter if the kernel or the rules allow no more items).
    theta : float
        θ in [0, 1]: relevance against diversity, α = θ / (2(1 − θ)).
    window : int or None
        Score each candidate with the last ``window − 1`` items picked; None: with all of them.
    rules : sequence of :class:`~course.rerank.rules.Rule`
        Candidates that would break a rule are removed before each pick.
    eps : float
        Items with ``d_i² < eps`` (on the scale of S) are in the span of the window: not taken.
    check_kernel : bool
        Check that S is symmetric and PSD first: an O(n³) eigendecomposition, which costs far
        more than the greedy itself; a negative ``d_i²`` met on the way is an error regardless.

    Returns
    -------
    ndarray of int64 of shape (≤ k,)
        The items in the order picked; ties go to the smaller index.

    Examples
    --------
    Item 1 repeats item 0; θ = 0.5 prefers the different item 2 despite its lower reward:

    >>> rewards = np.array([1.0, 0.9, 0.8])
    >>> S = np.array([[1.0, 0.95, 0.1], [0.95, 1.0, 0.1], [0.1, 0.1, 1.0]])
    >>> dpp(rewards, S, k=3, theta=0.5)
    array([0, 2, 1])
    >>> dpp(rewards, np.ones((3, 3)), k=3, theta=0.5)   # rank 1: one item, then it stops
    array([0])
    """
    rewards, S, k, theta, window, rules, eps = _prepare(rewards, similarity, k, theta, window,
                                                        rules, eps, check_kernel)
    n = len(rewards)
    rows = k if window is None else window       # the factor holds at most this many items
    C = np.zeros((rows, n))                      # (rows, n) row m: every item's m-th Cholesky entry
    V = np.zeros((rows, rows))                   # Cholesky factor of S over the window (window only)
    d2 = np.diag(S).copy()                       # (n,) unexplained variance given the window
    picked, taken, m = [], np.zeros(n, dtype=bool), 0
    floor = -TOLERANCE * max(1.0, float(np.abs(d2).max())) * n
    relevance = theta * rewards
    for _ in range(k):  # greedy: each pick changes every later d_i², so the steps are sequential
        candidates = (d2 >= eps) & ~taken
        if rules:
            candidates &= allowed_by(rules, picked, n)
        if not candidates.any():
            break
        scores = relevance if theta == 1.0 else relevance + (1.0 - theta) * np.log(np.maximum(d2, eps))
        j = int(np.argmax(np.where(candidates, scores, -np.inf)))
        picked.append(j)
        taken[j] = True
        dj = np.sqrt(d2[j])
        e = (S[j] - C[:m, j] @ C[:m]) / dj       # (n,) the new row of the factor
        if window is not None:
            V[m, :m], V[m, m] = C[:m, j], dj
        C[m] = e
        d2 -= e * e
        m += 1
        if d2.min() < floor:  # picked items sit at d² ≈ 0 (± rounding), far above the floor
            raise ValueError("similarity must be positive semi-definite for a DPP: a conditional "
                             "variance came out negative")
        if window is not None and m > window - 1:
            _drop_oldest(V, C, d2, m)
            m -= 1
    return np.asarray(picked, dtype=np.int64)


def _drop_oldest(V: np.ndarray, C: np.ndarray, d2: np.ndarray, m: int) -> None:
    """Remove the first of the m window items from the factor V, the rows C and d², in place.

    With ``V = [[a, 0], [b, V₂]]``, the factor of the other items is V' with ``V'V'ᵀ = V₂V₂ᵀ +
    bbᵀ``: Givens rotations G_k zero b against the columns of V₂ one by one. Each item's row
    ``c = [c₁; c₂]`` becomes ``c' = (Gᵀ [c₂; c₁])[:m-1]``; the rotated-out last entry x is the
    part of c that item 0 explained, so ``d² += x²``. O(m²) for V and O(m·n) for the items.
    """
    L, b = V[1:m, 1:m].copy(), V[1:m, 0].copy()  # (m-1, m-1), (m-1,)
    for i in range(m - 1):  # a loop over the window (w ≤ tens), each step vectorised over items
        radius = np.hypot(L[i, i], b[i])
        c, s = L[i, i] / radius, b[i] / radius
        L[i, i] = radius
        column = L[i + 1:, i].copy()
        L[i + 1:, i] = c * column + s * b[i + 1:]
        b[i + 1:] = c * b[i + 1:] - s * column
        # every item's pair (c₂[i], x), x starting as c₁ and kept in C's row 0: (2, n)
        C[[i + 1, 0]] = np.array([[c, s], [-s, c]]) @ C[[i + 1, 0]]
    d2 += C[0] * C[0]
    V[:m - 1, :m - 1], V[m - 1], V[:, m - 1] = L, 0.0, 0.0
    C[:m - 1], C[m - 1] = C[1:m].copy(), 0.0


def naive_dpp(rewards, similarity, k: int, theta: float, window: int | None = None, *, rules=(),
              eps: float = 1e-10, check_kernel: bool = True) -> np.ndarray:
    """The reference greedy: a log-determinant (``slogdet``) per candidate per step.

    Same arguments and result as :func:`dpp`. Each step, for every candidate i allowed by the
    rules: ``log det L_{W∪{i}}`` (W the window, all items picked by default); i is feasible if
    ``det S_{W∪{i}} / det S_W ≥ eps``, read off the same determinant as
    ``exp(log det L_{W∪{i}} − log det L_W − 2α·reward_i)``. The best feasible i is added. θ = 1
    uses S as the kernel (α = 0) for feasibility and the reward as the score.

    Examples
    --------
    >>> S = np.array([[1.0, 0.95, 0.1], [0.95, 1.0, 0.1], [0.1, 0.1, 1.0]])
    >>> naive_dpp([1.0, 0.9, 0.8], S, k=3, theta=0.5)
    array([0, 2, 1])
    """
    rewards, S, k, theta, window, rules, eps = _prepare(rewards, similarity, k, theta, window,
                                                        rules, eps, check_kernel)
    n = len(rewards)
    kernel, alpha = (S, 0.0) if theta == 1.0 else (dpp_kernel(rewards, S, theta), theta / (2 * (1 - theta)))
    picked = []
    for _ in range(k):
        W = picked if window is None else picked[max(0, len(picked) - window + 1):]
        base = np.linalg.slogdet(kernel[np.ix_(W, W)])[1] if W else 0.0
        allowed = allowed_by(rules, picked, n)
        best, best_score = -1, -np.inf
        for i in range(n):
            if i in picked or not allowed[i]:
                continue
            T = W + [i]
            sign, logdet = np.linalg.slogdet(kernel[np.ix_(T, T)])
            if sign <= 0 or np.exp(logdet - base - 2 * alpha * rewards[i]) < eps:
                continue
            score = rewards[i] if theta == 1.0 else logdet
            if score > best_score:
                best, best_score = i, score
        if best < 0:
            break
        picked.append(best)
    return np.asarray(picked, dtype=np.int64)
