"""The popularity baseline (热门推荐): every user gets the items most users interacted with.

It is the plain baseline every recall table keeps (see CONTRIBUTING.md): it needs no model,
its lists are good for a new user with no history, and it is hard to beat on the most popular
items. It cannot personalise: two users get the same list, minus what each is told to exclude.

It speaks the vocabulary of the CF recommenders (``fit(R)`` returns self, ``recommend(user_ids,
k, exclude=None)`` returns ``(items, scores)``), so :func:`course.evaluation.fit_and_recommend`
and the recall yardstick run it like ItemCF.
"""
from __future__ import annotations

import numpy as np

from course._checks import check_exclude, check_is_fitted, check_positive_int, check_user_indices
from course.recall.cf.index import check_interactions

__all__ = ["MostPopular"]


class MostPopular:
    """Recommend the items with the most interacting users, best first; ties to the smaller id.

    Parameters
    ----------
    None: popularity has no settings. An item's score is the number of users with a non-zero
    entry for it in the fitted matrix (users, not the sum of weights: one fan who rates a film
    five times is still one user).

    Attributes
    ----------
    popularity_ : ndarray of shape (n_items,), int64
        Users per item in the fitted matrix.
    n_users_ : int
        Rows of the fitted matrix (the valid user indices).

    Examples
    --------
    >>> R = np.array([[1, 0, 0], [1, 1, 0], [0, 0, 0]])
    >>> items, scores = MostPopular().fit(R).recommend([0, 1, 2], k=2, exclude=R)
    >>> items.tolist(), scores.tolist()
    ([[1, -1], [-1, -1], [0, 1]], [[1.0, -inf], [-inf, -inf], [2.0, 1.0]])
    """

    def fit(self, R) -> "MostPopular":
        """Count each item's users in ``R`` (sparse or array-like of shape (n_users, n_items))."""
        matrix = check_interactions(R)
        self.popularity_ = np.diff(matrix.tocsc().indptr).astype(np.int64)  # (n_items,)
        self.n_users_ = matrix.shape[0]
        return self

    def recommend(self, user_indices, k: int, exclude=None) -> tuple[np.ndarray, np.ndarray]:
        """Top-k items per user by popularity, without the excluded ones.

        Parameters
        ----------
        user_indices : array-like of int, shape (B,)
        k : int
        exclude : sparse matrix or bool ndarray of shape (B, n_items), optional
            Items never returned; ``R[user_indices]`` drops what each user has seen.

        Returns
        -------
        items : ndarray of shape (B, k), int64, padded with -1 (only items with a user count)
        scores : ndarray of shape (B, k), float64 (the user counts), padded with -inf
        """
        check_is_fitted(self, "popularity_")
        users = check_user_indices(user_indices, self.n_users_)
        k = check_positive_int(k, "k")
        exclude = check_exclude(exclude, (users.size, self.popularity_.size))
        order = np.argsort(-self.popularity_, kind="stable")  # most popular first, ties to smaller id
        order = order[self.popularity_[order] > 0]
        # A row's k best allowed items are among the k + (its excluded count) most popular ones,
        # so only that many columns of `exclude` are ever read: the cost does not grow with the
        # catalogue.
        most_excluded = int(np.diff(exclude.indptr).max(initial=0)) if exclude is not None else 0
        candidates = order[:k + most_excluded]  # (width,)
        if exclude is not None:
            blocked = exclude[:, candidates].toarray()  # (B, width)
        else:
            blocked = np.zeros((users.size, candidates.size), dtype=bool)
        first_allowed = np.argsort(blocked, axis=1, kind="stable")[:, :k]  # allowed first, order kept
        is_blocked = np.take_along_axis(blocked, first_allowed, axis=1)
        items = np.full((users.size, k), -1, dtype=np.int64)
        scores = np.full((users.size, k), -np.inf)
        width = first_allowed.shape[1]
        items[:, :width] = np.where(is_blocked, -1, candidates[first_allowed])
        scores[:, :width] = np.where(is_blocked, -np.inf, self.popularity_[candidates[first_allowed]])
        return items, scores
