"""The funnel (推荐链路) as code: candidates flow through named, pluggable stages.

召回 → 粗排 → 精排 → 重排 (recall → pre-ranking → ranking → reranking): each stage sees fewer
candidates and may spend more time on each. This module holds the plumbing that every chapter
shares; :mod:`course.pipeline.baseline` holds chapter 1's simple stages.

Contracts (what a chapter implements to plug a model in):

- a **recall channel** (召回通道) is a callable ``channel(user_ids, context) -> (users, items)``:
  two flat int arrays of equal length, one row per (user, candidate note), best first;
- a **stage** is a callable ``stage(candidates, context) -> Candidates`` (a filter removes
  rows, a scorer adds a score and keeps the best, a reranker reorders and truncates);
  :class:`ScoreStage` turns a plain scoring function into a stage.

Candidates of many users travel together as one flat table (:class:`Candidates`), so a stage
costs a few numpy calls per batch rather than a Python loop per user. That table, the request
context and :func:`top_k_per_user` live in :mod:`course.pipeline.candidates`; this module holds
the generic stages, the pipeline itself and its adapter to the world's environment.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

from course._checks import check_positive_int
from course.pipeline.candidates import Candidates, RequestContext, top_k_per_user

__all__ = ["Pipeline", "PipelineResult", "ScoreStage", "TopK", "as_policy"]


class ScoreStage:
    """A stage that scores every candidate and keeps the ``keep`` best per user.

    Parameters
    ----------
    scorer : callable ``scorer(candidates, context)``
        Returns an ndarray of shape (n,) (stored as ``score_name``) or a dict of such arrays
        that includes ``score_name`` (all stored; e.g. p_click, p_like and the fused score).
    keep : int or None
        Candidates kept per user (None keeps all, re-sorted by score).
    score_name : str, default "score"
    """

    def __init__(self, scorer, keep: int | None = None, score_name: str = "score"):
        if not callable(scorer):
            raise TypeError(f"scorer must be callable, got {type(scorer).__name__}")
        if keep is not None and (not isinstance(keep, (int, np.integer)) or keep < 1):
            raise ValueError(f"keep must be None or an int >= 1, got {keep!r}")
        self.scorer, self.keep, self.score_name = scorer, keep, score_name

    def __call__(self, candidates: Candidates, context: RequestContext) -> Candidates:
        output = self.scorer(candidates, context)
        columns = output if isinstance(output, dict) else {self.score_name: output}
        if self.score_name not in columns:
            raise ValueError(f"the scorer returned {sorted(columns)}, without {self.score_name!r}")
        for name, values in columns.items():
            if np.shape(values) != (len(candidates),):
                raise ValueError(f"score {name!r} has shape {np.shape(values)}, expected "
                                 f"({len(candidates)},)")
        scored = candidates.with_scores(**columns)
        keep = len(candidates) if self.keep is None else self.keep
        if len(scored) == 0:
            return scored
        return scored.take(top_k_per_user(scored.user_ids, scored.scores[self.score_name], keep))

    def __repr__(self):
        return f"ScoreStage({self.scorer!r}, keep={self.keep}, score_name={self.score_name!r})"


class TopK:
    """Plain top-k reranking (重排): keep the ``k`` best per user by an existing score.

    Chapter 6 replaces it with MMR and DPP, which trade a little score for diversity.
    """

    def __init__(self, k: int = 10, score_name: str = "score"):
        self.k, self.score_name = check_positive_int(k, "k"), score_name

    def __call__(self, candidates: Candidates, context: RequestContext) -> Candidates:
        if self.score_name not in candidates.scores:
            raise ValueError(f"TopK needs a {self.score_name!r} score; the candidates have "
                             f"{sorted(candidates.scores)}")
        return candidates.take(top_k_per_user(candidates.user_ids,
                                              candidates.scores[self.score_name], self.k))

    def __repr__(self):
        return f"TopK(k={self.k}, score_name={self.score_name!r})"


@dataclass
class PipelineResult:
    """Output of :meth:`Pipeline.run`.

    Attributes
    ----------
    candidates : Candidates
        The final candidates, users ascending, each user's best first.
    trace : DataFrame
        One row per step: ``stage``, ``kind`` (recall / merge / stage), ``candidates_in``,
        ``candidates_out`` (totals over the batch), ``per_user_in``, ``per_user_out`` and
        ``seconds``. A recall channel's input is the whole catalogue of available notes.
    """

    candidates: Candidates
    trace: pd.DataFrame

    def items_for(self, user_id) -> np.ndarray:
        """The final ranked note ids of one user."""
        return self.candidates.item_ids[self.candidates.user_ids == user_id]


class Pipeline:
    """Recall channels → merge & dedup → named stages, with a trace of every step.

    Parameters
    ----------
    channels : dict of str -> recall channel
        Run in this order; when two channels bring the same note to a user, the pair keeps the
        first channel's attribution (去重: a note is shown once, credited once).
    stages : list of (str, stage)
        E.g. ``[("filter", ...), ("pre-ranking", ...), ("ranking", ...), ("reranking", ...)]``.

    Examples
    --------
    >>> popular = lambda users, context: (np.repeat(users, 3), np.tile([5, 6, 7], len(users)))
    >>> mine = lambda users, context: (users, users + 5)          # user u likes note u + 5
    >>> score = lambda candidates, context: -candidates.item_ids.astype(float)
    >>> pipeline = Pipeline({"popular": popular, "mine": mine},
    ...                     [("ranking", ScoreStage(score, keep=2))])
    >>> context = RequestContext(day=0, available_items=np.arange(10))
    >>> result = pipeline.run([0, 2], context)
    >>> result.trace["candidates_out"].tolist()  # "mine" only repeats popular notes: 8 -> 6
    [6, 2, 6, 4]
    >>> result.items_for(2).tolist()
    [5, 6]
    """

    def __init__(self, channels: dict, stages=()):
        if not isinstance(channels, dict) or not channels:
            raise ValueError("channels must be a non-empty dict of name -> recall channel")
        for name, step in list(channels.items()) + list(stages):
            if not callable(step):
                raise TypeError(f"{name!r} is not callable: {step!r}")
        names = list(channels) + [name for name, _ in stages]
        if len(set(names)) != len(names):
            raise ValueError(f"step names must be unique, got {names}")
        self.channels = dict(channels)
        self.stages = list(stages)

    def recall(self, user_ids, context: RequestContext, trace: list | None = None) -> Candidates:
        """Run every channel, then merge with dedup (keeping the first channel's attribution)."""
        users_parts, items_parts, channel_parts = [], [], []
        n_catalogue = len(user_ids) * len(context.available_items)
        for code, (name, channel) in enumerate(self.channels.items()):
            start = time.perf_counter()
            users, items = (np.asarray(a, dtype=np.int64) for a in channel(user_ids, context))
            if users.shape != items.shape or users.ndim != 1:
                raise ValueError(f"channel {name!r} must return two 1-d arrays of equal length")
            users_parts.append(users), items_parts.append(items)
            channel_parts.append(np.full(len(users), code, dtype=np.int16))
            if trace is not None:
                trace.append((name, "recall", n_catalogue, len(users), time.perf_counter() - start))
        start = time.perf_counter()
        users, items = np.concatenate(users_parts), np.concatenate(items_parts)
        channels = np.concatenate(channel_parts)
        # np.unique's return_index is the first occurrence: channels run in order, so the first
        # channel that brought a (user, note) pair keeps it; sorting the indices keeps the order
        pair = users * (int(items.max(initial=0)) + 1) + items
        first = np.sort(np.unique(pair, return_index=True)[1])
        merged = Candidates(users[first], items[first], channels[first], tuple(self.channels))
        if trace is not None:
            trace.append(("merge & dedup", "merge", len(users), len(merged),
                          time.perf_counter() - start))
        return merged

    def run(self, user_ids, context: RequestContext) -> PipelineResult:
        """Serve a batch of users (or one user id) end to end and record the trace."""
        user_ids = np.unique(np.atleast_1d(np.asarray(user_ids)))
        if user_ids.size == 0 or user_ids.dtype.kind not in "iu":
            raise ValueError(f"user_ids must be a non-empty array of ints, got {user_ids!r}")
        if not isinstance(context, RequestContext):
            raise TypeError(f"context must be a RequestContext, got {type(context).__name__}")
        rows: list = []
        candidates = self.recall(user_ids, context, rows)
        for name, stage in self.stages:
            start = time.perf_counter()
            output = stage(candidates, context)
            if not isinstance(output, Candidates):
                raise TypeError(f"stage {name!r} returned {type(output).__name__}, not Candidates")
            rows.append((name, "stage", len(candidates), len(output), time.perf_counter() - start))
            candidates = output
        trace = pd.DataFrame(rows, columns=["stage", "kind", "candidates_in", "candidates_out",
                                            "seconds"])
        trace.insert(4, "per_user_in", trace["candidates_in"] / len(user_ids))
        trace.insert(5, "per_user_out", trace["candidates_out"] / len(user_ids))
        return PipelineResult(candidates, trace)

    def __repr__(self):
        return f"Pipeline(channels={list(self.channels)}, stages={[n for n, _ in self.stages]})"


def as_policy(pipeline: Pipeline, fallback_items=None):
    """Wrap a pipeline as a policy of the world's environment: ``policy(requests) -> slates``.

    The pipeline runs once per user per day; a user's j-th request of the day gets the j-th
    block of ``slate_size`` notes of their final list (wrapping around when it runs out), so a
    list of 10 gives every request the same slate. Short lists (everything filtered) are padded
    with ``fallback_items`` (default: the day's available notes in id order) not yet in the slate.

    Returns
    -------
    callable ``policy(requests) -> ndarray of shape (n_requests, slate_size)``
    """
    if not isinstance(pipeline, Pipeline):
        raise TypeError(f"expected a Pipeline, got {type(pipeline).__name__}")

    def policy(requests) -> np.ndarray:
        k = requests.slate_size
        context = RequestContext(requests.day, np.asarray(requests.available_items))
        users = np.unique(requests.user_ids)
        final = pipeline.run(users, context).candidates
        final = final.take(np.argsort(final.user_ids, kind="stable"))  # group rows by user
        # each request's index among its user's requests today (0, 1, 2...)
        order = np.argsort(requests.user_ids, kind="stable")
        sorted_users = requests.user_ids[order]
        starts = np.searchsorted(sorted_users, sorted_users)
        occurrence = np.empty(len(order), dtype=np.int64)
        occurrence[order] = np.arange(len(order)) - starts
        counts = final.counts_per_user(users)                          # (n_users,)
        first = np.r_[0, np.cumsum(counts)[:-1]]                       # user's first row
        row = np.searchsorted(users, requests.user_ids)
        n = counts[row]
        slot = (occurrence[:, None] * k + np.arange(k)) % np.maximum(n, 1)[:, None]
        slates = final.item_ids[np.minimum(first[row][:, None] + slot, max(len(final) - 1, 0))] \
            if len(final) else np.full((len(requests), k), -1)
        slates = np.where(np.arange(k) < n[:, None], slates, -1)      # (n_requests, k)
        short = np.flatnonzero((slates < 0).any(axis=1))
        pool = context.available_items if fallback_items is None else np.asarray(fallback_items)
        for r in short:                    # rare: only users whose list is shorter than a slate
            have = slates[r][slates[r] >= 0]
            extra = pool[~np.isin(pool, have)][: k - len(have)]
            slates[r] = np.r_[have, extra]
        return slates.astype(np.int64)

    return policy
