"""Features (特征) for ranking and beyond, chapters 3–8; notebook 03a shows them.

- :class:`FeatureBuilder` (``fit`` on training impressions, ``transform`` any impressions) turns
  the world's logs and profiles into a :class:`FeatureSet`: categorical codes, standardised
  numeric values, targets, ids, coverage;
- :class:`FeatureEmbedding` turns a batch of it into a (B, F, D) tensor of field vectors, and
  :class:`FeatureModel` puts any model on top of it (a shared bottom, MMoE, DCN …);
- :func:`window_sums` and :func:`smoothed_rate`, the statistics' building blocks.

Examples
--------
>>> from course.features import smoothed_rate
>>> float(smoothed_rate(1, 2, prior=0.1, strength=8))   # (1 + 0.8) / (2 + 8)
0.18
"""
from course.features.builder import DEFAULT_MISSING_PROFILES, FeatureBuilder, same_category_above
from course.features.embedding import FeatureEmbedding, FeatureModel
from course.features.featureset import BINARY_TARGETS, FLOAT_TARGETS, FeatureSet
from course.features.statistics import smoothed_rate, window_sums

__all__ = ["FeatureBuilder", "FeatureSet", "FeatureEmbedding", "window_sums", "smoothed_rate",
           "DEFAULT_MISSING_PROFILES", "same_category_above", "FeatureModel", "BINARY_TARGETS", "FLOAT_TARGETS"]
