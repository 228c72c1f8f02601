"""Chapter 1's baseline feed (notebook 01): counting-based channels, filters and scorers, and
:func:`baseline_pipeline`, the funnel they make (popularity + category recall → dislike filter →
smoothed-CTR pre-ranking → counting ranker → top-k).

Nothing here is learned beyond smoothed counts from the logs; every later chapter replaces one
stage with a real model (ItemCF and two towers for recall, MMoE for ranking, DPP for
reranking) and keeps the rest. Smoothing: a rate observed as ``x`` successes in ``n`` trials
is estimated as ``(x + m·p0) / (n + m)`` (a Beta prior worth ``m`` pseudo-trials at the
global rate ``p0``), so a note shown twice and clicked once does not get a CTR of 50 %.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from course.pipeline.candidates import Candidates, RequestContext
from course.pipeline.core import Pipeline, ScoreStage, TopK

__all__ = ["FeedStatistics", "PopularRecall", "CategoryRecall", "disliked_pairs",
           "DislikeFilter", "PreRankScorer", "RankScorer", "fusion_score", "baseline_pipeline"]

ACTIONS = ("like", "collect", "share")


def _logit(p):
    return np.log(p) - np.log1p(-p)


def _smoothed(successes, trials, prior_rate, strength):
    return (successes + strength * prior_rate) / (trials + strength)


class FeedStatistics:
    """Smoothed counts from the impression logs (曝光日志), computed once, looked up per request.

    Parameters
    ----------
    prior_strength : float, default 20
        ``m`` of the smoothing ``(x + m·p0) / (n + m)``.
    recent_days : int, default 3
        Popularity counts the clicks of the logs' last ``recent_days`` days.

    Attributes
    ----------
    global_ctr_ : float
    item_ctr_ : ndarray of shape (n_items,)                smoothed clicks / impressions
    item_recent_clicks_ : ndarray of shape (n_items,)
    item_action_rate_ : dict action -> ndarray (n_items,)  smoothed P(action | click)
    user_category_clicks_, user_category_ctr_ : ndarray of shape (n_users, n_categories)
    item_category_, item_author_, item_publish_day_ : ndarray of shape (n_items,)
    """

    def __init__(self, prior_strength: float = 20.0, recent_days: int = 3):
        self.prior_strength = prior_strength
        self.recent_days = recent_days

    def fit(self, impressions: pd.DataFrame, items: pd.DataFrame, n_users: int | None = None):
        """Count from ``impressions`` (user_id, item_id, day, click, like, collect, share)."""
        needed = {"user_id", "item_id", "day", "click", *ACTIONS}
        if not needed <= set(impressions.columns) or len(impressions) == 0:
            raise ValueError(f"impressions must be non-empty with columns {sorted(needed)}")
        if not self.prior_strength > 0 or self.recent_days < 1:
            raise ValueError("prior_strength must be > 0 and recent_days >= 1")
        m = self.prior_strength
        user = impressions["user_id"].to_numpy()
        item = impressions["item_id"].to_numpy()
        click = impressions["click"].to_numpy(dtype=float)
        self.n_items_ = len(items)
        self.n_users_ = int(user.max()) + 1 if n_users is None else int(n_users)
        if item.max() >= self.n_items_ or user.max() >= self.n_users_:
            raise ValueError("impressions mention item or user ids beyond items / n_users")
        self.item_category_ = items["category_id"].to_numpy().astype(np.int64)
        self.item_author_ = items["author_id"].to_numpy().astype(np.int64)
        self.item_publish_day_ = items["publish_day"].to_numpy().astype(np.int64)
        self.n_categories_ = int(self.item_category_.max()) + 1
        self.n_authors_ = int(self.item_author_.max()) + 1
        self.last_day_ = int(impressions["day"].max())
        self.global_ctr_ = float(click.mean())

        item_impressions = np.bincount(item, minlength=self.n_items_)
        item_clicks = np.bincount(item, weights=click, minlength=self.n_items_)
        self.item_ctr_ = _smoothed(item_clicks, item_impressions, self.global_ctr_, m)
        recent = impressions["day"].to_numpy() > self.last_day_ - self.recent_days
        self.item_recent_clicks_ = np.bincount(item[recent], weights=click[recent],
                                               minlength=self.n_items_)
        # like / collect / share are recorded only after a click: rates per click
        self.item_action_rate_ = {}
        for action in ACTIONS:
            counts = np.bincount(item, weights=impressions[action].to_numpy(dtype=float),
                                 minlength=self.n_items_)
            prior = counts.sum() / max(click.sum(), 1.0)
            self.item_action_rate_[action] = _smoothed(counts, item_clicks, prior, m)

        cell = user * self.n_categories_ + self.item_category_[item]      # (user, category)
        size = self.n_users_ * self.n_categories_
        shape = (self.n_users_, self.n_categories_)
        uc_impressions = np.bincount(cell, minlength=size).reshape(shape)
        self.user_category_clicks_ = np.bincount(cell, weights=click, minlength=size).reshape(shape)
        self.user_category_ctr_ = _smoothed(self.user_category_clicks_, uc_impressions,
                                            self.global_ctr_, m)
        # (user, author) pairs are sparse: sorted pair codes + rates, looked up by searchsorted
        pair = user.astype(np.int64) * self.n_authors_ + self.item_author_[item]
        self._author_pairs, inverse = np.unique(pair, return_inverse=True)
        ua_impressions = np.bincount(inverse)
        ua_clicks = np.bincount(inverse, weights=click)
        self._author_pair_ctr = _smoothed(ua_clicks, ua_impressions, self.global_ctr_, m)
        return self

    def user_author_ctr(self, user_ids, author_ids) -> np.ndarray:
        """Smoothed CTR of each (user, author) pair; the global CTR for unseen pairs. Shape (n,)."""
        pair = np.asarray(user_ids, dtype=np.int64) * self.n_authors_ + np.asarray(author_ids)
        position = np.minimum(np.searchsorted(self._author_pairs, pair), len(self._author_pairs) - 1)
        found = self._author_pairs[position] == pair
        return np.where(found, self._author_pair_ctr[position], self.global_ctr_)

    def known_available(self, context: RequestContext) -> np.ndarray:
        """The available notes these statistics know (new notes are item cold start, ch. 7)."""
        available = np.asarray(context.available_items)
        return available[available < self.n_items_]


def _check_users(user_ids, stats: FeedStatistics) -> np.ndarray:
    user_ids = np.asarray(user_ids, dtype=np.int64)
    if user_ids.size and (user_ids.min() < 0 or user_ids.max() >= stats.n_users_):
        raise ValueError(f"user ids must be in [0, {stats.n_users_})")
    return user_ids


class PopularRecall:
    """Popularity channel (热门召回): the ``n`` notes with the most recent clicks, for everyone."""

    def __init__(self, stats: FeedStatistics, n: int = 300):
        self.stats, self.n = stats, n

    def __call__(self, user_ids, context: RequestContext):
        user_ids = _check_users(user_ids, self.stats)
        available = self.stats.known_available(context)
        # most recent clicks first; the smoothed CTR breaks ties
        order = np.lexsort((-self.stats.item_ctr_[available],
                            -self.stats.item_recent_clicks_[available]))
        top = available[order[: self.n]]
        return np.repeat(user_ids, len(top)), np.tile(top, len(user_ids))


class CategoryRecall:
    """Category channel (类目召回): the user's most-clicked categories → their top notes.

    Users without clicks get the categories with the most clicks overall (a popularity
    fallback: user cold start, chapter 7).

    Parameters
    ----------
    stats : FeedStatistics
    n_categories : int, default 3        categories per user
    per_category : int, default 150      notes per category
    order : {"popular", "newest"}        recent clicks first, or newest first
    """

    def __init__(self, stats: FeedStatistics, n_categories: int = 3, per_category: int = 150,
                 order: str = "popular"):
        if order not in ("popular", "newest"):
            raise ValueError(f"order must be 'popular' or 'newest', got {order!r}")
        self.stats, self.n_categories = stats, n_categories
        self.per_category, self.order = per_category, order

    def top_categories(self, user_ids) -> np.ndarray:
        """Each user's ``n_categories`` most-clicked categories: shape (n_users, n_categories)."""
        clicks = self.stats.user_category_clicks_
        # a tiny share of the global counts breaks ties (and ranks categories for new users)
        key = clicks[user_ids] + 1e-6 * clicks.sum(axis=0) / max(clicks.sum(), 1.0)
        return np.argsort(-key, axis=1, kind="stable")[:, : self.n_categories]

    def __call__(self, user_ids, context: RequestContext):
        stats = self.stats
        user_ids = _check_users(user_ids, stats)
        available = stats.known_available(context)
        category = stats.item_category_[available]
        if self.order == "popular":
            primary, secondary = -stats.item_recent_clicks_[available], -stats.item_ctr_[available]
        else:
            primary = -stats.item_publish_day_[available]
            secondary = -stats.item_recent_clicks_[available]
        order = np.lexsort((secondary, primary, category))        # by category, then best first
        sorted_category = category[order]
        starts = np.searchsorted(sorted_category, sorted_category)  # first row of each category
        rank = np.arange(len(order)) - starts
        keep = rank < self.per_category
        table = np.full((stats.n_categories_, self.per_category), -1, dtype=np.int64)
        table[sorted_category[keep], rank[keep]] = available[order[keep]]
        items = table[self.top_categories(user_ids)].reshape(len(user_ids), -1)  # (n_users, c·p)
        users = np.repeat(user_ids, items.shape[1])
        items = items.ravel()
        return users[items >= 0], items[items >= 0]


def disliked_pairs(impressions: pd.DataFrame, items: pd.DataFrame, key: str = "author_id",
                   min_impressions: int = 5) -> pd.DataFrame:
    """(user, author) or (user, category) pairs the user ignores: shown ≥ N times, never clicked.

    A stand-in for explicit feedback ("not interested", 不感兴趣) that the logs do not have.

    Returns
    -------
    DataFrame with columns ``user_id`` and ``key``.
    """
    if key not in items.columns:
        raise ValueError(f"items has no column {key!r}")
    if min_impressions < 1:
        raise ValueError(f"min_impressions must be >= 1, got {min_impressions}")
    keys = items[key].to_numpy()[impressions["item_id"].to_numpy()]
    frame = pd.DataFrame({"user_id": impressions["user_id"].to_numpy(), key: keys,
                          "click": impressions["click"].to_numpy()})
    counts = frame.groupby(["user_id", key], sort=True)["click"].agg(["size", "sum"])
    ignored = counts[(counts["size"] >= min_impressions) & (counts["sum"] == 0)]
    return ignored.reset_index()[["user_id", key]]


class DislikeFilter:
    """Filter (过滤): drop candidates whose author (or category) the user dislikes.

    Parameters
    ----------
    disliked : DataFrame with columns ``user_id`` and one key column, e.g. ``author_id``
    item_keys : ndarray of shape (n_items,)
        The key of each note (its author id, or category id). Notes beyond it are kept.
    """

    def __init__(self, disliked: pd.DataFrame, item_keys):
        columns = [c for c in disliked.columns if c != "user_id"]
        if "user_id" not in disliked.columns or len(columns) != 1:
            raise ValueError(f"disliked needs user_id and one key column, got {list(disliked.columns)}")
        self.key = columns[0]
        self.item_keys = np.asarray(item_keys, dtype=np.int64)
        largest_key = disliked[self.key].max() if len(disliked) else 0
        self._n_keys = int(max(self.item_keys.max(initial=0), largest_key)) + 1
        self._codes = np.sort(disliked["user_id"].to_numpy(np.int64) * self._n_keys
                              + disliked[self.key].to_numpy(np.int64))

    def __call__(self, candidates: Candidates, context: RequestContext) -> Candidates:
        known = candidates.item_ids < len(self.item_keys)
        keys = self.item_keys[np.where(known, candidates.item_ids, 0)]
        codes = candidates.user_ids * self._n_keys + keys
        return candidates.take(~(known & np.isin(codes, self._codes)))

    def __repr__(self):
        return f"DislikeFilter(key={self.key!r}, n_pairs={len(self._codes)})"


class PreRankScorer:
    """Pre-ranking (粗排) score: smoothed note CTR × the user's category affinity.

    ``score = ctr_item · ctr_(user, category) / ctr_global``: two table lookups per candidate,
    cheap enough for the thousands that recall returns. Use with ``ScoreStage(..., keep=200)``.
    """

    def __init__(self, stats: FeedStatistics):
        self.stats = stats

    def __call__(self, candidates: Candidates, context: RequestContext) -> np.ndarray:
        s = self.stats
        affinity = s.user_category_ctr_[candidates.user_ids, s.item_category_[candidates.item_ids]]
        return s.item_ctr_[candidates.item_ids] * affinity / s.global_ctr_


def fusion_score(p_click, rates: dict, weights: dict, form: str = "additive") -> np.ndarray:
    """Score fusion (融分) of predicted rates into one ranking score, the note's two forms.

    - additive:        ``score = p_click + Σ_x w_x · p_x``
    - multiplicative:  ``score = p_click · (1 + Σ_x w_x · p_x)``

    With ``p_x`` the rate of action x *given a click* (like, collect, share), the multiplicative
    form equals ``p_click + Σ w_x P(click and x)``: expected engagement per impression.

    Examples
    --------
    >>> p_click = np.array([0.1, 0.2])
    >>> rates = {"like": np.array([0.5, 0.1]), "share": np.array([0.2, 0.0])}
    >>> fusion_score(p_click, rates, {"like": 1.0, "share": 2.0}).round(4).tolist()
    [1.0, 0.3]
    >>> fusion_score(p_click, rates, {"like": 1.0, "share": 2.0}, "multiplicative").round(4).tolist()
    [0.19, 0.22]
    """
    if form not in ("additive", "multiplicative"):
        raise ValueError(f"form must be 'additive' or 'multiplicative', got {form!r}")
    unknown = set(weights) - set(rates)
    if unknown:
        raise ValueError(f"weights for unknown rates {sorted(unknown)}; rates are {sorted(rates)}")
    p_click = np.asarray(p_click, dtype=float)
    bonus = np.zeros_like(p_click)
    for action, weight in weights.items():                  # a loop over 3-4 actions
        bonus = bonus + weight * np.asarray(rates[action], dtype=float)
    return p_click + bonus if form == "additive" else p_click * (1.0 + bonus)


class RankScorer:
    """Ranking (精排) stand-in: predicted click / like / collect / share rates, then fusion.

    ``logit p_click = logit ctr_item + [logit ctr_(user,category) − logit ctr] +
    [logit ctr_(user,author) − logit ctr]`` (each term: how much more than average this note,
    this category for this user, this author for this user get clicked); ``p_like``,
    ``p_collect``, ``p_share`` are the note's smoothed rates per click. Chapter 3's multi-task
    model (MMoE) replaces the counts; the fusion stays.

    Parameters
    ----------
    stats : FeedStatistics
    weights : dict action -> float, default like, collect, share all 1.0
    form : {"additive", "multiplicative"}
    """

    def __init__(self, stats: FeedStatistics, weights: dict | None = None, form: str = "additive"):
        self.stats = stats
        self.weights = {a: 1.0 for a in ACTIONS} if weights is None else dict(weights)
        self.form = form
        fusion_score(np.zeros(1), {a: np.zeros(1) for a in ACTIONS}, self.weights, form)  # validate

    def __call__(self, candidates: Candidates, context: RequestContext) -> dict:
        s, users, items = self.stats, candidates.user_ids, candidates.item_ids
        base = _logit(s.global_ctr_)
        logit = (_logit(s.item_ctr_[items])
                 + _logit(s.user_category_ctr_[users, s.item_category_[items]]) - base
                 + _logit(s.user_author_ctr(users, s.item_author_[items])) - base)
        p_click = 1.0 / (1.0 + np.exp(-logit))
        rates = {f"p_{a}": s.item_action_rate_[a][items] for a in ACTIONS}
        score = fusion_score(p_click, {a: rates[f"p_{a}"] for a in ACTIONS}, self.weights, self.form)
        return {"p_click": p_click, **rates, "score": score}


def baseline_pipeline(impressions, items, n_users=None, *, n_popular=300, n_categories=3,
                      per_category=150, dislike_key="category_id", min_impressions=5,
                      prerank_keep=200, rank_keep=50, k=10, weights=None,
                      form="additive") -> Pipeline:
    """Chapter 1's pipeline from the logs: popularity + category recall, a filter of disliked
    categories, a smoothed-CTR pre-ranker, a counting ranker with score fusion, and a top-k.

    Parameters
    ----------
    impressions, items : DataFrame
        The logs (``world.impressions``) and the notes (``world.items``).
    n_users : int, optional
        Number of users (defaults to the largest id in the logs + 1).
    n_popular, n_categories, per_category : int
        Recall sizes: ``n_popular + n_categories · per_category`` candidates per user at most.
    dislike_key : {"category_id", "author_id"}
        What the filter removes: a category (or author) shown to the user ``min_impressions``
        times and never clicked. Categories by default: in the simulator, ignored categories
        are truly less clicked, whereas most "ignored" authors are followed ones that the
        user simply did not click five times in a row (the notebook of chapter 1 checks both).
    min_impressions : int
    prerank_keep, rank_keep, k : int
        Candidates kept by pre-ranking, by ranking, and finally shown.
    weights, form
        Score fusion (see :func:`fusion_score`).
    """
    stats = FeedStatistics().fit(impressions, items, n_users)
    filter_names = {"category_id": "disliked categories", "author_id": "disliked authors"}
    if dislike_key not in filter_names:
        raise ValueError(f"dislike_key must be 'category_id' or 'author_id', got {dislike_key!r}")
    disliked = disliked_pairs(impressions, items, dislike_key, min_impressions)
    item_keys = stats.item_category_ if dislike_key == "category_id" else stats.item_author_
    return Pipeline(
        channels={"popular": PopularRecall(stats, n_popular),
                  "category": CategoryRecall(stats, n_categories, per_category)},
        stages=[(filter_names[dislike_key], DislikeFilter(disliked, item_keys)),
                ("pre-ranking", ScoreStage(PreRankScorer(stats), keep=prerank_keep,
                                           score_name="prerank")),
                ("ranking", ScoreStage(RankScorer(stats, weights, form), keep=rank_keep)),
                ("reranking", TopK(k))])
