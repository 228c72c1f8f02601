"""Reranking measured in the world (notebooks 06a, 06b): expected clicks, a serving policy, days.

- :func:`expected_clicks`: the oracle's expected clicks of a slate *as a slate*: each slot's
  P(click) with its position bias and the same-category fatigue of the notes above it, so
  a list of ten notes of one category is worth less than the sum of its notes' single scores;
- :func:`rerank_policy`: a feed for :meth:`course.world.Environment.step` whose stages are a
  simulated ranker (true log P(click) plus Gumbel noise, as in
  :func:`course.world.serving_policies.noisy_ranking_policy`) and any reranker;
- :func:`online_metrics`: clicks, satisfaction and next-day return of a group of users.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from course._checks import check_array, check_nonnegative_int, check_positive_int, check_real

__all__ = ["expected_clicks", "rerank_policy", "online_metrics"]


def expected_clicks(oracle, user_ids, slates, *, day: int) -> np.ndarray:
    """Expected clicks of each slate, shape (n_slates,), hour of day averaged.

        E[clicks] = Σ_p P(click | u, slate[p], position p, f_p),   f_p = #{q < p : cat_q = cat_p}

    the world's click model (:class:`course.world.oracle.Oracle`): position bias
    ``-0.35·log2(1 + p)`` and fatigue ``-0.3·f_p`` in the logit.

    Parameters
    ----------
    oracle : course.world.oracle.Oracle
    user_ids : array of int of shape (n_slates,)
    slates : array of int of shape (n_slates, k)
        Item ids, top slot first.
    day : int

    Examples
    --------
    >>> from course import world
    >>> w = world.generate("tiny")
    >>> same = w.items.index[w.items.category_id == 0][:2].to_numpy()   # two beauty notes
    >>> single = w.oracle.click_probability([0, 0], same, day=3, position=[0, 1])
    >>> bool(expected_clicks(w.oracle, [0], same[None, :], day=3)[0] < single.sum())  # fatigue
    True
    """
    slates = check_array(slates, 2, "slates", "iu", allow_empty=False)
    user_ids = check_array(user_ids, 1, "user_ids", "iu")
    if len(user_ids) != len(slates):
        raise ValueError(f"user_ids must have one id per slate ({len(slates)}), got {len(user_ids)}")
    day = check_nonnegative_int(day, "day")
    n, k = slates.shape
    category = oracle.items["category"][slates]                                   # (n, k)
    before = (category[:, :, None] == category[:, None, :]) & np.tri(k, k, -1, dtype=bool)
    probability = oracle.click_probability(np.repeat(user_ids, k), slates.ravel(), day=day,
                                           position=np.tile(np.arange(k), n),
                                           n_same_category_before=before.sum(axis=2).ravel())
    return probability.reshape(n, k).sum(axis=1)


def rerank_policy(environment, rerank, *, n_candidates: int = 50, temperature: float = 0.5,
                  vectors: str = "content", seed: int = 0):
    """A serving policy: ranker → top ``n_candidates`` → ``rerank`` → the slate.

    For every request: score every available note by ``log P(click) + temperature · G``
    (the oracle's hour-averaged probability at the top of a slate, G ~ Gumbel(0, 1) drawn
    anew per request: a decent, imperfect ranker), keep the best ``n_candidates``, and call
    ``rerank(rewards, similarity, candidates)`` with their scores (n_candidates,), their
    similarity (n_candidates, n_candidates) and their item ids; it returns indices into the
    candidates, best first. A list shorter than the slate (rules can end it early) is filled
    with the remaining candidates by reward.

    Parameters
    ----------
    environment : course.world.Environment
    rerank : callable ``(rewards, similarity, candidates) -> indices``
        E.g. ``lambda r, S, c: mmr(r, S, 10, 0.5)``.
    n_candidates : int, >= the slate size
    temperature : float >= 0
        Ranker noise T (0: the true order).
    vectors : {"content", "tags", "truth"}
        The similarity: cosine of the content embeddings, the category-and-keyword
        :func:`~course.rerank.similarity.tag_similarity`, or the true latent geometry (an upper
        reference, never available to a real system). New notes of the environment are covered.
    seed : int
        Day t's noise comes from ``default_rng([seed, t, 61])``.

    Returns
    -------
    callable ``policy(requests) -> ndarray of shape (n_requests, slate_size)``
    """
    from course.rerank.similarity import _unit, tag_vectors

    if not callable(rerank):
        raise TypeError(f"rerank must be a callable (rewards, similarity, candidates) -> indices, "
                        f"got {type(rerank).__name__}")
    n_candidates = check_positive_int(n_candidates, "n_candidates")
    temperature = check_real(temperature, "temperature", low=0)
    if vectors not in ("content", "tags", "truth"):
        raise ValueError(f"vectors must be 'content', 'tags' or 'truth', got {vectors!r}")
    seed = check_nonnegative_int(seed, "seed")

    def item_vectors() -> np.ndarray:
        if vectors == "content":
            return _unit(environment.item_content)
        if vectors == "truth":
            return _unit(environment.oracle.items["latent"])
        items = environment.items
        return tag_vectors(items["category_id"].to_numpy(), items["subcategory_id"].to_numpy(),
                           items["keywords"].tolist())

    def policy(requests) -> np.ndarray:
        k, available = requests.slate_size, requests.available_items
        if n_candidates < k:
            raise ValueError(f"n_candidates ({n_candidates}) must be at least the slate size ({k})")
        V = item_vectors()                                                   # (n_items_now, d)
        users, inverse = np.unique(requests.user_ids, return_inverse=True)
        logit = environment.oracle.click_logit_matrix(users, available, day=requests.day)  # (U, I)
        log_p = -np.logaddexp(0.0, -logit)                                   # log sigmoid, stably
        rng = np.random.default_rng([seed, requests.day, 61])
        scores = log_p[inverse] + temperature * rng.gumbel(size=(len(requests), len(available)))
        top = np.argpartition(-scores, n_candidates - 1, axis=1)[:, :n_candidates]
        slates = np.empty((len(requests), k), dtype=np.int64)
        for r in range(len(requests)):  # one rerank per request: each is a small greedy of its own
            order = top[r][np.lexsort((top[r], -scores[r, top[r]]))]       # best first, ties by id
            rewards, candidates = scores[r, order], available[order]
            chosen = np.asarray(rerank(rewards, V[candidates] @ V[candidates].T, candidates), dtype=np.int64)
            rest = np.setdiff1d(np.arange(n_candidates), chosen, assume_unique=True)  # by reward
            slates[r] = candidates[np.concatenate([chosen, rest])[:k]]
        return slates

    return policy


def online_metrics(days, user_ids) -> pd.Series:
    """Per active user-day of ``user_ids``: clicks, satisfaction, next-day return probability.

    Parameters
    ----------
    days : list of course.world.DayResult
    user_ids : array of int
        The users measured (e.g. the sample a policy served).

    Returns
    -------
    Series with ``clicks`` (mean clicks of an active user on a day), ``satisfaction`` (the
    world's S: Σ over top categories of sqrt(engagement)), ``return probability`` (the chance to
    come back the next day, which the habit, and so the feed, moves) and ``active user-days``.
    """
    user_ids = check_array(user_ids, 1, "user_ids", "iu", allow_empty=False)
    if not days:
        raise ValueError("days must hold at least one DayResult")
    users = pd.concat([day.users for day in days], ignore_index=True)
    measured = users[users["user_id"].isin(user_ids) & users["active"]]
    if measured.empty:
        raise ValueError("none of user_ids was active on these days")
    return pd.Series({"clicks": measured["clicks"].mean(),
                      "satisfaction": measured["satisfaction"].mean(),
                      "return probability": measured["return_probability"].mean(),
                      "active user-days": float(len(measured))})
