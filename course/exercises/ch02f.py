"""Exercises of notebook 02f (the two-tower model scored on MovieLens-100K).

The reference is a loop over the batch, different from the vectorised model answer in
``solutions/02f_two_tower_movielens.md``, so the test that runs the model answer through this
check compares two routes. It is the logit that
:func:`course.recall.two_tower.losses.make_loss_fn` builds for ``"in_batch"`` with ``log_q``.
"""
from __future__ import annotations

import math

import numpy as np

from course.exercises.registry import register


def _batch_case(rng: np.random.Generator) -> dict:
    n_items, batch = int(rng.integers(2, 12)), int(rng.integers(1, 6))
    return dict(cosines=rng.uniform(-1, 1, (batch, batch)), batch_items=rng.integers(0, n_items, batch),
                item_counts=rng.integers(1, 60, n_items), temperature=float(rng.choice([0.05, 0.1, 1.0])))


@register("02f.2", "function", make_case=_batch_case,
          hint="p = item_counts / item_counts.sum(); cosines / temperature - np.log(p[batch_items]), "
               "the correction broadcast along each row (one value per column)")
def log_q_logits(cosines, batch_items, item_counts, temperature):
    """In-batch logits with the logQ correction: s_uj / τ - log p_j, p_j = c_j / Σ_k c_k."""
    total = float(sum(item_counts))
    batch = len(batch_items)
    out = np.empty((batch, batch))
    for u in range(batch):
        for j in range(batch):                 # column j is the positive item of batch row j
            out[u, j] = cosines[u][j] / temperature - math.log(item_counts[batch_items[j]] / total)
    return out
