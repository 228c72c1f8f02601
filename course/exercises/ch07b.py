"""Exercises of notebook 07b (traffic control for new notes and cold-start A/B tests).

The references are plain Python, independent of :mod:`course.coldstart.traffic`.
"""
from __future__ import annotations

import numpy as np

from course.exercises.registry import register


def _factor_case(rng: np.random.Generator) -> dict:
    target_time = int(rng.integers(1, 48))
    target = float(rng.integers(1, 200))
    return {"elapsed": float(rng.integers(0, 2 * target_time)), "shown": float(rng.integers(0, int(1.5 * target) + 1)),
            "target_time": target_time, "target": target, "strength": float(rng.choice([0.0, 1.0, 4.0, 10.0]))}


@register("07b.1", "function", make_case=_factor_case,
          hint="1 after the deadline or once the target is met; else 1 + strength * max(0, time share - exposure share)")
def boost_factor(elapsed, shown, target_time, target, strength):
    """The guarantee's dynamic boost factor of one note."""
    if elapsed >= target_time or shown >= target:
        return 1.0
    time_share = elapsed / target_time
    exposure_share = shown / target
    gap = time_share - exposure_share
    return 1.0 + strength * gap if gap > 0 else 1.0


def _success_case(rng: np.random.Generator) -> dict:
    n = int(rng.integers(1, 30))
    return {"first_day_impressions": rng.integers(0, 120, n), "targets": rng.choice([25.0, 50.0, 100.0], n)}


@register("07b.2", "function", make_case=_success_case,
          hint="count the notes with impressions >= target, divide by the number of notes")
def success_rate(first_day_impressions, targets):
    """Share of notes whose first-day impressions reached their target."""
    met = 0
    for shown, target in zip(first_day_impressions, targets):
        if shown >= target:
            met += 1
    return met / len(targets)
