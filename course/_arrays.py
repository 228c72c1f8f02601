"""Small array helpers shared across the package (private): one copy of each.

- :func:`rank_within_groups`: each row's position among the rows of its group (a numpy
  ``groupby().cumcount()``), used by channel quotas and by the serving policies;
- :func:`splitmix64`: the SplitMix64 finaliser, a cheap bijective 64-bit hash, used by the
  A/B bucketing and the Bloom filter.
"""
from __future__ import annotations

import numpy as np

__all__ = ["rank_within_groups", "splitmix64"]

_UINT64 = np.uint64


def rank_within_groups(groups) -> np.ndarray:
    """0 for the first row of each group, 1 for its second... in the input order.

    Parameters
    ----------
    groups : 1-D integer array of shape (n_rows,)

    Returns
    -------
    ndarray of shape (n_rows,), int64

    Examples
    --------
    >>> rank_within_groups(np.array([7, 3, 7, 7, 3])).tolist()
    [0, 0, 1, 2, 1]
    """
    groups = np.asarray(groups)
    order = np.argsort(groups, kind="stable")  # stable: a group's rows keep their input order
    sorted_groups = groups[order]
    rank = np.empty(len(groups), dtype=np.int64)
    rank[order] = np.arange(len(groups)) - np.searchsorted(sorted_groups, sorted_groups)
    return rank


def splitmix64(keys) -> np.ndarray:
    """SplitMix64 finaliser: a fast, well-mixing bijection on 64-bit integers (vectorised).

    ``z ^= z >> 30; z *= 0xBF58476D1CE4E5B9; z ^= z >> 27; z *= 0x94D049BB133111EB; z ^= z >> 31``
    applied to ``keys + 0x9E3779B97F4A7C15`` (Steele, Lea & Flood, OOPSLA 2014; the mixing
    constants are Stafford's "Mix13", as in S. Vigna's reference code). Every step is a
    bijection of uint64, so distinct keys never collide; multiplication wraps modulo 2^64,
    which is what the mixer wants.

    Examples
    --------
    >>> hex(int(splitmix64(np.array([0], dtype=np.uint64))[0]))
    '0xe220a8397b1dcdaf'
    """
    with np.errstate(over="ignore"):
        z = np.asarray(keys, dtype=_UINT64) + _UINT64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> _UINT64(30))) * _UINT64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> _UINT64(27))) * _UINT64(0x94D049BB133111EB)
        return z ^ (z >> _UINT64(31))
