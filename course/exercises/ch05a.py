"""Exercises of notebook 05a (behaviour sequences: LastN and DIN).

The references are plain loops, different from the vectorised model answers, so the test that
runs the model answers through these checks compares two independent routes.
"""
from __future__ import annotations

import math

import numpy as np

from course.exercises.registry import register


def _history_case(rng: np.random.Generator) -> dict:
    batch, n, d = int(rng.integers(1, 6)), int(rng.integers(1, 7)), int(rng.integers(1, 5))
    mask = rng.random((batch, n)) < 0.6
    mask[0] = False                                   # an empty history in every case
    history = rng.normal(size=(batch, n, d))
    history[~mask] = 1e3                              # padded slots hold junk
    return {"history": history, "mask": mask}


@register("05a.1", "function", make_case=_history_case,
          hint="sum history * mask[..., None] over axis 1, divide by max(count, 1)")
def lastn_mean_np(history, mask):
    """Mean of the real items of each row, zeros for an empty row, by a loop."""
    batch, n, d = history.shape
    out = np.zeros((batch, d))
    for b in range(batch):
        real = [history[b, j] for j in range(n) if mask[b, j]]
        if real:
            out[b] = sum(real) / len(real)
    return out


def _attention_case(rng: np.random.Generator) -> dict:
    case = _history_case(rng)
    case["candidate"] = rng.normal(size=(case["history"].shape[0], case["history"].shape[2]))
    return case


@register("05a.2", "function", make_case=_attention_case,
          hint="scores = einsum('bnd,bd->bn') / sqrt(d); set padded scores to -inf; "
               "softmax per row; rows with no real item stay 0")
def softmax_weights(candidate, history, mask):
    """Softmax of history · candidate / √d over the real items; 0 elsewhere, by a loop."""
    batch, n, d = history.shape
    out = np.zeros((batch, n))
    for b in range(batch):
        real = [j for j in range(n) if mask[b, j]]
        if not real:
            continue
        scores = [float(history[b, j] @ candidate[b]) / math.sqrt(d) for j in real]
        top = max(scores)
        total = sum(math.exp(s - top) for s in scores)
        for j, s in zip(real, scores):
            out[b, j] = math.exp(s - top) / total
    return out


@register("05a.3", "answer", needs=("lengths",), tolerance=1e-9,
          hint="lengths == 0, then the mean")
def empty_history_share(lengths):
    """Share of rows whose history is empty."""
    lengths = list(lengths)
    return sum(1 for n in lengths if n == 0) / len(lengths)


@register("05c.1", "answer", needs=("lengths",), tolerance=1e-9,
          hint="lengths == 0, then the mean")
def empty_liked_history_share(lengths):
    """Share of MovieLens test rows with no liked rating before them."""
    lengths = list(lengths)
    return sum(1 for n in lengths if n == 0) / len(lengths)
