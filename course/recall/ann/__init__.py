"""Serving vectors (近似最近邻): exact search, IVF, deep retrieval and its path penalty (notebook 02c)."""
from course.recall.ann.deep_retrieval import (PathModel, all_paths, beam_search, fit_deep_retrieval,
                                              path_log_probs_all, path_loss, reassign_items, retrieve,
                                              total_log_likelihood)
from course.recall.ann.exact import ExactIndex, exact_top_k, recall_at_k_vs_exact
from course.recall.ann.ivf import IVFIndex, kmeans
from course.recall.ann.path_penalty import assign_with_path_penalty, penalized_objective

__all__ = ["exact_top_k", "ExactIndex", "recall_at_k_vs_exact", "kmeans", "IVFIndex",
           "PathModel", "all_paths", "path_log_probs_all", "beam_search", "path_loss", "reassign_items",
           "total_log_likelihood", "retrieve", "fit_deep_retrieval", "assign_with_path_penalty",
           "penalized_objective"]
