"""Offline evaluation protocols on public data: MovieLens-100K for CF and two towers (notebooks 02a, 02e, 02f).

Modules are not imported here: :mod:`course.evaluation.movielens` (the protocol and the CF
benchmark table) and :mod:`course.evaluation.movielens_two_tower` (the two-tower harness, which
loads torch).
"""
