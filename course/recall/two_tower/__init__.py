"""Two-tower recall (双塔模型): model, losses, features, negatives and updates (notebooks 02b, 02c)."""
from course.recall.two_tower.features import (TowerFeatures, id_features, movielens_features, quantile_buckets,
                                              world_features)
from course.recall.two_tower.losses import (OBJECTIVES, in_batch_softmax_loss, listwise_softmax_loss,
                                            log_sampling_probability, make_loss_fn, pointwise_loss,
                                            triplet_hinge_loss, triplet_logistic_loss)
from course.recall.two_tower.model import Tower, TwoTowerConfig, TwoTowerModel, encode, recommend
from course.recall.two_tower.negatives import (exposed_unclicked_pool, hard_negative_pool, make_negative_sampler,
                                               mix_negatives, popularity_negatives, popularity_probabilities,
                                               sample_from_pool)
from course.recall.two_tower.updates import (embedding_parameter_names, full_plus_incremental, full_update,
                                             id_embedding_rows, incremental_update, time_ordered)

__all__ = ["TwoTowerConfig", "Tower", "TwoTowerModel", "encode", "recommend",
           "TowerFeatures", "id_features", "quantile_buckets", "world_features", "movielens_features",
           "OBJECTIVES", "pointwise_loss", "triplet_hinge_loss", "triplet_logistic_loss",
           "listwise_softmax_loss", "in_batch_softmax_loss", "log_sampling_probability", "make_loss_fn",
           "popularity_probabilities", "popularity_negatives", "hard_negative_pool",
           "exposed_unclicked_pool", "sample_from_pool", "mix_negatives", "make_negative_sampler",
           "embedding_parameter_names", "id_embedding_rows", "full_update", "incremental_update",
           "full_plus_incremental", "time_ordered"]
