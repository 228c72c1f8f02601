"""Exercises of notebook 00 (welcome): CTR by position, and the CTR of video notes on day 3."""
from __future__ import annotations

import numpy as np

from course.exercises.registry import register


def _ctr_case(rng: np.random.Generator) -> dict:
    n_positions = int(rng.integers(3, 12))
    n = int(rng.integers(1, 200))  # small samples leave some positions unseen: the NaN case
    return dict(positions=rng.integers(0, n_positions, n), clicks=rng.integers(0, 2, n),
                n_positions=n_positions)


@register("00.1", "function", make_case=_ctr_case,
          hint="count impressions and clicks per position; positions never shown give NaN")
def ctr_by_position(positions, clicks, n_positions):
    """Click-through rate per position, NaN where a position was never shown."""
    # A loop over positions, unlike the bincount a learner is pointed to: two routes, one answer.
    ctr = np.full(n_positions, np.nan)
    for p in range(n_positions):
        shown = positions == p
        if shown.any():
            ctr[p] = clicks[shown].mean()
    return ctr


@register("00.2", "answer", needs=("world",), tolerance=1e-6,
          hint="filter day 3, join note_type, take the mean of click")
def video_ctr_day3(world):
    """Share of day-3 impressions of video notes that were clicked."""
    day3 = world.impressions[world.impressions["day"] == 3]
    video = world.items.set_index("item_id")["note_type"].reindex(day3["item_id"]).to_numpy() == "video"
    return float(day3["click"].to_numpy()[video].mean())
