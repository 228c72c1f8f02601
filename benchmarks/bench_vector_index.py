"""Nearest-neighbour search: chunked exact top-k vs a naive loop, IVF vs exact, faiss if present.

Run: ``PYTHONPATH=. python benchmarks/bench_vector_index.py [--quick]``.
"""
from __future__ import annotations

import sys
import time

import numpy as np
from threadpoolctl import threadpool_limits

from benchmarks.timing import best_time, result_row
from course.recall.ann import IVFIndex, exact_top_k, recall_at_k_vs_exact
from course.seed import set_seed

K = 10


def _clustered_vectors(rng, n_points: int, n_centres: int, dim: int) -> np.ndarray:
    # Embeddings of a real catalogue are clustered (topics), which is what makes IVF work.
    centres = rng.normal(size=(n_centres, dim))
    points = centres[rng.integers(n_centres, size=n_points)] + 0.5 * rng.normal(size=(n_points, dim))
    # Two-tower outputs are usually L2-normalised, so inner product = cosine (as for faiss IP).
    return (points / np.linalg.norm(points, axis=1, keepdims=True)).astype(np.float32)


def _naive_top_k(queries: np.ndarray, items: np.ndarray, k: int) -> np.ndarray:
    """One query at a time, full sort of every score: what a first version looks like."""
    return np.stack([np.argsort(-(items @ query), kind="stable")[:k] for query in queries])


def run(quick: bool = False) -> list[dict]:
    """Benchmark rows (see the module docstring); BLAS is limited to one thread.

    One thread is both the serving situation (one request, one core) and the only stable
    measurement on a shared machine: multi-threaded OpenBLAS spins on many small products.
    """
    with threadpool_limits(limits=1):
        return _run(quick)


def _run(quick: bool) -> list[dict]:
    rng = set_seed(0)
    n_items, n_queries, dim, n_lists = (5_000, 200, 32, 32) if quick else (100_000, 1_000, 64, 256)
    repeats = 1 if quick else 3
    items = _clustered_vectors(rng, n_items, 100, dim)
    queries = _clustered_vectors(rng, n_queries, 100, dim)
    case = f"{n_queries} queries x {n_items} items, dim {dim}, k={K}"
    rows = []

    naive, naive_seconds = best_time(lambda: _naive_top_k(queries, items, K), 1)  # slow: once
    (exact, _), exact_seconds = best_time(lambda: exact_top_k(queries, items, K), repeats)
    rows.append(result_row(benchmark="exact top-k", case=case, baseline="per-query loop + full argsort",
                     contender="exact_top_k (chunked matmul + argpartition)",
                     baseline_seconds=naive_seconds, contender_seconds=exact_seconds,
                     note=f"recall vs naive {recall_at_k_vs_exact(exact, naive):.4f}"))

    start = time.perf_counter()
    ivf = IVFIndex(n_lists=n_lists, metric="inner_product", seed=0, max_iter=10).fit(items)
    fit_seconds = time.perf_counter() - start
    for n_probe in (1, 4, 16, 64):
        if n_probe > n_lists:
            continue
        (found, _), seconds = best_time(lambda: ivf.search(queries, K, n_probe=n_probe), repeats)
        rows.append(result_row(benchmark="IVF vs exact", case=f"{case}, n_lists={n_lists}, n_probe={n_probe}",
                         baseline="exact_top_k", contender="IVFIndex.search",
                         baseline_seconds=exact_seconds, contender_seconds=seconds,
                         note=f"recall@{K} vs exact {recall_at_k_vs_exact(found, exact):.3f}; "
                              f"fit (k-means) {fit_seconds:.2f}s"))

    try:
        import faiss  # optional: not a course dependency, rows are skipped without it
    except ImportError:
        return rows
    flat = faiss.IndexFlatIP(dim)
    flat.add(items)
    (_, faiss_exact), faiss_seconds = best_time(lambda: flat.search(queries, K), repeats)
    rows.append(result_row(benchmark="exact top-k", case=case, baseline="faiss IndexFlatIP",
                     contender="exact_top_k", baseline_seconds=faiss_seconds,
                     contender_seconds=exact_seconds,
                     note=f"recall vs faiss {recall_at_k_vs_exact(exact, faiss_exact):.4f}"))
    quantiser = faiss.IndexFlatIP(dim)
    faiss_ivf = faiss.IndexIVFFlat(quantiser, dim, n_lists, faiss.METRIC_INNER_PRODUCT)
    faiss_ivf.train(items)
    faiss_ivf.add(items)
    for n_probe in (1, 4, 16):
        faiss_ivf.nprobe = n_probe
        (_, found), faiss_seconds = best_time(lambda: faiss_ivf.search(queries, K), repeats)
        (ours, _), ours_seconds = best_time(lambda: ivf.search(queries, K, n_probe=n_probe), repeats)
        rows.append(result_row(benchmark="IVF vs faiss", case=f"{case}, n_lists={n_lists}, n_probe={n_probe}",
                         baseline="faiss IndexIVFFlat", contender="IVFIndex.search",
                         baseline_seconds=faiss_seconds, contender_seconds=ours_seconds,
                         note=f"recall@{K}: faiss {recall_at_k_vs_exact(found, exact):.3f}, "
                              f"ours {recall_at_k_vs_exact(ours, exact):.3f}"))
    return rows


if __name__ == "__main__":
    for row in run(quick="--quick" in sys.argv):
        print(f"{row['benchmark']:13} | {row['case']:60} | {row['baseline']} {row['baseline_seconds']:.4f}s"
              f" vs {row['contender']} {row['contender_seconds']:.4f}s | x{row['ratio']:.1f} | {row.get('note', '')}")
