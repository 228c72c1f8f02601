"""Offline evaluation protocols on public data: MovieLens-100K for CF, two towers and multi-task ranking (notebooks 02a, 02e, 02f, 03b).

Modules are not imported here: :mod:`course.evaluation.movielens` (the protocol and the CF
benchmark table), :mod:`course.evaluation.movielens_two_tower` (the two-tower harness, which
loads torch) and :mod:`course.evaluation.movielens_multitask` (MovieLens as a two-task funnel,
rated then liked, for the multi-task rankers of notebook 03b).
"""
