"""Multi-channel merge (多路召回融合): quotas, the exposure filter and the cache, as pipeline stages.

:class:`course.pipeline.Pipeline` already runs the channels in order and deduplicates (去重):
a (user, note) pair brought by two channels keeps the first channel's attribution. What a
production merge adds, and this module provides as stages of the same pipeline:

- **quotas** (配额): each channel may place at most ``quota[c]`` notes per user *after* dedup,
  so a channel that returns thousands cannot crowd out the small personalised ones, and a
  total cap bounds what pre-ranking must score. Channels earlier in the order win duplicates,
  so put the most trusted first;
- **filters** (过滤): the exposure filter (曝光过滤: drop notes the user has already seen, as a
  :class:`~course.recall.channels.bloom.ExposureFilter` remembers them) next to chapter 1's
  disliked-author filter (:class:`course.pipeline.DislikeFilter`);
- **cache filling** (缓存召回的入场): notes that ranking kept but reranking did not show go
  into a :class:`~course.recall.channels.cache.RecallCache`, and shown notes leave it.

:func:`with_channels` plugs all of it into an existing pipeline (e.g. chapter 1's).
"""
from __future__ import annotations

import numpy as np

from course.pipeline.candidates import Candidates, RequestContext
from course.pipeline.core import Pipeline
from course.recall.channels.bloom import ExposureFilter
from course.recall.channels.cache import RecallCache
from course._arrays import rank_within_groups
from course._checks import check_positive_int

__all__ = ["ChannelQuota", "ExposureFilterStage", "CacheUnshownStage", "with_channels"]


class ChannelQuota:
    """Quota stage (配额): per user, keep the first ``quotas[c]`` candidates of each channel c.

    Works on merged candidates, whose rows come channel by channel in the channels' own
    best-first order (what :meth:`Pipeline.recall` returns), so "first" means "best". Only
    candidates attributed to c after dedup count against c's quota. Channels missing from
    ``quotas`` are not limited; ``total`` then keeps each user's first ``total`` rows.

    Parameters
    ----------
    quotas : dict of str -> int
    total : int, optional

    Examples
    --------
    >>> merged = Candidates(np.array([0, 0, 0, 1, 0]), np.array([5, 6, 7, 5, 8]),
    ...                     np.array([0, 0, 0, 0, 1], dtype=np.int16), ("popular", "geohash"))
    >>> kept = ChannelQuota({"popular": 2})(merged, None)
    >>> kept.user_ids.tolist(), kept.item_ids.tolist()
    ([0, 0, 1, 0], [5, 6, 5, 8])
    """

    def __init__(self, quotas: dict, total: int | None = None):
        if not isinstance(quotas, dict):
            raise TypeError(f"quotas must be a dict of channel name -> int, got {type(quotas).__name__}")
        for name, quota in quotas.items():
            check_positive_int(quota, f"quota of {name!r}")
        self.quotas = dict(quotas)
        self.total = None if total is None else check_positive_int(total, "total")

    def __call__(self, candidates: Candidates, context: RequestContext) -> Candidates:
        names = tuple(candidates.channel_names)
        unknown = set(self.quotas) - set(names)
        if unknown:
            raise ValueError(f"quotas for unknown channels {sorted(unknown)}; the channels are {list(names)}")
        if len(candidates) == 0:
            return candidates
        limit = np.array([self.quotas.get(name, np.iinfo(np.int64).max) for name in names], dtype=np.int64)
        channels = candidates.channels.astype(np.int64)
        rank = rank_within_groups(candidates.user_ids * len(names) + channels)
        keep = rank < limit[channels]
        if self.total is not None:
            kept_rank = np.full(len(candidates), np.iinfo(np.int64).max)
            kept_rank[keep] = rank_within_groups(candidates.user_ids[keep])
            keep &= kept_rank < self.total
        return candidates.take(keep)

    def __repr__(self):
        return f"ChannelQuota({self.quotas}, total={self.total})"


class ExposureFilterStage:
    """Exposure filter (曝光过滤): drop candidates the user was already shown.

    Asks ``exposure.seen(users, items, context.day)``. A Bloom filter has no false negatives,
    so an exposed note never gets through; its false positives (误判) drop a few never-shown
    notes, at about the filter's false-positive rate. Record each day's impressions with
    ``exposure.record(...)`` after serving it.

    Parameters
    ----------
    exposure : ExposureFilter
    """

    def __init__(self, exposure: ExposureFilter):
        if not isinstance(exposure, ExposureFilter):
            raise TypeError(f"exposure must be an ExposureFilter, got {type(exposure).__name__}")
        self.exposure = exposure

    def __call__(self, candidates: Candidates, context: RequestContext) -> Candidates:
        if len(candidates) == 0:
            return candidates
        return candidates.take(~self.exposure.seen(candidates.user_ids, candidates.item_ids, context.day))

    def __repr__(self):
        return f"ExposureFilterStage(window_days={self.exposure.window_days})"


class CacheUnshownStage:
    """Wrap the reranking stage: ranked-but-unshown notes enter the cache, shown ones leave it.

    The wrapped stage's input is ranking's output (each user's best first); whatever it does not
    return is added to ``cache`` for the next requests, and whatever it returns (the shown
    notes) is removed (the cache's exit on exposure). Unshown notes are added worst first, so
    the best is the newest entry: :meth:`RecallCache.recall` returns it first and FIFO eviction
    drops the oldest, worst entries first. Notes attributed to ``skip_channels`` (the cache
    channel itself) are not re-added: a note recalled out of the cache must not cycle back.

    Parameters
    ----------
    stage : callable stage, e.g. ``TopK(10)``
    cache : RecallCache
    skip_channels : tuple of str, default ("cache",)
    """

    def __init__(self, stage, cache: RecallCache, skip_channels=("cache",)):
        if not callable(stage):
            raise TypeError(f"stage must be callable, got {type(stage).__name__}")
        if not isinstance(cache, RecallCache):
            raise TypeError(f"cache must be a RecallCache, got {type(cache).__name__}")
        self.stage, self.cache, self.skip_channels = stage, cache, tuple(skip_channels)

    def __call__(self, candidates: Candidates, context: RequestContext) -> Candidates:
        shown = self.stage(candidates, context)
        width = int(max(candidates.item_ids.max(initial=0), shown.item_ids.max(initial=0))) + 1
        shown_codes = shown.user_ids * width + shown.item_ids
        skipped = np.isin(np.asarray(candidates.channel_names + ("",), dtype=object)[candidates.channels],
                          self.skip_channels)
        unshown = ~np.isin(candidates.user_ids * width + candidates.item_ids, shown_codes) & ~skipped
        # loops over the batch's users: the cache is a per-user structure
        users, items = candidates.user_ids[unshown][::-1], candidates.item_ids[unshown][::-1]
        order = np.argsort(users, kind="stable")                       # each user's worst first
        users, items = users[order], items[order]
        starts = np.flatnonzero(np.r_[True, users[1:] != users[:-1]]) if len(users) else []
        for user, block in zip(users[starts], np.split(items, starts[1:])):
            self.cache.add(int(user), block, day=context.day)
        order = np.argsort(shown.user_ids, kind="stable")
        users, items = shown.user_ids[order], shown.item_ids[order]
        starts = np.flatnonzero(np.r_[True, users[1:] != users[:-1]]) if len(users) else []
        for user, block in zip(users[starts], np.split(items, starts[1:])):
            self.cache.remove_exposed(int(user), block)
        return shown

    def __repr__(self):
        return f"CacheUnshownStage({self.stage!r})"


def with_channels(pipeline: Pipeline, channels: dict, *, quotas: dict | None = None,
                  total: int | None = None, filters=(), cache: RecallCache | None = None,
                  first: bool = False) -> Pipeline:
    """A new pipeline: ``pipeline``'s channels plus ``channels``, then filters and quotas.

    Stages become ``[*filters, ("channel quotas", ChannelQuota)] + pipeline.stages`` (filters
    first, so a channel's quota is spent on notes that can be shown), and with a ``cache`` the
    last stage (reranking) is wrapped in :class:`CacheUnshownStage`. The input pipeline is
    not modified.

    Parameters
    ----------
    pipeline : Pipeline
    channels : dict of str -> channel
        Added after the existing channels (before them with ``first=True``): the earlier a
        channel, the more duplicates it is credited with.
    quotas, total : see :class:`ChannelQuota` (no quota stage when both are None)
    filters : sequence of (str, stage), e.g. ``[("exposure filter", ExposureFilterStage(f))]``
    cache : RecallCache, optional
    """
    if not isinstance(pipeline, Pipeline):
        raise TypeError(f"expected a Pipeline, got {type(pipeline).__name__}")
    if not isinstance(channels, dict):
        raise TypeError("channels must be a dict of name -> channel")
    merged = {**channels, **pipeline.channels} if first else {**pipeline.channels, **channels}
    if len(merged) != len(channels) + len(pipeline.channels):
        raise ValueError(f"channel names clash: {sorted(set(channels) & set(pipeline.channels))}")
    stages = list(filters)
    if quotas is not None or total is not None:
        stages.append(("channel quotas", ChannelQuota(quotas or {}, total)))
    stages += list(pipeline.stages)
    if cache is not None and not pipeline.stages:
        raise ValueError("a cache needs a last (reranking) stage to wrap; the pipeline has none")
    if cache is not None:
        name, last = stages[-1]
        stages[-1] = (name, CacheUnshownStage(last, cache))
    return Pipeline(merged, stages)
