"""Deep Retrieval's penalty on crowded paths (路径大小惩罚): the penalised item step.

Without a penalty, Deep Retrieval's item step (:func:`course.recall.ann.deep_retrieval.reassign_items`)
puts each item on the path its users like most, and many items pile onto the few paths most
users like; a path with hundreds of items retrieves them all or none. Gao et al. (2020, arXiv
2007.07203, section 3.3) maximise instead::

    Σ_v score(v, c_v) - α Σ_c f(|c|),      f(x) = x^4 / 4,   |c| = items on path c

greedily, item by item. This is plain array code with no model in it, so it sits apart from the
path model and beam search of :mod:`course.recall.ann.deep_retrieval`, which uses it.
"""
from __future__ import annotations

import numpy as np

from course._checks import check_real

__all__ = ["penalized_objective", "assign_with_path_penalty"]


def _check_assignment(scores, codes, penalty, power):
    scores, codes = np.asarray(scores, dtype=np.float64), np.asarray(codes)
    if scores.ndim != 2 or codes.shape != (len(scores),):
        raise ValueError(f"scores must be (n_items, n_paths) and codes (n_items,), got "
                         f"{scores.shape} and {codes.shape}")
    if not np.issubdtype(codes.dtype, np.integer) or (
            codes.size and (codes.min() < 0 or codes.max() >= scores.shape[1])):
        raise ValueError(f"codes must be integer paths in [0, {scores.shape[1]})")
    check_real(penalty, "penalty", low=0)
    check_real(power, "power", low=1)
    return scores, codes.astype(np.int64)


def penalized_objective(scores, codes, penalty: float, power: float = 4) -> float:
    """``Σ_v scores[v, codes[v]] - α Σ_c |c|^p / p``: what the penalised item step maximises.

    Parameters
    ----------
    scores : ndarray of shape (n_items, n_paths)
        ``score(v, c)``, e.g. the summed log-likelihood of v's clicks on path c.
    codes : ndarray of int of shape (n_items,)
        The path of each item (its code, see :func:`all_paths`).
    penalty : float
        α >= 0.
    power : float
        p in ``f(x) = x^p / p`` (the paper uses 4).

    Examples
    --------
    >>> penalized_objective(np.zeros((3, 2)), np.array([0, 0, 1]), penalty=1.0)  # -(2^4 + 1^4) / 4
    -4.25
    """
    scores, codes = _check_assignment(scores, codes, penalty, power)
    sizes = np.bincount(codes, minlength=scores.shape[1])
    return float(scores[np.arange(len(codes)), codes].sum()
                 - penalty * (sizes.astype(float) ** power).sum() / power)


def assign_with_path_penalty(scores, codes, penalty: float, power: float = 4, items=None) -> np.ndarray:
    """The paper's greedy penalised item step (Gao et al. 2020, the penalised M-step).

    For each item v in ``items`` (in that order), with ``|c|`` the current path sizes::

        |c_v| -= 1                                          # v leaves its path
        c_v = argmax_c  scores[v, c] - α [f(|c| + 1) - f(|c|)],   f(x) = x^p / p
        |c_v| += 1

    One pass over the items (a coordinate ascent): each move can only raise
    :func:`penalized_objective`. The loop is over items (it is sequential by nature: each
    move changes the sizes the next item sees); each iteration is vectorised over the paths,
    and only the two sizes that change are updated.

    Parameters
    ----------
    scores : ndarray of shape (n_items, n_paths)
    codes : ndarray of int of shape (n_items,)
        Current paths; every item counts in the sizes, moved or not.
    penalty : float
        α >= 0; ``0`` gives each item its best path.
    power : float
        p of f (the paper: 4, so a path's marginal cost grows like ``|c|^3``).
    items : array-like of int, optional
        Items to move, in this order (default: all, by id).

    Returns
    -------
    ndarray of int64 of shape (n_items,)

    Examples
    --------
    >>> scores = np.array([[2.0, 0.0], [2.0, 0.0], [2.0, 1.5]])  # every item prefers path 0
    >>> assign_with_path_penalty(scores, np.array([0, 0, 0]), penalty=0.0).tolist()
    [0, 0, 0]
    >>> assign_with_path_penalty(scores, np.array([0, 0, 0]), penalty=0.1).tolist()  # crowded: move one
    [0, 0, 1]
    """
    scores, codes = _check_assignment(scores, codes, penalty, power)
    codes = codes.copy()
    items = np.arange(len(codes)) if items is None else np.asarray(items, dtype=np.int64)
    if items.size and (items.min() < 0 or items.max() >= len(codes)):
        raise ValueError(f"items must lie in [0, {len(codes)})")
    sizes = np.bincount(codes, minlength=scores.shape[1]).astype(np.float64)

    def joining_cost(size):  # α [f(|c| + 1) - f(|c|)]
        return penalty * ((size + 1) ** power - size ** power) / power

    cost = joining_cost(sizes)  # (P,)
    for item in items:  # a loop over items, each step vectorised over paths
        old = codes[item]
        sizes[old] -= 1
        cost[old] = joining_cost(sizes[old])
        new = int(np.argmax(scores[item] - cost))
        codes[item] = new
        sizes[new] += 1
        cost[new] = joining_cost(sizes[new])
    return codes
