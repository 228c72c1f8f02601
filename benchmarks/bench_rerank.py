"""Benchmark: greedy reranking (chapter 6) against the greedy loops it replaces.

n = 1000 candidates with N(0, 1) rewards, S = cosine similarities of random unit vectors in
64 dimensions (a PSD kernel of rank 64), lists of k = 50, θ = 0.7.

- DPP: the fast greedy MAP of Chen, Zhang & Zhou (NeurIPS 2018, arXiv 1709.05135; the
  incremental Cholesky, O(k²n)) against the log-determinant greedy (a ``slogdet`` per candidate
  per step, :func:`course.rerank.naive_dpp`, O(k⁴n) with a Python loop over candidates) and
  against the same greedy with the determinants batched over candidates in numpy (one stacked
  ``slogdet`` per step): what vectorising without the algorithm buys. Also with a window of 10.
  The paper reports its fast greedy hundreds of times faster than the naive one. Both sides
  skip the O(n³) PSD check (``check_kernel=False``); one row shows it on both sides.
- MMR: the running maximum (O(n) per step) against the plain loop recomputing max over S for
  every candidate in Python, and against numpy recomputing ``S[:, picked].max(axis=1)`` every
  step (O(n·|S|)). With a window of 10: the van Herk / Gil-Werman window max against the same.

Every pair is checked to pick the same items before a ratio is reported.

Run ``python -m benchmarks.bench_rerank`` (add ``--quick`` for small sizes).
"""
from __future__ import annotations

import sys

import numpy as np

from benchmarks.timing import best_time, result_row
from course.rerank import dpp, dpp_kernel, mmr, naive_dpp

THETA = 0.7


def problem(n: int, dim: int = 64, seed: int = 0):
    rng = np.random.default_rng(seed)
    vectors = rng.normal(size=(n, dim))
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return rng.normal(size=n), vectors @ vectors.T


def batched_dpp(rewards, similarity, k, theta, window=None, eps=1e-10):
    """The log-det greedy with each step's determinants stacked: ``slogdet`` of (n, m+1, m+1)."""
    L, alpha = dpp_kernel(rewards, similarity, theta), theta / (2 * (1 - theta))
    n, picked, taken = len(rewards), [], np.zeros(len(rewards), dtype=bool)
    for _ in range(k):
        W = picked if window is None else picked[max(0, len(picked) - window + 1):]
        T = np.column_stack([np.tile(W, (n, 1)).astype(np.int64), np.arange(n)])   # (n, m+1)
        sign, logdet = np.linalg.slogdet(L[T[:, :, None], T[:, None, :]])       # (n,) of (m+1)²
        base = np.linalg.slogdet(L[np.ix_(W, W)])[1] if W else 0.0
        feasible = ~taken & (sign > 0) & (np.exp(logdet - base - 2 * alpha * rewards) >= eps)
        if not feasible.any():
            break
        best = int(np.argmax(np.where(feasible, logdet, -np.inf)))
        picked.append(best)
        taken[best] = True
    return np.asarray(picked, dtype=np.int64)


def plain_mmr(rewards, similarity, k, theta, window=None):
    """MMR as first written: every step, every candidate, max over the (windowed) list."""
    n, picked, rows = len(rewards), [], similarity.tolist()
    for _ in range(k):
        S = picked if window is None else picked[-window:]
        best, best_score = -1, -np.inf
        for i in range(n):
            if i in picked:
                continue
            row = rows[i]
            score = (theta * rewards[i] - (1 - theta) * max(row[j] for j in S)) if S else theta * rewards[i]
            if score > best_score:
                best, best_score = i, score
        picked.append(best)
    return np.asarray(picked, dtype=np.int64)


def recompute_mmr(rewards, similarity, k, theta, window=None):
    """MMR vectorised over candidates but recomputing the max over S every step: O(n·|S|)."""
    n, picked, taken = len(rewards), [], np.zeros(len(rewards), dtype=bool)
    for _ in range(k):
        S = picked if window is None else picked[-window:]
        scores = theta * rewards - (1 - theta) * similarity[:, S].max(axis=1) if S else theta * rewards
        best = int(np.argmax(np.where(taken, -np.inf, scores)))
        picked.append(best)
        taken[best] = True
    return np.asarray(picked, dtype=np.int64)


def compare(benchmark, case, baseline_name, baseline, contender_name, contender, repeats, note=""):
    """Time both, check the picks agree, return the row."""
    expected, baseline_seconds = best_time(baseline, 1)
    picked, contender_seconds = best_time(contender, repeats)
    if not np.array_equal(expected, picked):
        raise AssertionError(f"{benchmark}/{case}: {baseline_name} picked {expected[:10]}..., "
                             f"{contender_name} {picked[:10]}...")
    return result_row(benchmark, case, baseline_name, contender_name, baseline_seconds,
                      contender_seconds, note or f"same {len(picked)} picks")


def run(quick: bool = False) -> list[dict]:
    """The rows of RESULTS.md; ``quick=True``: n = 200, k = 20 (a couple of seconds)."""
    n, k, window = (200, 20, 5) if quick else (1000, 50, 10)
    rewards, S = problem(n)
    case, rows = f"n={n}, k={k}", []
    fast = lambda w=None, check=False: dpp(rewards, S, k, THETA, w, check_kernel=check)  # noqa: E731
    rows.append(compare("dpp greedy MAP", case, "naive_dpp (slogdet per candidate)",
                        lambda: naive_dpp(rewards, S, k, THETA, check_kernel=False),
                        "dpp (incremental Cholesky)", fast, repeats=20))
    rows.append(compare("dpp greedy MAP", case, "slogdet batched over candidates",
                        lambda: batched_dpp(rewards, S, k, THETA),
                        "dpp (incremental Cholesky)", fast, repeats=20))
    rows.append(compare("dpp greedy MAP", case + ", with PSD checks", "naive_dpp, check_kernel=True",
                        lambda: naive_dpp(rewards, S, k, THETA),
                        "dpp, check_kernel=True", lambda: fast(check=True), repeats=3,
                        note="both pay one O(n³) eigvalsh"))
    rows.append(compare("dpp greedy MAP", case + f", window={window}", "naive_dpp (slogdet per candidate)",
                        lambda: naive_dpp(rewards, S, k, THETA, window, check_kernel=False),
                        "dpp (Cholesky + Givens downdate)", lambda: fast(window), repeats=20))
    rows.append(compare("mmr", case, "plain loop (max over S per candidate)",
                        lambda: plain_mmr(rewards, S, k, THETA),
                        "mmr (running max)", lambda: mmr(rewards, S, k, THETA), repeats=20))
    rows.append(compare("mmr", case, "numpy max over S every step",
                        lambda: recompute_mmr(rewards, S, k, THETA),
                        "mmr (running max)", lambda: mmr(rewards, S, k, THETA), repeats=20))
    rows.append(compare("mmr", case + f", window={window}", "plain loop (max over S per candidate)",
                        lambda: plain_mmr(rewards, S, k, THETA, window),
                        "mmr (window max)", lambda: mmr(rewards, S, k, THETA, window), repeats=20))
    rows.append(compare("mmr", case + f", window={window}", "numpy max over the window every step",
                        lambda: recompute_mmr(rewards, S, k, THETA, window),
                        "mmr (window max)", lambda: mmr(rewards, S, k, THETA, window), repeats=20))
    return rows


if __name__ == "__main__":
    import pandas as pd
    print(pd.DataFrame(run(quick="--quick" in sys.argv)).to_string(index=False))
