"""The recommendation funnel (推荐链路): recall (召回) → merge, dedup and filters (去重, 过滤) →
pre-ranking (粗排) → ranking (精排) → reranking (重排), with pluggable stages and a trace.

:mod:`course.pipeline.candidates` holds what flows through the funnel (a request's context, the
candidate table, top-k per user); :mod:`course.pipeline.core` is the plumbing (stages, the
pipeline, the adapter to the world's environment); :mod:`course.pipeline.baseline` is chapter 1's
counting stages and :func:`baseline_pipeline`; :mod:`course.pipeline.merge` plugs recall channels,
quotas and exposure filters into a pipeline (notebook 02d). Later chapters plug their models into
the same pipeline and the capstone runs the best of each.

Examples
--------
>>> from course import world
>>> w = world.generate("tiny")
>>> pipeline = baseline_pipeline(w.impressions, w.items, n_users=len(w.users))
>>> context = RequestContext(day=3, available_items=w.items["item_id"].to_numpy())
>>> result = pipeline.run(user_ids=7, context=context)
>>> len(result.items_for(7)), list(result.trace["stage"])[-3:]
(10, ['pre-ranking', 'ranking', 'reranking'])
"""
from course.pipeline.candidates import Candidates, RequestContext, top_k_per_user
from course.pipeline.core import Pipeline, PipelineResult, ScoreStage, TopK, as_policy
from course.pipeline.baseline import (CategoryRecall, DislikeFilter, FeedStatistics, PopularRecall,
                                      PreRankScorer, RankScorer, baseline_pipeline, disliked_pairs,
                                      fusion_score)

__all__ = ["Candidates", "RequestContext", "Pipeline", "PipelineResult", "ScoreStage", "TopK",
           "top_k_per_user", "as_policy", "FeedStatistics", "PopularRecall", "CategoryRecall",
           "disliked_pairs", "DislikeFilter", "PreRankScorer", "RankScorer", "fusion_score",
           "baseline_pipeline"]

