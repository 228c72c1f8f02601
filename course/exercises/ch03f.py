"""Exercises of notebook 03f (MovieLens-100K as a two-task funnel): the masked loss of one task.

The reference loops over the rows where the model answer vectorises, so the test that runs the
model answer through this check compares two routes.
"""
from __future__ import annotations

import math

import numpy as np

from course.exercises.registry import register


def _masked_case(rng: np.random.Generator) -> dict:
    n = int(rng.integers(1, 12))
    mask = rng.random(n) < rng.choice([0.0, 0.4, 1.0])          # sometimes no row is observed
    labels = np.where(mask, rng.integers(0, 2, n).astype(float), np.nan)   # unobserved: nan
    return dict(logits=rng.normal(scale=3.0, size=n), labels=labels, mask=mask)


@register("03f.1", "function", make_case=_masked_case,
          hint="keep the observed rows first (logits[mask], labels[mask]); the cross-entropy of a logit z "
               "is log(1 + e^z) - y·z, np.logaddexp(0, z) computes log(1 + e^z) without overflow; "
               "return 0.0 when no row is observed")
def masked_bce(logits, labels, mask):
    """Mean binary cross-entropy over the rows where ``mask`` is True; 0 if there is none."""
    total, count = 0.0, 0
    for z, y, observed in zip(logits, labels, mask):
        if observed:                                 # an unobserved label (nan) is never read
            # -[y log p + (1 - y) log(1 - p)] with p = sigmoid(z), written as
            # log(1 + e^z) - y·z, with log(1 + e^z) = max(z, 0) + log(1 + e^-|z|) (no overflow)
            total += max(z, 0.0) + math.log1p(math.exp(-abs(z))) - y * z
            count += 1
    return total / count if count else 0.0
