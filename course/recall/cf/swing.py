"""Swing (Swing 召回), Part 2 section 1.2 of the note.

ItemCF's weakness: if the users who interacted with two items all sit in one small circle
(小圈子: friends sharing links, a fan group), the two items look similar although their content
is unrelated. Many *unrelated* users consuming both items is much stronger evidence of a common
audience. Swing therefore lets every pair of users {u, v} who both interacted with i and j vote
for sim(i, j), and shrinks the vote when u and v overlap a lot (the circle's signature):

    sim(i, j) = Σ_{ {u, v} ⊆ U_i ∩ U_j, u ≠ v }  w_u · w_v / (α + |I_u ∩ I_v|)

with U_i the users of item i, I_u the items of user u, and the optional user weight of the paper
w_u = (|I_u| + α₁)^(-β) (heavy users count less; β = 0 gives w_u = 1, the note's version).

Implementation. Interactions are binarised (Swing counts sets, not weights: a 5-star and a
1-star rating are one "interacted" each). Write p_uv = b_u ⊙ b_v for the indicator of I_u ∩ I_v
and c_uv = w_u w_v / (α + |I_u ∩ I_v|). Every pair {u, v} adds c_uv to sim(i, j) for all i ≠ j in
I_u ∩ I_v, so

    S = Σ_{u<v} c_uv · p_uv p_uvᵀ = Pᵀ diag(c) P,   then zero the diagonal,

with P the (pairs × items) matrix whose rows are the p_uv. The overlaps come from one sparse
product O = B Bᵀ; pairs with |I_u ∩ I_v| < 2 only touch the diagonal and are skipped; P is built
and multiplied in chunks of pairs to bound memory. Work ≈ Σ_{u<v} |I_u ∩ I_v|², all inside
sparse kernels: no Python loop over users, pairs or items.

References: Yang, Zhu, Zhang et al., "Large Scale Product Graph Construction for Recommendation
in E-commerce", arXiv:2010.05525 (2020); Apache Flink ML ``Swing`` (alpha1 = α₁ = 15,
alpha2 = α = 0, beta = 0.3 by default there; its loop starts at the second purchaser of each
item, which we do not copy: here every unordered pair counts).
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from course._checks import check_positive_int, check_real
from course.recall.cf.index import check_interactions
from course.recall.cf.itemcf import ItemBasedRecall


def swing_user_weights(counts, beta: float, offset: float) -> np.ndarray:
    """w_u = (|I_u| + offset)^(-beta), and 0 for users with no item (they never vote)."""
    counts = np.asarray(counts, dtype=np.float64)
    weights = np.zeros_like(counts)
    active = counts > 0
    weights[active] = (counts[active] + offset) ** (-beta)
    return weights


def swing_similarity(interactions, alpha: float = 1.0, user_weight_beta: float = 0.0,
                     user_weight_offset: float = 15.0, chunk_size: int = 2**22) -> sp.csr_matrix:
    """Swing item-item similarity of a (binarised) interaction matrix.

    Parameters
    ----------
    interactions : sparse matrix or array-like of shape (n_users, n_items)
        Any non-negative weights; non-zero means "interacted".
    alpha : float, >= 0
        Smoothing in the denominator α + |I_u ∩ I_v|; α > 0 keeps small overlaps bounded.
    user_weight_beta, user_weight_offset : float, >= 0
        β and α₁ of the user weight w_u = (|I_u| + α₁)^(-β).
    chunk_size : int
        Rough number of sparse entries gathered per chunk of user pairs (memory bound).

    Returns
    -------
    scipy.sparse.csr_matrix of shape (n_items, n_items)
        Symmetric, non-negative, zero diagonal.

    Examples
    --------
    Users 0 and 1 both took items 0 and 1 and share 2 items: one pair, 1 / (1 + 2).

    >>> B = [[1, 1, 0], [1, 1, 1], [0, 0, 1]]
    >>> round(float(swing_similarity(B)[0, 1]), 4)
    0.3333
    """
    alpha = check_real(alpha, "alpha", low=0)
    user_weight_beta = check_real(user_weight_beta, "user_weight_beta", low=0)
    user_weight_offset = check_real(user_weight_offset, "user_weight_offset", low=0)
    chunk_size = check_positive_int(chunk_size, "chunk_size")
    binary = check_interactions(interactions)
    binary.data[:] = 1.0
    n_items = binary.shape[1]
    weights = swing_user_weights(np.diff(binary.indptr), user_weight_beta, user_weight_offset)
    # Upper triangle of O = B Bᵀ: each unordered pair once, with its overlap |I_u ∩ I_v|.
    overlap = sp.triu(binary @ binary.T, k=1).tocoo()
    voting = overlap.data >= 2  # a single shared item has no partner j != i to vote for
    first, second = overlap.row[voting], overlap.col[voting]
    pair_weight = weights[first] * weights[second] / (alpha + overlap.data[voting])  # (n_pairs,)
    similarity = sp.csr_matrix((n_items, n_items))
    # Chunks sized by the rows gathered below (|I_u| + |I_v| per pair), so memory stays bounded.
    sizes = np.diff(binary.indptr)
    gathered = np.cumsum(sizes[first] + sizes[second])  # (n_pairs,)
    cuts = np.searchsorted(gathered, np.arange(chunk_size, gathered[-1], chunk_size)) \
        if gathered.size else np.array([], dtype=np.int64)
    bounds = np.unique(np.r_[0, cuts, first.size].astype(np.int64))
    for start, stop in zip(bounds[:-1], bounds[1:]):
        # (chunk, n_items): row = indicator of I_u ∩ I_v for one pair
        pairs = sp.csr_matrix(binary[first[start:stop]].multiply(binary[second[start:stop]]))
        similarity = similarity + pairs.T @ (sp.diags(pair_weight[start:stop]) @ pairs)
    similarity = sp.csr_matrix(similarity)  # (n_items, n_items)
    similarity.setdiag(0.0)  # i = j is not a pair of items
    similarity.eliminate_zeros()
    return similarity


class Swing(ItemBasedRecall):
    """Swing item-to-item recall; scores like ItemCF: score(u, j) = Σ_i r_ui · sim(i, j).

    Parameters
    ----------
    alpha : float, default 1.0
        α in w_u w_v / (α + |I_u ∩ I_v|).
    user_weight_beta : float, default 0.0
        β of w_u = (|I_u| + α₁)^(-β); 0 switches user weights off (the note's formula).
    user_weight_offset : float, default 15.0
        α₁ of the user weight (Flink ML's default ``alpha1``); unused when β = 0.
    top_k_neighbours : int or None, default None
        Keep only each item's k most similar items (the item → top-k index).

    Attributes
    ----------
    similarity_ : scipy.sparse.csr_matrix of shape (n_items, n_items)
    interactions_ : scipy.sparse.csr_matrix of shape (n_users, n_items)
        The fitted weights (used, unbinarised, as r_ui when scoring).

    Examples
    --------
    >>> R = [[1, 1, 0, 0], [1, 1, 1, 0], [0, 1, 1, 1]]
    >>> Swing().fit(R).recommend([0], k=2, exclude=np.asarray(R)[[0]])[0].tolist()
    [[2, -1]]
    """

    def __init__(self, alpha: float = 1.0, user_weight_beta: float = 0.0,
                 user_weight_offset: float = 15.0, top_k_neighbours: int | None = None):
        self.alpha = alpha
        self.user_weight_beta = user_weight_beta
        self.user_weight_offset = user_weight_offset
        self.top_k_neighbours = top_k_neighbours

    def fit(self, R, y=None) -> "Swing":
        """Learn the Swing similarity from R of shape (n_users, n_items); return self."""
        matrix = check_interactions(R)
        similarity = swing_similarity(matrix, self.alpha, self.user_weight_beta,
                                      self.user_weight_offset)
        self.interactions_ = matrix
        self.similarity_ = self._prune(similarity)
        return self
