"""Benchmark: vectorised GAUC and NDCG@k against the per-user Python loops they replace.

Each case times a naive baseline and the ``course.metrics`` contender on the same seeded data
in the same run, checks that both give the same number, and reports ``baseline / contender``.

What to expect: GAUC gains one to two orders of magnitude, because the loop pays pandas and
per-call overhead for each of 50,000 small users. NDCG@k gains little (about 1-2x, less than 1x
on small inputs): the naive loop is already linear, one cheap set lookup per slot, and the
vectorised version must first turn Python lists and sets into arrays, which costs about as much.
It pays when the lists are already a 2-D array (e.g. from a batched top-k) and k is large.

Run ``python -m benchmarks.bench_metrics`` (add ``--quick`` for the small sizes).
"""
from __future__ import annotations

import math
import sys
import time

import numpy as np
import pandas as pd

from course.metrics import auc, gauc, ndcg_at_k


def naive_auc(labels: np.ndarray, scores: np.ndarray) -> float:
    """AUC by counting every (positive, negative) pair in pure Python; a tie is worth one half."""
    positives = [s for s, y in zip(scores, labels) if y == 1]
    negatives = [s for s, y in zip(scores, labels) if y == 0]
    wins = 0.0
    for p in positives:
        for n in negatives:
            wins += 1.0 if p > n else 0.5 if p == n else 0.0
    return wins / (len(positives) * len(negatives))


def loop_gauc(users, labels, scores, user_auc=naive_auc) -> float:
    """GAUC the way it is usually first written: group by user, call an AUC per user."""
    numerator = denominator = 0.0
    frame = pd.DataFrame({"user": users, "label": labels, "score": scores})
    for _, group in frame.groupby("user", sort=False):
        y = group["label"].to_numpy()
        if 0 < y.sum() < len(y):
            numerator += len(y) * user_auc(y, group["score"].to_numpy())
            denominator += len(y)
    return numerator / denominator


def naive_ndcg(recommended, relevant, k: int) -> float:
    """NDCG@k with binary relevance: a Python loop over users and positions."""
    total, counted = 0.0, 0
    for items, wanted in zip(recommended, relevant):
        if not wanted:
            continue
        dcg = sum(1.0 / math.log2(i + 2) for i, item in enumerate(items[:k]) if item in wanted)
        ideal = sum(1.0 / math.log2(i + 2) for i in range(min(k, len(wanted))))
        total += dcg / ideal
        counted += 1
    return total / counted


def _time(function, *args, repeats: int = 1):
    best, result = math.inf, None
    for _ in range(repeats):
        start = time.perf_counter()
        result = function(*args)
        best = min(best, time.perf_counter() - start)
    return result, best


def _row(benchmark, case, baseline, contender, baseline_run, contender_run, note=""):
    (baseline_value, baseline_seconds), (contender_value, contender_seconds) = baseline_run, contender_run
    if not math.isclose(baseline_value, contender_value, rel_tol=1e-9, abs_tol=1e-12):
        raise AssertionError(f"{benchmark}/{case}: {baseline} gave {baseline_value}, {contender} {contender_value}")
    return {
        "benchmark": benchmark,
        "case": case,
        "baseline": baseline,
        "contender": contender,
        "baseline_seconds": baseline_seconds,
        "contender_seconds": contender_seconds,
        "ratio": baseline_seconds / contender_seconds,
        "note": note or f"both = {contender_value:.6f}",
    }


def run(quick: bool = False) -> list[dict]:
    """Time the cases; ``quick=True`` uses sizes that finish in a couple of seconds."""
    rng = np.random.default_rng(0)
    rows = []

    sizes = [(10_000, 500, naive_auc, "pairwise Python AUC"),
             (10_000, 500, auc, "course.metrics.auc")] if quick else \
            [(1_000_000, 50_000, naive_auc, "pairwise Python AUC"),
             (100_000, 5_000, auc, "course.metrics.auc")]  # ~1 ms of checks per call: fewer users
    for n_impressions, n_users, user_auc, auc_name in sizes:
        users = rng.integers(0, n_users, n_impressions)
        labels = (rng.random(n_impressions) < 0.3).astype(int)
        scores = np.round(rng.random(n_impressions) + 0.3 * labels, 3)  # some ties, as in real logs
        rows.append(_row("gauc", f"{n_impressions:,} impressions / {n_users:,} users",
                         f"per-user loop calling {auc_name}", "course.metrics.gauc",
                         _time(loop_gauc, users, labels, scores, user_auc),  # seconds long: one run
                         _time(gauc, users, labels, scores, repeats=3)))

    n_lists, n_items, length = (2_000, 1_000, 50) if quick else (50_000, 10_000, 50)
    recommended = [rng.choice(n_items, length, replace=False).tolist() for _ in range(n_lists)]
    relevant = [set(rng.choice(n_items, rng.integers(1, 20), replace=False).tolist()) for _ in range(n_lists)]
    as_array = np.array(recommended)  # (n_lists, length): what a batched top-k retrieval returns
    for k in (10, 50):
        case = f"{n_lists:,} lists of {length}, k={k}"
        baseline = _time(naive_ndcg, recommended, relevant, k, repeats=3)
        rows.append(_row("ndcg_at_k", case, "Python loop over users and positions",
                         "course.metrics.ndcg_at_k on lists", baseline,
                         _time(ndcg_at_k, recommended, relevant, k, repeats=3),
                         note="turning the ragged Python lists into arrays is about half of the contender's time"))
        rows.append(_row("ndcg_at_k", case, "Python loop over users and positions",
                         "course.metrics.ndcg_at_k on a 2-D array", baseline,
                         _time(ndcg_at_k, as_array, relevant, k, repeats=3)))
    return rows


if __name__ == "__main__":
    for row in run(quick="--quick" in sys.argv):
        print(f"{row['benchmark']:10s} {row['case']:38s} {row['baseline']:42s} {row['contender']:38s} "
              f"{row['baseline_seconds']:8.3f}s / {row['contender_seconds']:7.4f}s = x{row['ratio']:.1f}")
