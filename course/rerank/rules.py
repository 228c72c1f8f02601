"""Business rules (规则) as candidate filters for MMR and DPP (notebooks 06a, 06b).

The lecture's three rules on a note's type (image / video note, ad, e-commerce card, ...)::

    MaxConsecutive(types, max_run)       at most max_run consecutive notes of one type
    OnePerWindow(types, window)          at most 1 note of a type in any window consecutive notes
    MaxInFirst(types, max_count, first)  at most max_count notes of a type among the first `first`

``target=`` restricts a rule to one type (``OnePerWindow(is_ad, 5, target=1)``: at most one ad
in any 5 notes, organic notes unconstrained); without it every type is constrained alike.

How they combine with MMR and DPP (``mmr(..., rules=...)``, ``dpp(..., rules=...)``): at each
step, the candidates that would break a rule if placed next are removed, then the criterion
picks the best of the rest. All three rules are *prefix-closed* (a list that breaks one never
stops breaking it), so checking only the next position keeps the whole list valid. When no
candidate is left the list stops short: the rules, not the criterion, decide its length, and a
caller who would rather relax a rule than show fewer notes sees it happen.

Each rule answers one question, vectorised over the candidates: ``rule.allowed(picked)`` is the
boolean mask of the items that may come after the items ``picked`` (in order), by type alone:
dropping the items already picked is the caller's job (:func:`~course.rerank.mmr.mmr` does it).
"""
from __future__ import annotations

import numpy as np

from course._checks import check_array, check_int, check_positive_int

__all__ = ["Rule", "MaxConsecutive", "OnePerWindow", "MaxInFirst", "allowed_by"]


class Rule:
    """A constraint on the types along a list; subclasses define :meth:`allowed`.

    Parameters
    ----------
    types : array of int of shape (n,)
        The type of every candidate (category, format, is-ad flag ...).
    target : int or None
        Constrain only this type; None constrains every type.
    """

    def __init__(self, types, target=None):
        self.types = check_array(types, 1, "types", "iu")
        self.target = None if target is None else check_int(target, "target")

    def allowed(self, picked) -> np.ndarray:
        """Mask (n,) of the items that may follow ``picked`` (array of item indices, in order)."""
        raise NotImplementedError

    def _ban(self, banned_types) -> np.ndarray:
        """Mask (n,) that is False on the items whose type is in ``banned_types`` (and targeted)."""
        banned_types = np.asarray(banned_types)
        if self.target is not None:
            banned_types = banned_types[banned_types == self.target]
        return ~np.isin(self.types, banned_types)


class MaxConsecutive(Rule):
    """At most ``max_run`` consecutive notes of one type (最多连续出现 k 篇某种笔记).

    Examples
    --------
    >>> MaxConsecutive([0, 0, 1, 0], max_run=2).allowed([0, 1])  # two 0s in a row: no third
    array([False, False,  True, False])
    """

    def __init__(self, types, max_run: int, target=None):
        super().__init__(types, target)
        self.max_run = check_positive_int(max_run, "max_run")

    def allowed(self, picked) -> np.ndarray:
        last = self.types[np.asarray(picked, dtype=np.int64)[-self.max_run:]]
        if len(last) < self.max_run or (last != last[0]).any():
            return np.ones(len(self.types), dtype=bool)
        return self._ban(last[:1])  # the run has max_run of last[0]: one more would exceed it


class OnePerWindow(Rule):
    """At most 1 note of a type in any ``window`` consecutive notes (每 k 篇笔记最多出现 1 篇).

    Equivalently, two notes of one type are at least ``window`` positions apart.

    Examples
    --------
    >>> OnePerWindow([1, 0, 0, 1, 0], window=3, target=1).allowed([0, 1])  # the ad 0 is 1 back
    array([False,  True,  True, False,  True])
    >>> OnePerWindow([1, 0, 0, 1, 0], window=3, target=1).allowed([0, 1, 2])  # now 2 back: free
    array([ True,  True,  True,  True,  True])
    """

    def __init__(self, types, window: int, target=None):
        super().__init__(types, target)
        self.window = check_positive_int(window, "window")

    def allowed(self, picked) -> np.ndarray:
        picked = np.asarray(picked, dtype=np.int64)
        recent = picked[max(0, len(picked) - self.window + 1):]  # the last window - 1
        return self._ban(self.types[recent])


class MaxInFirst(Rule):
    """At most ``max_count`` notes of a type among the first ``first`` (前 t 篇最多出现 k 篇).

    Examples
    --------
    >>> MaxInFirst([2, 2, 2, 5], max_count=2, first=3).allowed([0, 1])
    array([False, False, False,  True])
    >>> MaxInFirst([2, 2, 2, 5], max_count=2, first=2).allowed([0, 1])  # past the first 2: free
    array([ True,  True,  True,  True])
    """

    def __init__(self, types, max_count: int, first: int, target=None):
        super().__init__(types, target)
        self.max_count = check_positive_int(max_count, "max_count")
        self.first = check_positive_int(first, "first")

    def allowed(self, picked) -> np.ndarray:
        picked = np.asarray(picked, dtype=np.int64)
        if len(picked) >= self.first:
            return np.ones(len(self.types), dtype=bool)
        values, counts = np.unique(self.types[picked], return_counts=True)
        return self._ban(values[counts >= self.max_count])


def allowed_by(rules, picked, n: int) -> np.ndarray:
    """Mask (n,) of the items every rule lets follow ``picked`` (all True without rules).

    Examples
    --------
    >>> types = np.array([0, 0, 1, 1])
    >>> allowed_by([MaxConsecutive(types, 1), MaxInFirst(types, 1, first=4)], [2], 4)
    array([ True,  True, False, False])
    """
    mask = np.ones(n, dtype=bool)
    for rule in check_rules(rules, n):
        mask &= rule.allowed(picked)
    return mask


def check_rules(rules, n: int) -> tuple:
    """``rules`` as a tuple of :class:`Rule` whose ``types`` have length n (private helper)."""
    if isinstance(rules, Rule):
        rules = (rules,)
    try:
        rules = tuple(rules)
    except TypeError:
        raise TypeError(f"rules must be a sequence of Rule objects, got {type(rules).__name__}") from None
    for rule in rules:
        if not isinstance(rule, Rule):
            raise TypeError(f"rules must be a sequence of Rule objects, got a {type(rule).__name__}")
        if rule.types.shape != (n,):
            raise ValueError(f"{type(rule).__name__}.types must have shape ({n},) like rewards, "
                             f"got {rule.types.shape}")
    return rules
