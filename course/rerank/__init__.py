"""Reranking (重排), chapter 6: similarity, MMR and rules (notebook 06a), DPP (notebook 06b).

- :mod:`course.rerank.similarity`: item similarity by category tree and tags, by vectors, and
  how good a note's neighbours are in the world's true geometry;
- :mod:`course.rerank.mmr`: maximal marginal relevance, with a sliding window;
- :mod:`course.rerank.rules`: at most k in a row, 1 in every k, k in the first t, as filters;
- :mod:`course.rerank.dpp`: the DPP kernel, fast greedy MAP (incremental Cholesky), its window.
"""
from course.rerank.dpp import dpp, dpp_kernel, naive_dpp
from course.rerank.mmr import mmr
from course.rerank.rules import MaxConsecutive, MaxInFirst, OnePerWindow, Rule, allowed_by
from course.rerank.similarity import (cosine_similarity, neighbour_quality, tag_similarity, tag_vectors,
                                       two_tower_item_vectors)

__all__ = ["mmr", "dpp", "naive_dpp", "dpp_kernel", "Rule", "MaxConsecutive",
           "OnePerWindow", "MaxInFirst", "allowed_by", "tag_vectors", "tag_similarity", "cosine_similarity",
           "neighbour_quality", "two_tower_item_vectors"]
