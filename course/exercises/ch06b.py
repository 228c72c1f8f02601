"""Exercises of notebook 06b (reranking with a DPP).

The reference computes each conditional variance from two determinants, the model answer from
one linear solve (or the Cholesky rows), so the test compares two routes.
"""
from __future__ import annotations

import numpy as np

from course.exercises.registry import register


def _kernel_case(rng: np.random.Generator) -> dict:
    n = int(rng.integers(2, 10))
    X = rng.normal(size=(n, n + 2))
    S = X @ X.T / (n + 2)                         # full rank: every det S_Y > 0
    picked = [int(i) for i in rng.permutation(n)[:int(rng.integers(0, n))]]
    return dict(S=S, picked=picked)


@register("06b.1", "function", make_case=_kernel_case,
          hint="d_i² = S_ii − S_iY S_Y⁻¹ S_Yi: np.linalg.solve(S[np.ix_(Y, Y)], S[Y]) "
               "gives S_Y⁻¹ S_Y· for every i")
def unexplained_variance(S, picked):
    """d_i² = det S_{Y∪{i}} / det S_Y for every item i (0 for the picked ones), shape (n,)."""
    n = len(S)
    base = np.linalg.det(S[np.ix_(picked, picked)]) if picked else 1.0
    out = np.zeros(n)
    for i in range(n):
        if i not in picked:
            T = list(picked) + [i]
            out[i] = np.linalg.det(S[np.ix_(T, T)]) / base
    return out
