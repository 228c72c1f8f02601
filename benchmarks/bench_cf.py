"""Benchmark: collaborative-filtering recall (ItemCF, Swing) against the loops they replace.

- ItemCF fit: sparse cosine ``Rᵀ R`` vs a per-item-pair Python loop over common users.
- Swing fit: per-item sparse products vs the usual per-user-pair loop (what Flink ML's Swing
  does: for each item, every pair of its users, intersect their item sets).
- Online scoring: the note's n·k index (last-n items × top-k neighbours) vs the full
  ``R[users] @ S``; not the same numbers (the index is a restriction), see the note column.
- ItemCF vs ``implicit.nearest_neighbours.CosineRecommender`` when ``implicit`` is importable
  (it is not a course dependency; the row is skipped otherwise).

``quality()`` adds a second table to RESULTS.md: nDCG / precision / recall @10 on
MovieLens-100K under Microsoft Recommenders' protocol, beside their published numbers, from
the same :func:`~course.recall.movielens_protocol.movielens_benchmark_table` the notebook
``02a_collaborative_filtering`` prints.

Each pair is timed on the same seeded matrix in the same run, and the outputs are checked to
agree before a ratio (baseline seconds / contender seconds) is reported.

Run ``python -m benchmarks.bench_cf`` (add ``--quick`` for small sizes).
"""
from __future__ import annotations

import itertools
import math
import sys
import time

import numpy as np
import scipy.sparse as sp

from course.datasets import DatasetNotInstalledError
from course.recall import ItemCF, Swing, score_from_index, user_to_last_items
from course.recall.movielens_protocol import cf_models, movielens_benchmark_table


def random_interactions(n_users: int, n_items: int, density: float, seed: int) -> sp.csr_matrix:
    """Behaviour weights 1/2/3 (click / like / share) on a random sparsity pattern."""
    rng = np.random.default_rng(seed)
    mask = rng.random((n_users, n_items)) < density
    return sp.csr_matrix(np.where(mask, rng.choice([1.0, 2.0, 3.0], (n_users, n_items)), 0.0))


def naive_itemcf(R: sp.csr_matrix) -> np.ndarray:
    """Cosine for every item pair with Python dicts of user -> weight."""
    columns = R.tocsc()
    users_of = [dict(zip(columns.indices[columns.indptr[i]:columns.indptr[i + 1]],
                         columns.data[columns.indptr[i]:columns.indptr[i + 1]]))
                for i in range(R.shape[1])]
    norms = [math.sqrt(sum(w * w for w in users.values())) for users in users_of]
    sim = np.zeros((R.shape[1], R.shape[1]))
    for i, j in itertools.combinations(range(R.shape[1]), 2):
        common = users_of[i].keys() & users_of[j].keys()
        if common:
            sim[i, j] = sim[j, i] = (sum(users_of[i][u] * users_of[j][u] for u in common)
                                     / (norms[i] * norms[j]))
    return sim


def naive_swing(R: sp.csr_matrix, alpha: float = 1.0) -> np.ndarray:
    """Swing as usually written: per item, every pair of its users, intersect their item sets."""
    items_of = [set(R.indices[R.indptr[u]:R.indptr[u + 1]]) for u in range(R.shape[0])]
    columns = R.tocsc()
    sim = np.zeros((R.shape[1], R.shape[1]))
    for i in range(R.shape[1]):
        users = columns.indices[columns.indptr[i]:columns.indptr[i + 1]]
        for u, v in itertools.combinations(users, 2):
            common = items_of[u] & items_of[v]
            weight = 1.0 / (alpha + len(common))
            for j in common:
                if j != i:
                    sim[i, j] += weight
    return sim


def _time(function, repeats: int = 1):
    best, result = math.inf, None
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        best = min(best, time.perf_counter() - start)
    return result, best


def _row(benchmark, case, baseline, contender, baseline_seconds, contender_seconds, note):
    return {"benchmark": benchmark, "case": case, "baseline": baseline, "contender": contender,
            "baseline_seconds": baseline_seconds, "contender_seconds": contender_seconds,
            "ratio": baseline_seconds / contender_seconds, "note": note}


def run(quick: bool = False) -> list[dict]:
    rows = []
    n_users, n_items, density = (120, 80, 0.1) if quick else (300, 200, 0.1)
    R = random_interactions(n_users, n_items, density, seed=0)
    case = f"{n_users} users x {n_items} items, density {density}"

    expected, naive_seconds = _time(lambda: naive_itemcf(R))
    model, fast_seconds = _time(lambda: ItemCF().fit(R), repeats=3)
    np.testing.assert_allclose(model.similarity_.toarray(), expected, atol=1e-12)
    rows.append(_row("cf", f"ItemCF fit, {case}", "per-pair Python loop", "course ItemCF",
                     naive_seconds, fast_seconds, "same similarity (atol 1e-12)"))

    expected, naive_seconds = _time(lambda: naive_swing(R))
    model, fast_seconds = _time(lambda: Swing().fit(R), repeats=3)
    np.testing.assert_allclose(model.similarity_.toarray(), expected, atol=1e-12)
    rows.append(_row("cf", f"Swing fit, {case}", "per-user-pair Python loop", "course Swing",
                     naive_seconds, fast_seconds, "same similarity (atol 1e-12)"))

    # Online: a batch of users, full product vs the n·k index (both from the same fitted model).
    n_users, n_items, density = (1000, 2000, 0.01) if quick else (5000, 20000, 0.002)
    R = random_interactions(n_users, n_items, density, seed=1)
    model = ItemCF().fit(R)
    batch = np.arange(min(n_users, 1000))
    n_last, k = 20, 20
    last_items, last_weights = user_to_last_items(R, n_last)
    neighbours, sims = model.item_to_items(k)
    repeats = 3 if quick else 1  # the full product takes seconds at full size
    full, full_seconds = _time(lambda: model.recommend(batch, 50), repeats=repeats)
    index, index_seconds = _time(lambda: score_from_index(last_items[batch], last_weights[batch],
                                                          neighbours, sims, 50, seen=R[batch]),
                                 repeats=repeats)
    overlap = np.mean([len(set(a[a >= 0]) & set(b[b >= 0])) / max(1, (a >= 0).sum())
                       for a, b in zip(full, index[0])])
    rows.append(_row("cf", f"top-50 for {batch.size} users, {n_users} x {n_items}",
                     "full R[users] @ S", f"index n={n_last}, k={k}", full_seconds,
                     index_seconds, f"different outputs by design: {overlap:.0%} of the full "
                     "top-50 also in the index's"))

    try:
        from implicit.nearest_neighbours import CosineRecommender
    except ImportError:
        return rows
    R = random_interactions(*((1000, 2000, 0.01) if quick else (5000, 20000, 0.002)), seed=2)
    _, implicit_seconds = _time(lambda: CosineRecommender(K=R.shape[1]).fit(R, show_progress=False))
    _, course_seconds = _time(lambda: ItemCF().fit(R))
    rows.append(_row("cf", f"ItemCF fit, {R.shape[0]} x {R.shape[1]}", "implicit CosineRecommender",
                     "course ItemCF", implicit_seconds, course_seconds,
                     "implicit keeps K neighbours per item; K = n_items here"))
    return rows


def quality(quick: bool = False) -> dict:
    """{title: DataFrame}: the MovieLens-100K quality table (quick: popularity and ItemCF only)."""
    models = cf_models()
    if quick:
        models = {name: models[name] for name in ("popularity", "ItemCF")}
    try:
        table = movielens_benchmark_table(models)
    except DatasetNotInstalledError as error:  # the data comes from an optional package
        print(f"bench_cf.quality skipped: {error}", file=sys.stderr)
        return {}
    return {"MovieLens-100K quality (Microsoft Recommenders protocol: stratified 75/25, "
            "seed 42, seen items removed, top-10)": table}


if __name__ == "__main__":
    for row in run(quick="--quick" in sys.argv):
        print(f"{row['case']:<55} {row['baseline']:>28} {row['baseline_seconds']:9.4f}s  "
              f"{row['contender']:>22} {row['contender_seconds']:9.4f}s  x{row['ratio']:8.1f}  "
              f"{row['note']}")
    for title, table in quality(quick="--quick" in sys.argv).items():
        print(f"\n{title}\n{table.to_string(index=False, float_format=lambda x: f'{x:.4f}')}")
