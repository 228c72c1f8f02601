"""What every benchmark module shares: best-of-n timing, one torch thread, and the row the runner expects."""
from __future__ import annotations

import contextlib
import math
import time


@contextlib.contextmanager
def one_torch_thread():
    """Run the block on one torch thread (the same for every contender), then restore the caller's."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def best_time(function, repeats: int = 1) -> tuple[object, float]:
    """``(result, seconds)``: the last result and the fastest of ``repeats`` runs.

    The fastest run is the one least disturbed by other processes on a shared machine.
    """
    best, result = math.inf, None
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        best = min(best, time.perf_counter() - start)
    return result, best


def result_row(benchmark: str, case: str, baseline: str, contender: str, baseline_seconds: float,
               contender_seconds: float, note: str = "") -> dict:
    """One row of RESULTS.md: ratio = baseline seconds / contender seconds (above 1: faster)."""
    return {"benchmark": benchmark, "case": case, "baseline": baseline, "contender": contender,
            "baseline_seconds": baseline_seconds, "contender_seconds": contender_seconds,
            "ratio": baseline_seconds / contender_seconds, "note": note}
