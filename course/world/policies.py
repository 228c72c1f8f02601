"""Reference policies for the online environment: the floor (random) and the ceiling (oracle).

A policy is any function ``policy(requests) -> ndarray (n_requests, slate_size)`` of item
ids. Every chapter's recommender can be wrapped as one and served by
:meth:`course.world.Environment.step`, next to these two.
"""
from __future__ import annotations

import numpy as np

from course.world.environment import Requests


def random_policy(seed: int = 0):
    """Serve distinct random available notes: what no personalisation at all looks like."""
    def policy(requests: Requests) -> np.ndarray:
        rng = np.random.default_rng([seed, requests.day, 11])
        n, k = len(requests), requests.slate_size
        keys = rng.random((n, len(requests.available_items)))
        return requests.available_items[np.argpartition(keys, k - 1, axis=1)[:, :k]]
    return policy


def oracle_policy(environment, diversity_penalty: float = 0.0):
    """Serve each user's true top notes by P(click) (known only to the simulator).

    Parameters
    ----------
    environment : Environment
        Whose oracle (and growing catalogue) to read.
    diversity_penalty : float
        0 gives the plain top-k. A positive value greedily lowers a note's score by this much
        per note of the same top category already in the slate: the true optimum of a feed is
        not the top-k of single-item scores, which chapter 6 (reranking) is about.
    """
    def policy(requests: Requests) -> np.ndarray:
        k = requests.slate_size
        users, inverse = np.unique(requests.user_ids, return_inverse=True)
        available = requests.available_items
        scores = environment.oracle.click_probability_matrix(users, available, day=requests.day)
        if diversity_penalty == 0:
            top = np.argpartition(-scores, k - 1, axis=1)[:, :k]
            order = np.argsort(-np.take_along_axis(scores, top, 1), axis=1, kind="stable")
            slates = available[np.take_along_axis(top, order, 1)]
        else:
            category = environment.oracle.items["category"][available]
            n_top = int(environment.oracle.items["category"].max()) + 1
            counts = np.zeros((len(users), n_top))
            adjusted = scores.copy()
            chosen = np.empty((len(users), k), dtype=np.int64)
            rows = np.arange(len(users))
            for slot in range(k):                     # a loop over the k slots only
                pick = np.argmax(adjusted - diversity_penalty * counts[:, category], axis=1)
                chosen[:, slot] = pick
                adjusted[rows, pick] = -np.inf
                counts[rows, category[pick]] += 1
            slates = available[chosen]
        return slates[inverse]
    return policy
