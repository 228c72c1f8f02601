"""Author recall (作者召回) and similar-author recall (相似作者召回), Part 2 section 7 of the note.

- **Author recall**: user → followed authors, and authors whose notes the user clicked or liked
  at least N times (有交互的作者) → each author's newest notes. Two indexes: user → authors
  (:func:`user_author_matrix`) and author → notes by time (按时间倒排,
  :class:`~course.recall.channels.index.KeyIndex`).
- **Similar-author recall**: user → interested authors → similar authors → notes (U2A2A2I).
  Author similarity (作者相似度) is the cosine of two authors' audiences in the user x author
  matrix ``M`` (ItemCF on authors): ``sim(a, b) = |U_a ∩ U_b| / sqrt(|U_a| |U_b|)``.

Both follow the channel contract of :mod:`course.recall.channels` (where the other channels and
the overview are); they are in their own module because they bring their own offline tables
(the user x author matrix, the author → similar-authors table).
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from course.pipeline.candidates import RequestContext
from course._checks import check_positive_int
from course.recall.cf.itemcf import cosine_item_similarity
from course.recall.cf.top_n import keep_top_k_per_row
from course.recall.channels.index import (KeyIndex, available_mask, check_fitted, check_user_ids,
                                         first_k_valid, newest_first_order)

__all__ = ["user_author_matrix", "author_cosine_similarity", "AuthorRecall", "SimilarAuthorRecall"]


def user_author_matrix(follows, n_users: int, n_authors: int, impressions=None, items=None,
                       actions=("click", "like"), min_interactions: int = 2) -> sp.csr_matrix:
    """Binary user x author interest matrix: followed, or ``>= min_interactions`` actions.

    ``M[u, a] = 1`` if u follows a, or if u's ``actions`` (clicks + likes by default) on a's
    notes in ``impressions`` add up to at least ``min_interactions`` (有交互的作者).

    Parameters
    ----------
    follows : DataFrame with user_id, author_id
    n_users, n_authors : int
    impressions : DataFrame with user_id, item_id and the ``actions`` columns, optional
    items : DataFrame with author_id (row = item id), needed with ``impressions``

    Returns
    -------
    scipy.sparse.csr_matrix of shape (n_users, n_authors), float64 of 0/1
    """
    n_users, n_authors = check_positive_int(n_users, "n_users"), check_positive_int(n_authors, "n_authors")
    users = [follows["user_id"].to_numpy(np.int64)]
    authors = [follows["author_id"].to_numpy(np.int64)]
    if impressions is not None:
        if items is None:
            raise ValueError("items (with author_id) is needed to map impressions to authors")
        min_interactions = check_positive_int(min_interactions, "min_interactions")
        missing = set(actions) - set(impressions.columns)
        if missing:
            raise ValueError(f"impressions lack the action columns {sorted(missing)}")
        count = impressions[list(actions)].to_numpy(dtype=float).sum(axis=1)
        author = items["author_id"].to_numpy(np.int64)[impressions["item_id"].to_numpy()]
        totals = sp.coo_matrix((count, (impressions["user_id"].to_numpy(np.int64), author)),
                               shape=(n_users, n_authors)).tocsr()   # duplicates are summed
        totals.data = (totals.data >= min_interactions).astype(float)
        totals.eliminate_zeros()
        interacted = totals.tocoo()
        users.append(interacted.row.astype(np.int64))
        authors.append(interacted.col.astype(np.int64))
    users, authors = np.concatenate(users), np.concatenate(authors)
    if users.size and (users.max() >= n_users or authors.max() >= n_authors or min(users.min(), authors.min()) < 0):
        raise ValueError("user or author ids out of range [0, n_users) x [0, n_authors)")
    matrix = sp.csr_matrix((np.ones(len(users)), (users, authors)), shape=(n_users, n_authors))
    matrix.data[:] = 1.0   # followed and interacted: still one
    return matrix


def author_cosine_similarity(user_authors) -> np.ndarray:
    """Author similarity (作者相似度): cosine of the audiences, ``|U_a ∩ U_b| / sqrt(|U_a||U_b|)``.

    Parameters
    ----------
    user_authors : sparse or dense (n_users, n_authors), binary

    Returns
    -------
    ndarray of shape (n_authors, n_authors), zero diagonal (an author is not its own neighbour)

    Examples
    --------
    >>> author_cosine_similarity(np.array([[1, 1, 0], [1, 0, 0], [0, 1, 1]])).round(3).tolist()
    [[0.0, 0.5, 0.0], [0.5, 0.0, 0.707], [0.0, 0.707, 0.0]]
    """
    # The same cosine as ItemCF's item similarity (audiences are columns, as notes are there):
    # one implementation, so the two cannot drift apart.
    return cosine_item_similarity(sp.csr_matrix(user_authors, dtype=np.float64)).toarray()


class AuthorRecall:
    """Author recall (作者召回): user → interested authors → each author's newest notes.

    ``candidates(u) = top_k ⋃_{a : M[u, a] = 1} newest_per_author(a)``, the union ordered
    newest first across authors (then best, then id). An author's notes never repeat, so the
    union has no duplicates.

    Parameters
    ----------
    per_author : int, default 10     newest notes read per author
    k : int, default 100             candidates per user

    Attributes
    ----------
    user_authors_ : csr_matrix of shape (n_users, n_authors)
    freshness_rank_ : ndarray of shape (n_items,)   position of each note in newest-first order

    Examples
    --------
    >>> matrix = sp.csr_matrix(np.array([[1, 0], [1, 1]]))
    >>> channel = AuthorRecall(per_author=1).fit(matrix, np.array([0, 1, 0]), [5, 6, 7])
    >>> channel([0, 1], RequestContext(day=7, available_items=np.arange(3)))
    (array([0, 1, 1]), array([2, 2, 1]))
    """

    def __init__(self, per_author: int = 10, k: int = 100):
        self.per_author = per_author
        self.k = k

    def fit(self, user_authors, item_authors, publish_day, item_scores=None):
        """Build author → newest notes; ``item_authors`` (n_items,) is ``items.author_id``."""
        check_positive_int(self.per_author, "per_author")
        check_positive_int(self.k, "k")
        self.user_authors_ = sp.csr_matrix(user_authors, dtype=np.float64)
        item_authors = np.asarray(item_authors, dtype=np.int64)
        n_authors = self.user_authors_.shape[1]
        if item_authors.ndim != 1 or len(item_authors) != len(np.asarray(publish_day)):
            raise ValueError("item_authors and publish_day must be 1-D of equal length")
        if item_authors.min(initial=0) < 0 or item_authors.max(initial=0) >= n_authors:
            raise ValueError(f"item author ids must be in [0, {n_authors}), the matrix's columns")
        order = newest_first_order(publish_day, item_scores)
        self.freshness_rank_ = np.empty(len(order), dtype=np.int64)
        self.freshness_rank_[order] = np.arange(len(order))
        self.n_items_ = len(item_authors)
        self._index = KeyIndex(item_authors, order, n_authors)
        return self

    def __call__(self, user_ids, context: RequestContext):
        check_fitted(self)
        users = check_user_ids(user_ids, self.user_authors_.shape[0])
        table = self._index.table(available_mask(context, self.n_items_), self.per_author)
        rows = self.user_authors_[users]                                   # (B, n_authors)
        pair_users = np.repeat(users, np.diff(rows.indptr))                # one per (u, author)
        items = table[rows.indices]                                        # (pairs, per_author)
        pair_users = np.broadcast_to(pair_users[:, None], items.shape)[items >= 0]
        items = items[items >= 0]
        order = np.lexsort((self.freshness_rank_[items], pair_users))      # by user, newest first
        pair_users, items = pair_users[order], items[order]
        rank = np.arange(len(items)) - np.searchsorted(pair_users, pair_users)
        return pair_users[rank < self.k], items[rank < self.k]


class SimilarAuthorRecall(AuthorRecall):
    """Similar-author recall (相似作者召回, U2A2A2I): user → authors → similar authors → notes.

    ``score(u, b) = Σ_{a : M[u, a] = 1} sim_k(a, b)`` with ``sim_k`` the cosine similarity
    (:func:`author_cosine_similarity`) kept for each author's ``n_neighbours`` nearest only (the
    offline author → similar-authors table); authors the user already follows or reads are
    skipped (author recall covers them). The ``n_authors`` best-scored authors contribute their
    ``per_author`` newest notes, best author first.

    Parameters
    ----------
    n_neighbours : int, default 20    similar authors stored per author
    n_authors : int, default 10       similar authors read per user
    per_author : int, default 5
    k : int, default 50              candidates per user

    Attributes
    ----------
    neighbours_ : csr_matrix of shape (n_authors, n_authors)   the top-``n_neighbours`` similarities
    """

    def __init__(self, n_neighbours: int = 20, n_authors: int = 10, per_author: int = 5, k: int = 50):
        self.n_neighbours = n_neighbours
        self.n_authors = n_authors
        self.per_author = per_author
        self.k = k

    def fit(self, user_authors, item_authors, publish_day, item_scores=None):
        check_positive_int(self.n_neighbours, "n_neighbours")
        check_positive_int(self.n_authors, "n_authors")
        super().fit(user_authors, item_authors, publish_day, item_scores)
        # the author → similar-authors table: the same top-k as ItemCF's item → items index
        # (positive similarities only, ties to the smaller author id)
        self.neighbours_ = keep_top_k_per_row(cosine_item_similarity(self.user_authors_), self.n_neighbours)
        return self

    def author_scores(self, user_ids) -> np.ndarray:
        """``score(u, b)`` for every author, zero for authors u already has: (B, n_authors)."""
        check_fitted(self)
        known = self.user_authors_[check_user_ids(user_ids, self.user_authors_.shape[0])]
        scores = (known @ self.neighbours_).toarray()
        scores[known.toarray() > 0] = 0.0
        return scores

    def __call__(self, user_ids, context: RequestContext):
        check_fitted(self)
        users = check_user_ids(user_ids, self.user_authors_.shape[0])
        scores = self.author_scores(users)
        top = np.argsort(-scores, axis=1, kind="stable")[:, : self.n_authors]      # (B, n_authors)
        top = np.where(np.take_along_axis(scores, top, axis=1) > 0, top, -1)
        table = self._index.table(available_mask(context, self.n_items_), self.per_author)
        items = np.where(top[:, :, None] >= 0, table[np.maximum(top, 0)], -1)      # (B, A, per_author)
        return first_k_valid(users, items.reshape(len(users), -1), self.k)
