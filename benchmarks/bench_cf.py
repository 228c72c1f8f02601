"""Benchmark: collaborative-filtering recall (ItemCF, Swing) against the loops they replace.

Three data sets, each a users x items matrix of behaviour weights:

- a small random matrix;
- MovieLens-100K, the train matrix of the Microsoft Recommenders split (ratings as weights);
- the large simulated world (50,000 users, ~82,500 notes): clicks of its 8 logged days, weighted
  click 1, like 2, share 3, collect 2, comment 2 as in notebook ``02a``.

Rows:

- ItemCF fit: sparse cosine ``Rᵀ R`` vs the usual Python loop (for each item i, for each of its
  users u, for each item j of u: accumulate r_ui · r_uj; then divide by the norms).
- Swing fit: per-item sparse products vs the usual per-user-pair loop (what Flink ML's Swing
  does: for each item, every pair of its users, intersect their item sets).
- ItemCF vs ``implicit.nearest_neighbours.CosineRecommender`` (not a course dependency: the
  rows are skipped when ``implicit`` is missing), both keeping the K = 100 most similar items.
- The item → top-k index (pruning the similarity to each item's K best): a loop over rows vs
  :func:`~course.recall.cf.top_n.keep_top_k_per_row`.
- Online scoring on the large world: the note's n·k index (last-n items × top-k neighbours) vs
  the full ``R[users] @ S``; not the same numbers (the index is a restriction), see the note.

The naive loops run over the whole catalogue and their similarity is checked against the
course's (to 1e-10 of the largest value) before a ratio is reported. ``quality()`` adds a second
table to RESULTS.md: nDCG / precision / recall @10 on MovieLens-100K under Microsoft
Recommenders' protocol, beside their published numbers, from
:func:`~course.evaluation.movielens.movielens_benchmark_table`, the function notebooks
``02a`` (collaborative filtering) and ``02f`` (the two-tower row) print it with
(``tests/test_benchmark_results.py`` checks that the numbers agree).

Run ``python -m benchmarks.bench_cf`` (add ``--quick`` for small sizes).
"""
from __future__ import annotations

import itertools
import math
import sys
from collections import defaultdict

import numpy as np
import scipy.sparse as sp

from benchmarks.timing import best_time, result_row
from course.datasets import DatasetNotInstalledError
from course.recall.cf import (ItemCF, keep_top_k_per_row, score_from_index, Swing,
                              user_to_last_items)
from course.evaluation.movielens import cf_models, movielens_benchmark_table, split_matrices
from course.evaluation.movielens_two_tower import movielens_two_tower

WEIGHTS = {"click": 1, "like": 2, "share": 3, "collect": 2, "comment": 2}  # as in notebook 02a
IMPLICIT_K = 100       # neighbours kept per item in the implicit comparison


def random_interactions(n_users: int, n_items: int, density: float, seed: int) -> sp.csr_matrix:
    """Behaviour weights 1/2/3 (click / like / share) on a random sparsity pattern."""
    rng = np.random.default_rng(seed)
    mask = rng.random((n_users, n_items)) < density
    return sp.csr_matrix(np.where(mask, rng.choice([1.0, 2.0, 3.0], (n_users, n_items)), 0.0))


def movielens_train() -> sp.csr_matrix:
    """The (943, 1682) train matrix of the recommenders split, ratings as weights."""
    from course.datasets import movielens_100k
    return split_matrices(movielens_100k().ratings)[0]


def world_behaviour_matrix(size: str = "large") -> sp.csr_matrix:
    """(n_users, n_items) sum of behaviour weights over the clicked impressions of a world."""
    from course import world as W
    world = W.generate(size)
    clicked = world.impressions[world.impressions["click"] == 1]
    weight = sum(w * clicked[action] for action, w in WEIGHTS.items())
    return sp.csr_matrix((weight.to_numpy(float), (clicked["user_id"], clicked["item_id"])),
                         shape=(len(world.users), len(world.items)))


def adjacency(R: sp.csr_matrix) -> tuple[list[dict], list[dict]]:
    """The naive loops' inputs: per user {item: weight}, per item {user: weight}."""
    columns = R.tocsc()
    items_of = [dict(zip(R.indices[R.indptr[u]:R.indptr[u + 1]].tolist(),
                         R.data[R.indptr[u]:R.indptr[u + 1]].tolist())) for u in range(R.shape[0])]
    users_of = [dict(zip(columns.indices[columns.indptr[i]:columns.indptr[i + 1]].tolist(),
                         columns.data[columns.indptr[i]:columns.indptr[i + 1]].tolist()))
                for i in range(R.shape[1])]
    return items_of, users_of


def naive_itemcf(items_of, users_of):
    """ItemCF's naive loop: returns ``row(i) -> {j: cosine}`` (the norms are computed once)."""
    norms = [math.sqrt(sum(w * w for w in users.values())) for users in users_of]

    def row(i: int) -> dict[int, float]:
        dot = defaultdict(float)
        for u, w_ui in users_of[i].items():        # every user of i ...
            for j, w_uj in items_of[u].items():    # ... and every other item of that user
                if j != i:
                    dot[j] += w_ui * w_uj
        return {j: value / (norms[i] * norms[j]) for j, value in dot.items()}

    return row


def naive_swing(items_of, users_of, alpha: float = 1.0):
    """Swing's naive loop: returns ``row(i) -> {j: sim}`` (the item sets are built once)."""
    item_sets = [set(items) for items in items_of]

    def row(i: int) -> dict[int, float]:
        similarity = defaultdict(float)
        for u, v in itertools.combinations(users_of[i], 2):   # every pair of i's users
            common = item_sets[u] & item_sets[v]
            weight = 1.0 / (alpha + len(common))
            for j in common:
                if j != i:
                    similarity[j] += weight
        return dict(similarity)

    return row


def assert_rows_equal(naive: dict, similarity: sp.csr_matrix) -> None:
    """The naive rows {i: {j: sim}} and the course's similarity agree (to 1e-10 of the largest)."""
    rows = np.repeat(np.fromiter(naive, dtype=np.int64), [len(row) for row in naive.values()])
    columns = np.fromiter((j for row in naive.values() for j in row), dtype=np.int64, count=rows.size)
    values = np.fromiter((v for row in naive.values() for v in row.values()), dtype=float, count=rows.size)
    expected = sp.csr_matrix((values, (rows, columns)), shape=similarity.shape)
    mask = sp.csr_matrix((np.ones(len(naive)), (list(naive), list(naive))), shape=similarity.shape)
    gap = abs(expected - mask @ similarity)  # only the rows the naive loop computed
    # Swing sums thousands of terms per entry on real data, in another order than the loop:
    # the tolerance is relative to the largest similarity
    scale = max(1.0, abs(expected).max())
    assert gap.nnz == 0 or gap.max() <= 1e-10 * scale, \
        f"naive and course similarities differ by {gap.max()} (largest value {scale})"


def fit_rows(case: str, R: sp.csr_matrix) -> list[dict]:
    """ItemCF and Swing fit against their naive loops over the whole catalogue."""
    items_of, users_of = adjacency(R)
    _, adjacency_seconds = best_time(lambda: adjacency(R))  # part of each naive fit
    out = []
    for name, model, naive, baseline in [
            ("ItemCF", ItemCF, naive_itemcf, "Python co-occurrence loop"),
            ("Swing", Swing, naive_swing, "per-user-pair Python loop")]:
        fitted, fast_seconds = best_time(lambda: model().fit(R), repeats=3)
        row, prepare_seconds = best_time(lambda: naive(items_of, users_of))
        naive_rows, naive_seconds = best_time(lambda: {i: row(i) for i in range(R.shape[1])})
        assert_rows_equal(naive_rows, fitted.similarity_)
        out.append(result_row("cf", f"{name} fit, {case}", baseline, f"course {name}",
                        adjacency_seconds + prepare_seconds + naive_seconds, fast_seconds,
                        "same similarity (to 1e-10 of its largest value)"))
    return out


def implicit_row(case: str, R: sp.csr_matrix) -> list[dict]:
    """ItemCF with K neighbours per item against implicit's CosineRecommender(K)."""
    try:
        from implicit.nearest_neighbours import CosineRecommender
    except ImportError:
        return []
    peer = CosineRecommender(K=IMPLICIT_K)  # implicit's fit returns None, not self
    _, implicit_seconds = best_time(lambda: peer.fit(R, show_progress=False))
    ours, course_seconds = best_time(lambda: ItemCF(top_k_neighbours=IMPLICIT_K).fit(R))
    theirs = sp.csr_matrix(peer.similarity)
    theirs.setdiag(0)  # implicit counts the item itself (similarity 1) among its K
    theirs.eliminate_zeros()
    both = theirs.multiply(ours.similarity_ != 0)  # the pairs both kept
    gap = np.abs(both - ours.similarity_.multiply(theirs != 0)).max()
    kept = both.nnz / theirs.nnz
    return [result_row("cf", f"ItemCF fit, top-{IMPLICIT_K} neighbours, {case}", "implicit CosineRecommender",
                 "course ItemCF", implicit_seconds, course_seconds,
                 f"{kept:.1%} of implicit's pairs also kept by ours (it keeps K-1 others), "
                 f"cosine equal to {gap:.0e}; both on the threads OMP_NUM_THREADS allows")]


def naive_keep_top_k(similarity: sp.csr_matrix, k: int) -> sp.csr_matrix:
    """The item → top-k index by a loop over rows: sort each row, keep its k best."""
    rows, columns, values = [], [], []
    for i in range(similarity.shape[0]):
        start, stop = similarity.indptr[i], similarity.indptr[i + 1]
        cols, vals = similarity.indices[start:stop], similarity.data[start:stop]
        best = np.lexsort((cols, -vals))[:k]            # score desc, then column asc
        best = best[vals[best] > 0]
        rows += [i] * best.size
        columns += cols[best].tolist()
        values += vals[best].tolist()
    return sp.csr_matrix((values, (rows, columns)), shape=similarity.shape)


def top_k_index_row(R: sp.csr_matrix, case: str, k: int = IMPLICIT_K) -> dict:
    """Pruning a fitted similarity to each item's k best: row loop vs the vectorised version."""
    similarity = ItemCF().fit(R).similarity_
    expected, naive_seconds = best_time(lambda: naive_keep_top_k(similarity, k))
    pruned, fast_seconds = best_time(lambda: keep_top_k_per_row(similarity, k), repeats=3)
    assert (expected != pruned).nnz == 0, "the two top-k indexes differ"
    return result_row("cf", f"keep top-{k} per item of the ItemCF similarity ({similarity.nnz:,} entries), {case}",
                "loop over rows: sort, keep k", "keep_top_k_per_row", naive_seconds, fast_seconds,
                "same index (ties to the smaller id); rows grouped by length for np.partition")


def online_row(R: sp.csr_matrix, case: str, n_users: int = 1000) -> dict:
    """Top-50 for a batch of users: the full product vs the n·k index, same fitted model."""
    model = ItemCF().fit(R)
    batch = np.flatnonzero(np.diff(R.indptr) > 0)[:n_users]  # users with a history
    n_last, k = 20, 20
    last_items, last_weights = user_to_last_items(R, n_last)
    neighbours, sims = model.item_to_items(k)
    full, full_seconds = best_time(lambda: model.recommend(batch, 50, exclude=R[batch])[0], repeats=3)
    index, index_seconds = best_time(lambda: score_from_index(last_items[batch], last_weights[batch],
                                                          neighbours, sims, 50, exclude=R[batch]),
                                 repeats=3)
    overlap = np.mean([len(set(a[a >= 0]) & set(b[b >= 0])) / max(1, (a >= 0).sum())
                       for a, b in zip(full, index[0])])
    return result_row("cf", f"top-50 for {batch.size} users, {case}", "full R[users] @ S",
                f"index n={n_last}, k={k}", full_seconds, index_seconds,
                f"different outputs by design: {overlap:.0%} of the full top-50 also in the index's")


def run(quick: bool = False) -> list[dict]:
    rows = fit_rows("random 120 x 80, density 0.1" if quick else "random 300 x 200, density 0.1",
                    random_interactions(*((120, 80) if quick else (300, 200)), 0.1, seed=0))
    try:
        movielens = movielens_train()
    except DatasetNotInstalledError as error:
        print(f"bench_cf: MovieLens rows skipped: {error}", file=sys.stderr)
    else:
        case = f"MovieLens-100K train {movielens.shape[0]} x {movielens.shape[1]}"
        if not quick:  # the naive Swing loop takes ~40 s here
            rows += fit_rows(case, movielens)
        rows += implicit_row(case, movielens)
    world = world_behaviour_matrix("tiny" if quick else "large")
    case = f"{'tiny' if quick else 'large'} world {world.shape[0]} x {world.shape[1]}"
    rows += fit_rows(case, world)
    rows += implicit_row(case, world)
    rows.append(top_k_index_row(world, case))
    rows.append(online_row(world, case, n_users=200 if quick else 1000))
    return rows


def quality(quick: bool = False) -> dict:
    """{title: DataFrame}: the MovieLens-100K quality table (quick: popularity and ItemCF only).

    The two-tower row is :func:`~course.evaluation.movielens_two_tower.movielens_two_tower` with the
    settings of notebook ``02f`` (chosen on validation in ``02e``), which prints the same numbers.
    """
    models = cf_models()
    if quick:
        models = {name: models[name] for name in ("popularity", "ItemCF")}
    else:
        models["two-tower, in-batch + logQ"] = movielens_two_tower()
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
