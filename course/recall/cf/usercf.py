"""UserCF (基于用户的协同过滤, user-based collaborative filtering), Part 2 section 1.3 of the note.

Users who interacted with the same items have similar taste; recall what similar users
consumed recently. Popular items (热门物品) say little about taste, since everyone touches
them, while two users sharing a niche item are likely alike; so each shared item l is
down-weighted by its popularity n_l (the number of users who interacted with it):

    sim(u1, u2) = Σ_{l ∈ J1 ∩ J2} 1 / log(1 + n_l)  /  sqrt(|J1| · |J2|)

with J the set of items of a user (natural log, interactions binarised). Recall for user u
sums over the k most similar users v (``n_neighbours``):

    score(u, i) = Σ_{v ∈ top-k(u)} sim(u, v) · r_vi

where r_vi is the fitted weight, or, to recall "similar users' recent items", any matrix of the
same shape passed as ``recent_weights`` (e.g. weights times a time decay, or only the last n).

Vectorised: with B the binary matrix and D = diag(1 / log(1 + n_l)),
S = B D Bᵀ ⊘ sqrt(|J| |J|ᵀ), zero diagonal.

References: Breese, Heckerman & Kadie, "Empirical analysis of predictive algorithms for
collaborative filtering", UAI 1998 (the inverse user frequency weight); Xiang Liang,
《推荐系统实践》 (2012), section 2.4 (User-IIF).
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from course._checks import check_is_fitted, check_positive_int, check_user_indices
from course.recall.cf.index import check_interactions
from course.recall.cf.top_n import RecommendFromScores, keep_top_k_per_row


def user_similarity(interactions) -> sp.csr_matrix:
    """User-user similarity with popular items down-weighted by 1 / log(1 + n_l), zero diagonal.

    Parameters
    ----------
    interactions : sparse matrix or array-like of shape (n_users, n_items)
        Non-zero means "interacted".

    Returns
    -------
    scipy.sparse.csr_matrix of shape (n_users, n_users), symmetric.

    Examples
    --------
    Two users share item 0, which 3 users took: (1 / log 4) / sqrt(2 · 1).

    >>> S = user_similarity([[1, 1], [1, 0], [1, 0]])
    >>> round(float(S[0, 1]), 4), round(float(1 / np.log(4) / np.sqrt(2)), 4)
    (0.5101, 0.5101)
    """
    binary = check_interactions(interactions)
    binary.data[:] = 1.0
    popularity = np.asarray(binary.sum(axis=0)).ravel()  # (n_items,) n_l
    item_weight = np.divide(1.0, np.log1p(popularity), out=np.zeros_like(popularity),
                            where=popularity > 0)
    sizes = np.diff(binary.indptr).astype(np.float64)  # (n_users,) |J|
    inverse_root = np.divide(1.0, np.sqrt(sizes), out=np.zeros_like(sizes), where=sizes > 0)
    weighted = sp.csr_matrix(binary @ sp.diags(item_weight))  # (n_users, n_items)
    similarity = sp.csr_matrix(weighted @ binary.T)  # (n_users, n_users)
    similarity = sp.csr_matrix(sp.diags(inverse_root) @ similarity @ sp.diags(inverse_root))
    similarity.setdiag(0.0)
    similarity.eliminate_zeros()
    return similarity


class UserCF(RecommendFromScores):
    """User-based collaborative filtering with inverse-popularity item weights.

    Parameters
    ----------
    n_neighbours : int, default 20
        Number of most similar users whose items are recalled.

    Attributes
    ----------
    similarity_ : scipy.sparse.csr_matrix of shape (n_users, n_users)
        Full user-user similarity (zero diagonal).
    neighbour_similarity_ : scipy.sparse.csr_matrix of shape (n_users, n_users)
        Row u keeps only u's ``n_neighbours`` most similar users.
    interactions_ : scipy.sparse.csr_matrix of shape (n_users, n_items)
        Fitted weights (used to exclude seen items).
    candidate_weights_ : scipy.sparse.csr_matrix of shape (n_users, n_items)
        r_vi used in the score: ``recent_weights`` if given, else ``interactions_``.

    Examples
    --------
    >>> R = [[1, 1, 0, 0], [1, 1, 1, 0], [0, 0, 1, 1]]
    >>> UserCF(n_neighbours=1).fit(R).recommend([0], k=2, exclude=np.asarray(R)[[0]])[0].tolist()
    [[2, -1]]
    """

    def __init__(self, n_neighbours: int = 20):
        self.n_neighbours = n_neighbours

    def fit(self, R, y=None, recent_weights=None) -> "UserCF":
        """Learn user-user similarity from R (n_users, n_items); return self.

        ``recent_weights`` (same shape, non-negative) replaces R as r_vi when scoring.
        """
        k = check_positive_int(self.n_neighbours, "n_neighbours")
        matrix = check_interactions(R)
        candidates = matrix
        if recent_weights is not None:
            candidates = check_interactions(recent_weights, "recent_weights")
            if candidates.shape != matrix.shape:
                raise ValueError(f"recent_weights must have shape {matrix.shape}, "
                                 f"got {candidates.shape}")
        self.interactions_ = matrix
        self.candidate_weights_ = candidates
        self.similarity_ = user_similarity(matrix)
        self.neighbour_similarity_ = keep_top_k_per_row(self.similarity_, k)
        return self

    def _check_fitted(self):
        check_is_fitted(self, "similarity_")

    def score(self, user_indices) -> sp.csr_matrix:
        """Scores of shape (len(user_indices), n_items): top-k user similarities @ r."""
        self._check_fitted()
        users = check_user_indices(user_indices, self.interactions_.shape[0])
        return sp.csr_matrix(self.neighbour_similarity_[users] @ self.candidate_weights_)
