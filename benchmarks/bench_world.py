"""How the world's cost grows with its size, and what shipping it saves over regenerating."""
from __future__ import annotations

import time

from course import world as W


def _seconds(fn):
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def run(quick: bool = False) -> list[dict]:
    sizes = ["tiny", "small"] if quick else ["tiny", "small", "large"]
    timings = {}
    for size in sizes:
        timings[size] = _seconds(lambda: W.generate(size))
    rows = []
    for smaller, larger in zip(sizes, sizes[1:]):
        (t_small, w_small), (t_large, w_large) = timings[smaller], timings[larger]
        growth = len(w_large.impressions) / len(w_small.impressions)
        rows.append({
            "benchmark": "world generation", "case": f"{larger} vs {smaller}",
            "baseline": f"generate('{larger}')", "contender": f"generate('{smaller}')",
            "baseline_seconds": t_large, "contender_seconds": t_small, "ratio": t_large / t_small,
            "note": f"{growth:.1f}x the impressions ({len(w_large.impressions):,} vs "
                    f"{len(w_small.impressions):,}); seconds per impression x"
                    f"{(t_large / t_small) / growth:.2f}",
        })
    load_seconds, _ = _seconds(lambda: W.load("small"))
    rows.append({
        "benchmark": "world loading", "case": "small", "baseline": "generate('small')",
        "contender": "load('small') (checksums verified)",
        "baseline_seconds": timings["small"][0], "contender_seconds": load_seconds,
        "ratio": timings["small"][0] / load_seconds,
        "note": "the contract: loading well under 2 s",
    })
    return rows
