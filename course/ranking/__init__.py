"""Ranking (精排): chapter 3 of the course, notebooks 03a… (multi-task models, calibration, fusion, watch time).

The notebooks: 03a multi-task ranking (features, shared bottom, down-sampling and
calibration), 03b MMoE and PLE, 03c score fusion, 03d video (watch time, completion, the length
adjustment), 03e pre-ranking (粗排, the three-tower model), 03f the multi-task models on
MovieLens-100K as a two-task funnel. Modules:

- :mod:`course.ranking.calibration`: negative down-sampling and the correction
  ``α·p / (1 - p + α·p)``;
- :mod:`course.ranking.evaluation`: AUC and GAUC per task (post-click tasks on clicked rows)
  and the oracle's true probabilities of logged impressions, the ceiling;
- :mod:`course.ranking.fusion`: the lectures' five score-fusion formulas;
- :mod:`course.ranking.experts`: MMoE and PLE (gated experts), expert dropout, recorded gate
  weights (notebook 03b);
- :mod:`course.ranking.synthetic`: the MMoE paper's two regression tasks with a chosen
  correlation, the grid of models × correlations × seeds and its stored paper-scale run;
- :mod:`course.ranking.multitask`: the shared-bottom multi-task model and the loss whose
  post-click tasks count only on clicked rows;
- :mod:`course.ranking.watch_time`: watch time as ``y = t/(1+t)`` with cross-entropy,
  predicted as ``exp(z)``; YouTube's weighted logistic regression for comparison;
- :mod:`course.ranking.video`: what ``exp(z)`` converges to (``HM(1 + t) - 1``), completion
  targets, the length adjustment ``p / f(length)`` and the small model of notebook 03d;
- :mod:`course.ranking.preranking`: the pre-ranking (粗排) three-tower model and the cost of one
  request against a per-candidate ranker (notebook 03e).

Examples
--------
>>> from course.ranking import calibrate_downsampled, linear_fusion
>>> calibrate_downsampled(0.5, alpha=1.0)
0.5
"""
from course.ranking.calibration import calibrate_downsampled, downsample_negatives
from course.ranking.fusion import (ecommerce_fusion, linear_fusion, multiplicative_fusion,
                                   rank_fusion, video_fusion)
from course.ranking.experts import MMoE, PLE, Experts, mix_experts
from course.ranking.multitask import SharedBottom, masked_multitask_loss
from course.ranking.evaluation import oracle_action_probabilities, task_metrics
from course.ranking.synthetic import (SyntheticTasks, best_within, mmoe_synthetic, stored_task_correlation_grid,
                                     task_correlation_grid)
from course.ranking.preranking import ThreeTower, multiply_adds, request_cost
from course.ranking.video import (LengthAdjustment, VideoModel, completion_targets,
                                  cross_entropy_watch_time)
from course.ranking.watch_time import (predict_watch_time, watch_time_loss, watch_time_targets,
                                       weighted_logistic_loss, weighted_logistic_odds)

__all__ = ["calibrate_downsampled", "downsample_negatives", "linear_fusion",
           "multiplicative_fusion", "video_fusion", "rank_fusion", "ecommerce_fusion",
           "watch_time_targets", "watch_time_loss", "predict_watch_time",
           "weighted_logistic_loss", "weighted_logistic_odds", "SharedBottom",
           "masked_multitask_loss", "oracle_action_probabilities", "task_metrics",
           "MMoE", "PLE", "Experts", "mix_experts", "SyntheticTasks", "mmoe_synthetic",
           "task_correlation_grid", "best_within", "stored_task_correlation_grid",
           "cross_entropy_watch_time", "completion_targets", "LengthAdjustment", "VideoModel",
           "ThreeTower", "multiply_adds", "request_cost"]
