"""What flows through the funnel: the request context, the candidate table, per-user top-k.

:class:`RequestContext` (the day and the notes that may be served) and :class:`Candidates`
(every (user, note) pair of a batch of users as one flat table) are the data every recall
channel and stage of every chapter reads and writes; :func:`top_k_per_user` is the one
selection they all need (keep each user's k best rows without a Python loop over users).

They are separate from :mod:`course.pipeline.core`, which runs the stages, so a chapter that
only writes a channel or a scorer reads the data contract here without the machinery around it.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from course._checks import check_positive_int

__all__ = ["RequestContext", "Candidates", "top_k_per_user"]


@dataclass
class RequestContext:
    """What a request knows besides the user: the day and the notes that may be served.

    Attributes
    ----------
    day : int
    available_items : ndarray of int, shape (n_available,)
    """

    day: int
    available_items: np.ndarray


@dataclass
class Candidates:
    """Candidate (user, note) pairs of a batch of users, as flat arrays of equal length n.

    Attributes
    ----------
    user_ids, item_ids : ndarray of int64, shape (n,)
    channels : ndarray of int16, shape (n,)
        Index into ``channel_names`` of the recall channel that first brought the pair.
    channel_names : tuple of str
    scores : dict of str -> ndarray of shape (n,)
        Whatever the stages computed so far (``"prerank"``, ``"p_click"``, ``"score"``...).
    """

    user_ids: np.ndarray
    item_ids: np.ndarray
    channels: np.ndarray
    channel_names: tuple = ()
    scores: dict = field(default_factory=dict)

    def __post_init__(self):
        n = len(self.user_ids)
        for name, values in [("item_ids", self.item_ids), ("channels", self.channels),
                             *self.scores.items()]:
            if len(values) != n:
                raise ValueError(f"{name} has length {len(values)}, user_ids has {n}")

    def __len__(self) -> int:
        return len(self.user_ids)

    def take(self, index) -> "Candidates":
        """The rows selected by a boolean mask or an integer index array, in that order."""
        index = np.asarray(index)
        return Candidates(self.user_ids[index], self.item_ids[index], self.channels[index],
                          self.channel_names, {k: v[index] for k, v in self.scores.items()})

    def with_scores(self, **scores) -> "Candidates":
        """A copy with more score columns (arrays of shape (n,))."""
        return Candidates(self.user_ids, self.item_ids, self.channels, self.channel_names,
                          {**self.scores, **{k: np.asarray(v, dtype=float) for k, v in scores.items()}})

    def counts_per_user(self, user_ids) -> np.ndarray:
        """Number of candidates of each of ``user_ids``: int ndarray of shape (n_users,)."""
        user_ids = np.asarray(user_ids)
        unique, counts = np.unique(self.user_ids, return_counts=True)
        if len(unique) == 0:
            return np.zeros(len(user_ids), dtype=np.int64)
        position = np.minimum(np.searchsorted(unique, user_ids), len(unique) - 1)
        return np.where(unique[position] == user_ids, counts[position], 0)

    def to_frame(self) -> pd.DataFrame:
        """One row per candidate: user_id, item_id, channel (name), then the scores."""
        names = np.asarray(self.channel_names + ("",), dtype=object)
        return pd.DataFrame({"user_id": self.user_ids, "item_id": self.item_ids,
                             "channel": names[self.channels], **self.scores})


def top_k_per_user(user_ids, scores, k: int) -> np.ndarray:
    """Row indices of the ``k`` highest scores of each user, users ascending, best first.

    Ties keep the input order (a stable sort), so a channel's own order survives equal scores.

    Parameters
    ----------
    user_ids : ndarray of int, shape (n,)
    scores : ndarray of float, shape (n,)
    k : int, at least 1

    Returns
    -------
    ndarray of int64, shape (n_kept,)

    Examples
    --------
    >>> top_k_per_user(np.array([7, 7, 7, 3]), np.array([0.1, 0.9, 0.5, 0.2]), k=2).tolist()
    [3, 1, 2]
    """
    k = check_positive_int(k, "k")
    user_ids, scores = np.asarray(user_ids), np.asarray(scores, dtype=float)
    if user_ids.shape != scores.shape or user_ids.ndim != 1:
        raise ValueError(f"user_ids and scores must be 1-d of equal length, got "
                         f"{user_ids.shape} and {scores.shape}")
    if np.isnan(scores).any():
        raise ValueError("scores contain NaN: a scorer must score every candidate")
    n = len(user_ids)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    # group rows by user (cheap: stages emit rows already grouped, and timsort merges runs)
    by_user = np.argsort(user_ids, kind="stable")
    sorted_users = user_ids[by_user]
    starts = np.flatnonzero(np.r_[True, sorted_users[1:] != sorted_users[:-1]])
    lengths = np.diff(np.r_[starts, n])
    width = int(lengths.max())
    if width * len(starts) <= 4 * n + 1024:
        # one row per user, padded with +inf after negation: a row-wise stable sort is ~3x
        # faster than sorting all n scores at once, and padding sorts after every real score
        negated = np.full((len(starts), width), np.inf)
        negated[np.repeat(np.arange(len(starts)), lengths),
                np.arange(n) - np.repeat(starts, lengths)] = -scores[by_user]
        columns = np.argsort(negated, axis=1, kind="stable")[:, :k]          # (n_users, <=k)
        real = columns < lengths[:, None]
        return by_user[(starts[:, None] + columns)[real]]
    # very unequal lists: two stable sorts over all rows (score, then user)
    by_score = np.argsort(-scores, kind="stable")
    order = by_score[np.argsort(user_ids[by_score], kind="stable")]
    rank = np.arange(n) - np.repeat(starts, lengths)
    return order[rank < k]
