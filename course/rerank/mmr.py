"""Maximal marginal relevance (MMR, 最大边际相关) with an optional sliding window (notebook 06a).

Carbonell & Goldstein, "The use of MMR, diversity-based reranking for reordering documents and
producing summaries", SIGIR 1998. As the lecture writes it: from n candidates with rewards
(the ranking model's scores) and pairwise similarities, pick k items greedily, each step

    argmax_{i ∉ S}  θ · reward_i − (1 − θ) · max_{j ∈ S} sim(i, j)

where S is the list so far (its max is 0 while S is empty). θ = 1 is plain top-k by reward;
smaller θ trades reward for diversity. With a sliding window (滑动窗口) S is only the last
``window`` items picked: far back in a long list a similar item is no longer a repeat.
"""
from __future__ import annotations

import numpy as np

from course.rerank._inputs import check_rerank_inputs
from course.rerank.rules import allowed_by, check_rules

__all__ = ["mmr"]


def _mmr_scores(rewards, max_similarity, theta: float, empty: bool) -> np.ndarray:
    """The criterion ``θ · reward − (1 − θ) · max_{j∈S} sim`` of every item (n,).

    The plain twins in the tests and the benchmark write the same float operations, so they
    give bit-identical scores and pick the same items, ties included. ``empty``: S is empty
    and the penalty is 0.
    """
    if empty or theta == 1.0:  # 0 · max would be NaN for the -inf "no item yet" maximum
        return theta * rewards
    return theta * rewards - (1.0 - theta) * max_similarity


class _WindowMax:
    """Running max over the last ``w`` rows added, for every column: O(n) per step, amortised.

    van Herk (1992) / Gil & Werman (1993): cut the stream of added rows into blocks of w.
    Any w consecutive rows are a suffix of one block and a prefix of the next. Keep the
    running max of the current block's prefix (O(n) per row) and, once a block is complete,
    its suffix maxima (O(n·w) once per w rows). The window max is then one ``maximum`` of the
    two. The obvious ``similarity[:, last_w].max(axis=1)`` is O(n·w) every step.
    """

    def __init__(self, w: int, n: int):
        self.w, self.count = w, 0
        self.block = np.empty((w, n))            # (w, n) rows of the current block
        self.suffix = np.full((w, n), -np.inf)   # (w, n) suffix maxima of the previous block
        self.prefix = np.full(n, -np.inf)        # (n,) max of the current block so far

    def add(self, row: np.ndarray) -> None:
        position = self.count % self.w
        if position == 0 and self.count:         # the block is complete: keep its suffix maxima
            self.suffix = np.maximum.accumulate(self.block[::-1], axis=0)[::-1]
            self.prefix = np.full_like(self.prefix, -np.inf)
        self.block[position] = row
        self.prefix = np.maximum(self.prefix, row)
        self.count += 1

    def max(self) -> np.ndarray:
        """(n,) max over the last w rows (all rows if fewer than w were added)."""
        start = (self.count % self.w)  # the window's first row in the previous block
        if start == 0 or self.count <= self.w:   # the window is exactly the current block so far
            return self.prefix
        return np.maximum(self.suffix[start], self.prefix)


def mmr(rewards, similarity, k: int, theta: float, window: int | None = None, *, rules=()) -> np.ndarray:
    """Select ``k`` of n items by maximal marginal relevance (Carbonell & Goldstein 1998).

    Each step picks ``argmax θ·reward_i − (1 − θ)·max_{j∈S} sim(i, j)`` over the items not yet
    picked (and allowed by ``rules``), S the items picked so far or their last ``window``.

    Cost: a running maximum ``m_i = max_{j∈S} sim(i, j)`` is updated with the new item's column,
    so a step is O(n) and the whole list O(n·k), not O(n·k²). With a window the maximum must
    also *forget* the item that leaves; :class:`_WindowMax` (van Herk / Gil-Werman) keeps that
    O(n) per step amortised with O(n·w) memory.

    Parameters
    ----------
    rewards : array of shape (n,)
        Relevance of each item (the ranking model's score).
    similarity : array of shape (n, n)
        ``similarity[i, j] = sim(i, j)``; need not be symmetric (column j is the penalty item j
        puts on every candidate i).
    k : int
        Length of the list; ``k > n`` returns all n items, ordered by the criterion.
    theta : float
        θ in [0, 1]: 1 is top-k by reward, 0 only diversity.
    window : int or None
        Penalise only by the last ``window`` items picked; None: by all of them.
    rules : sequence of :class:`~course.rerank.rules.Rule`
        Business rules; candidates that would break one are removed before each pick
        (:mod:`course.rerank.rules`). The list stops short when none is left.

    Returns
    -------
    ndarray of int64 of shape (k,) (shorter only when rules leave no candidate)
        The items in the order picked. Ties go to the smaller index.

    Examples
    --------
    Items 0 and 1 are near-duplicates; with θ = 0.5 MMR takes 0, then the less relevant but
    different 2 (0.5·0.8 − 0.5·0.1 = 0.35 beats 0.5·0.9 − 0.5·0.95 = −0.025):

    >>> rewards = np.array([1.0, 0.9, 0.8])
    >>> sim = np.array([[1.0, 0.95, 0.1], [0.95, 1.0, 0.1], [0.1, 0.1, 1.0]])
    >>> mmr(rewards, sim, k=3, theta=0.5)
    array([0, 2, 1])
    >>> mmr(rewards, sim, k=3, theta=1.0)   # θ = 1: top-k by reward
    array([0, 1, 2])

    With a rule, 0 and 1 being videos (type 1): no two videos in a row.

    >>> from course.rerank import MaxConsecutive
    >>> mmr(rewards, sim, k=3, theta=1.0, rules=[MaxConsecutive([1, 1, 0], max_run=1)])
    array([0, 2, 1])
    """
    rewards, similarity, k, theta, window = check_rerank_inputs(rewards, similarity, k, theta, window)
    n = len(rewards)
    rules = check_rules(rules, n)
    running = np.full(n, -np.inf) if window is None else _WindowMax(window, n)
    picked, taken = [], np.zeros(n, dtype=bool)
    for _ in range(k):  # greedy: each pick changes every later score, so the steps are sequential
        candidates = ~taken & allowed_by(rules, picked, n) if rules else ~taken
        if not candidates.any():
            break
        max_similarity = running if window is None else running.max()
        scores = _mmr_scores(rewards, max_similarity, theta, empty=not picked)
        best = int(np.argmax(np.where(candidates, scores, -np.inf)))  # argmax: first of ties
        picked.append(best)
        taken[best] = True
        if window is None:
            running = np.maximum(running, similarity[:, best])
        else:
            running.add(similarity[:, best])
    return np.asarray(picked, dtype=np.int64)
