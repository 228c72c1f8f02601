"""Exercises of chapter 1: notebooks 01a (the funnel and a pluggable pipeline) and 01b (A/B testing).

01a.1 merges recall channels, 01a.2 fuses scores; 01b.1 sizes a test, 01b.2 counts the false
alarms of many metrics. Each reference stands alone, so an exercise can move between notebooks
with its id.
"""
from __future__ import annotations

import numpy as np
from scipy import stats

from course.exercises.registry import register


def _dedup_case(rng: np.random.Generator) -> dict:
    n = int(rng.integers(1, 60))
    # Few users and items, so that repeated pairs are common.
    return {"user_ids": rng.integers(0, 4, n), "item_ids": rng.integers(0, 10, n)}


@register("01a.1", "function", make_case=_dedup_case,
          hint="np.unique(..., return_index=True) gives each pair's first row; sort those rows")
def dedup_keep_first(user_ids, item_ids):
    """The (user, item) pairs without repeats, first occurrence kept, original order."""
    # A set walk, independent of the vectorised np.unique route the hint suggests.
    seen, keep = set(), []
    for row, pair in enumerate(zip(user_ids.tolist(), item_ids.tolist())):
        if pair not in seen:
            seen.add(pair)
            keep.append(row)
    keep = np.asarray(keep, dtype=int)
    return user_ids[keep], item_ids[keep]


@register("01b.1", "answer", tolerance=2,
          hint="z_{0.975} = stats.norm.ppf(0.975), z_{0.8} = stats.norm.ppf(0.8); p (1 - p) = 0.25")
def users_needed(sigma=1.5, delta=0.05, alpha=0.05, power=0.8, share=0.5):
    """Total users of a 50/50 test detecting ``delta`` (normal approximation, rounded up)."""
    z = stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(power)
    return int(np.ceil(z ** 2 * sigma ** 2 / (delta ** 2 * share * (1 - share))))


@register("01a.2", "answer", tolerance=1e-3, hint="solve 0.10 + 0.40 w = 0.14 + 0.10 w")
def break_even_weight(a=(0.10, 0.40), b=(0.14, 0.10)):
    """The like-weight w above which note A's fused score beats note B's."""
    (click_a, like_a), (click_b, like_b) = a, b
    return (click_b - click_a) / (like_a - like_b)


@register("01b.2", "answer", tolerance=1e-3,
          hint="P(no metric significant) = 0.95 ** 20 when the metrics are independent")
def any_false_alarm(n_metrics=20, alpha=0.05):
    """Chance that an A/A test shows at least one significant metric out of ``n_metrics``."""
    return 1 - (1 - alpha) ** n_metrics
