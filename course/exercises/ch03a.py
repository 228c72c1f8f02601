"""Exercises of notebook 03a (multi-task ranking): windowed statistics, down-sampling, calibration.

The references are plain loops or the closed form written another way than the model answers
in ``solutions/03a_multitask_ranking.md``, so the test that runs the model answers compares two
independent routes.
"""
from __future__ import annotations

import numpy as np

from course.exercises.registry import register


def _window_case(rng: np.random.Generator) -> dict:
    n = int(rng.integers(1, 60))
    days = rng.integers(0, 6, n)
    items = rng.integers(0, 4, n)
    clicks = rng.integers(0, 2, n)
    return dict(days=days, items=items, clicks=clicks, item=int(rng.integers(0, 4)),
                day=int(rng.integers(0, 7)), window=int(rng.integers(1, 5)),
                prior=float(rng.choice([0.05, 0.1, 0.3])), strength=float(rng.choice([1.0, 10.0, 20.0])))


@register("03a.1", "function", make_case=_window_case,
          hint="rows of the item with day - window <= days < day (never day itself); "
               "(clicks + strength * prior) / (impressions + strength)")
def window_ctr(days, items, clicks, item, day, window, prior, strength):
    """Smoothed CTR of ``item`` over the ``window`` days before ``day`` (day itself excluded)."""
    shown = clicked = 0
    for d, i, c in zip(days, items, clicks):
        if i == item and day - window <= d <= day - 1:
            shown += 1
            clicked += int(c)
    return (clicked + strength * prior) / (shown + strength)


def _rate_case(rng: np.random.Generator) -> dict:
    return dict(p=rng.uniform(0, 1, int(rng.integers(1, 20))), alpha=float(rng.choice([0.01, 0.1, 0.5, 1.0])))


@register("03a.2", "function", make_case=_rate_case,
          hint="keeping negatives at rate α divides the odds p / (1 - p) by α; turn the odds back into a rate")
def downsampled_rate(p, alpha):
    """What a perfect model trained on down-sampled data predicts when the true rate is ``p``."""
    p = np.asarray(p, dtype=float)
    # odds / alpha turned back into a rate, written so that p = 1 needs no division by zero
    return p / (p + alpha * (1.0 - p))


@register("03a.3", "answer", needs=("p_click",), tolerance=1e-6,
          hint="calibrate_downsampled(p_click, 0.5), then its mean")
def wrong_alpha_mean(p_click):
    """Mean corrected P(click) on the test day when the correction assumes α = 0.5."""
    alpha = 0.5
    total = 0.0
    for p in np.asarray(p_click, dtype=float):      # the correction, one prediction at a time
        odds = alpha * p / (1.0 - p)
        total += odds / (1.0 + odds)
    return total / len(p_click)
