"""Item cold start (物品冷启动), chapter 7: metrics, channels and id fixes (07a), traffic control and A/B (07b).

Importing this package loads torch (the content-similarity model); the other modules need only numpy.
"""
from course.coldstart.channels import (ClusterRecall, LookalikeRecall, TagRecall, category_tags, keyword_tags,
                                       last_n_clicks, new_note_mask)
from course.coldstart.content_similarity import (ContentEncoder, VectorLastNRecall, itemcf_positive_pairs,
                                                 triplet_loss_fn)
from course.coldstart.id_embedding import default_id_codes, init_from_similar, recall_by_age_pools
from course.coldstart.traffic import (TrafficPolicy, TrafficRule, additive_boost, dynamic_boost_factor,
                                      expected_posts, guarantee_success, multiplicative_boost, simulate)
from course.coldstart.metrics import (author_side_metrics, consumption, exposure_curves, high_heat_share,
                                      new_note_click_rate, note_age)

__all__ = ["author_side_metrics", "new_note_click_rate", "consumption", "high_heat_share", "exposure_curves",
           "note_age", "category_tags", "keyword_tags", "last_n_clicks", "new_note_mask", "TagRecall",
           "ClusterRecall", "LookalikeRecall", "default_id_codes", "init_from_similar", "recall_by_age_pools",
           "TrafficRule", "TrafficPolicy", "additive_boost", "multiplicative_boost", "dynamic_boost_factor",
           "guarantee_success", "expected_posts", "simulate", "ContentEncoder", "VectorLastNRecall",
           "itemcf_positive_pairs", "triplet_loss_fn"]
