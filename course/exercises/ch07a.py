"""Exercises of notebook 07a (item cold start: metrics and recall channels for new notes).

The references are plain loops, independent of :mod:`course.coldstart`, so that the test that
runs the model answers through these checks compares two routes.
"""
from __future__ import annotations

import numpy as np

from course.exercises.registry import register


def _publish_case(rng: np.random.Generator) -> dict:
    n = int(rng.integers(1, 30))
    return {"author_ids": rng.integers(0, 8, n), "publish_days": rng.integers(0, 4, n),
            "day": int(rng.integers(0, 4)), "n_active": int(rng.integers(8, 20))}


@register("07a.1", "function", make_case=_publish_case,
          hint="the distinct authors of the notes whose publish day is `day`: a set")
def publish_penetration(author_ids, publish_days, day, n_active):
    """Distinct authors who published on ``day``, divided by ``n_active``."""
    publishers = set()
    for author, published in zip(author_ids, publish_days):
        if published == day:
            publishers.add(int(author))
    return len(publishers) / n_active


def _similar_case(rng: np.random.Generator) -> dict:
    n, d = int(rng.integers(4, 12)), int(rng.integers(2, 5))
    ids = rng.permutation(n)
    old_ids = np.sort(ids[1:int(rng.integers(2, n))])
    return {"embeddings": rng.normal(size=(n, 3)), "content": rng.normal(size=(n, d)),
            "new_id": int(ids[0]), "old_ids": old_ids, "k": int(rng.integers(1, len(old_ids) + 1))}


@register("07a.2", "function", make_case=_similar_case,
          hint="cosine = dot / (norm * norm); sort old ids by (-cosine, id), average the first k rows")
def similar_init(embeddings, content, new_id, old_ids, k):
    """Mean embedding of the k old notes whose content is most cosine-similar to the new note's."""
    query = content[new_id] / np.linalg.norm(content[new_id])
    scored = []
    for j in old_ids:
        scored.append((-float(content[j] @ query / np.linalg.norm(content[j])), int(j)))
    chosen = [j for _, j in sorted(scored)[:k]]
    return np.mean([embeddings[j] for j in chosen], axis=0)
