"""The recommendation funnel (推荐链路): recall (召回) → merge, dedup and filters (去重, 过滤) →
pre-ranking (粗排) → ranking (精排) → reranking (重排), with pluggable stages and a trace.

:mod:`course.pipeline.candidates` holds what flows through the funnel (a request's context, the
candidate table, top-k per user); :mod:`course.pipeline.core` is the plumbing (stages, the
pipeline, the adapter to the world's environment); :mod:`course.pipeline.stages` is chapter 1's
simple stages. Later chapters
plug their models into the same pipeline and the capstone runs the best of each.

Examples
--------
>>> from course import world
>>> w = world.generate("tiny")
>>> pipeline = chapter1_pipeline(w.impressions, w.items, n_users=len(w.users))
>>> context = RequestContext(day=3, available_items=w.items["item_id"].to_numpy())
>>> result = pipeline.run(user_ids=7, context=context)
>>> len(result.items_for(7)), list(result.trace["stage"])[-3:]
(10, ['pre-ranking', 'ranking', 'reranking'])
"""
from course.pipeline.core import (Candidates, Pipeline, PipelineResult, RequestContext, ScoreStage,
                                  TopK, as_policy, top_k_per_user)
from course.pipeline.stages import (CategoryRecall, DislikeFilter, FeedStatistics, PopularRecall,
                                    PreRankScorer, RankScorer, disliked_pairs, fusion_score)

__all__ = ["Candidates", "RequestContext", "Pipeline", "PipelineResult", "ScoreStage", "TopK",
           "top_k_per_user", "as_policy", "FeedStatistics", "PopularRecall", "CategoryRecall",
           "disliked_pairs", "DislikeFilter", "PreRankScorer", "RankScorer", "fusion_score",
           "chapter1_pipeline"]


def chapter1_pipeline(impressions, items, n_users=None, *, n_popular=300, n_categories=3,
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
