"""Evaluation metrics (评估指标) used throughout the course.

One import for all of them, e.g. ``from course.metrics import auc, gauc, ndcg_at_k``:

- :mod:`~course.metrics.classification`: AUC, GAUC, log loss, calibration (ECE, reliability bins);
- :mod:`~course.metrics.ranking`: precision / recall / NDCG / hit rate / MAP @ k, MRR;
- :mod:`~course.metrics.beyond_accuracy`: catalogue coverage, intra-list diversity, novelty;
- :mod:`~course.metrics.online`: CTR, interactions per user, DAU, LTk retention from logs.
"""
from course.metrics.beyond_accuracy import catalogue_coverage, intra_list_diversity, novelty
from course.metrics.classification import auc, expected_calibration_error, gauc, log_loss, reliability_bins
from course.metrics.online import ctr, daily_active_users, interactions_per_user, lt_retention
from course.metrics.ranking import (
    hit_matrix,
    hit_rate_at_k,
    map_at_k,
    mrr,
    ndcg_at_k,
    precision_at_k,
    recall_at_k,
)

__all__ = [
    "auc",
    "gauc",
    "log_loss",
    "expected_calibration_error",
    "reliability_bins",
    "hit_matrix",
    "precision_at_k",
    "recall_at_k",
    "ndcg_at_k",
    "hit_rate_at_k",
    "map_at_k",
    "mrr",
    "catalogue_coverage",
    "intra_list_diversity",
    "novelty",
    "ctr",
    "interactions_per_user",
    "daily_active_users",
    "lt_retention",
]
