"""Input checks shared by MMR and DPP (private): one message for one mistake."""
from __future__ import annotations

import numpy as np

from course._checks import check_array, check_positive_int, check_probability


def check_rerank_inputs(rewards, similarity, k, theta, window):
    """``(rewards, similarity, k, theta, window)`` checked: float64 arrays, ``k`` clipped to n.

    rewards (n,) finite reals; similarity (n, n) finite reals; ``k`` and ``window`` (or None)
    positive ints; ``theta`` in [0, 1]. Wrong types are TypeErrors, bad values ValueErrors.
    """
    rewards = check_array(rewards, 1, "rewards", "iuf", allow_empty=False)
    similarity = check_array(similarity, 2, "similarity", "iuf")
    n = len(rewards)
    if similarity.shape[0] != similarity.shape[1]:
        raise ValueError(f"similarity must be a square (n, n) matrix, got shape {similarity.shape}")
    if similarity.shape != (n, n):
        raise ValueError(f"similarity must have shape (n, n) = {(n, n)} to match rewards of "
                         f"shape ({n},), got {similarity.shape}")
    rewards = rewards.astype(np.float64, copy=False)
    similarity = similarity.astype(np.float64, copy=False)
    if not np.isfinite(rewards).all():
        raise ValueError(f"rewards must be finite, got {int((~np.isfinite(rewards)).sum())} NaN or "
                         f"infinite value(s), e.g. at index {int(np.flatnonzero(~np.isfinite(rewards))[0])}")
    if not np.isfinite(similarity).all():
        raise ValueError("similarity must be finite, got NaN or infinite values")
    k = min(check_positive_int(k, "k"), n)  # k > n: every item, in the criterion's order
    theta = check_probability(theta, "theta")
    if window is not None:
        window = check_positive_int(window, "window")
    return rewards, similarity, k, theta, window
