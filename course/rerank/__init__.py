"""Reranking (重排), chapter 6: MMR (06a), business rules (06b), DPP (06c), in notebooks 06a–06c.

- :mod:`course.rerank.mmr`: maximal marginal relevance, with a sliding window;
- :mod:`course.rerank.rules`: at most k in a row, 1 in every k, k in the first t, as filters;
- :mod:`course.rerank.dpp`: the DPP kernel, fast greedy MAP (incremental Cholesky), its window.
"""
from course.rerank.dpp import dpp, dpp_kernel, naive_dpp
from course.rerank.mmr import mmr
from course.rerank.rules import MaxConsecutive, MaxInFirst, OnePerWindow, Rule, allowed_by

__all__ = ["mmr", "dpp", "naive_dpp", "dpp_kernel", "Rule", "MaxConsecutive",
           "OnePerWindow", "MaxInFirst", "allowed_by"]
