"""The online environment (线上环境): serve a policy for a simulated day, get back what users did.

One call to :meth:`Environment.step` is one day of traffic:

1. every user active today opens the app 1+ times (requests, each at an hour of the day);
2. the policy answers each request with a slate (an array of item ids, best first);
3. users click with the oracle's probability (position bias and same-category fatigue
   included), then like / collect / share / comment / follow and watch videos;
4. each user's day has a *satisfaction*, S = sum over top categories of sqrt(engagement):
   diminishing returns within a category, so a varied feed satisfies more than a repetitive
   one; a slowly moving *habit* (0.6 habit + 0.4 S) sets the chance to come back tomorrow,
   so retention answers to recommendations with a lag (what a reverse experiment catches);
5. authors whose recent notes were shown more post more (creator motivation), and the new
   notes join tomorrow's catalogue (cold start).

All randomness comes from ``numpy.random.default_rng([seed, day, stream])``, so two runs
with the same policies give the same days, and two arms of an A/B test served on the same
day share the users' coin flips wherever they show the same thing.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np
import pandas as pd

from course.world.oracle import HOUR_SHARES, sigmoid

ACTIONS = ("like", "collect", "share", "comment", "follow")
HABIT_MEMORY = 0.6          # habit_t = 0.6 habit_{t-1} + 0.4 S_t
RETURN_SENSITIVITY = 0.6    # logit P(return) = base_u + 0.6 (habit - 1)


@dataclass
class Requests:
    """One day's requests, handed to a policy.

    Attributes
    ----------
    user_ids : ndarray of shape (n_requests,)
    hours : ndarray of shape (n_requests,)   hour of day, 0..23
    day : int
    slate_size : int                          how many item ids each row of the answer holds
    available_items : ndarray                 ids of the notes that may be served today
    """

    user_ids: np.ndarray
    hours: np.ndarray
    day: int
    slate_size: int
    available_items: np.ndarray

    def __len__(self) -> int:
        return len(self.user_ids)

    def subset(self, mask) -> "Requests":
        return Requests(self.user_ids[mask], self.hours[mask], self.day, self.slate_size,
                        self.available_items)


Policy = Callable[[Requests], np.ndarray]


@dataclass
class DayResult:
    """What one simulated day produced.

    ``impressions``: one row per (request, position) with every label; ``users``: one row per
    user (active or not) with the day's totals, satisfaction and whether they return tomorrow;
    ``new_items``: notes published during the day (available from tomorrow).
    """

    day: int
    impressions: pd.DataFrame
    users: pd.DataFrame
    new_items: pd.DataFrame = field(repr=False)


def route_by_group(groups, policies: Sequence[Policy]) -> Policy:
    """A policy that serves user u with ``policies[groups[u]]``: how an A/B test is served.

    Parameters
    ----------
    groups : array of shape (n_users,)   integer arm of each user (e.g. from hash bucketing)
    policies : sequence of policies      one per arm
    """
    groups = np.asarray(groups)
    if not np.issubdtype(groups.dtype, np.integer) or groups.ndim != 1:
        raise TypeError("groups must be a 1-D integer array with one arm per user")
    if groups.size and (groups.min() < 0 or groups.max() >= len(policies)):
        raise ValueError(f"groups must lie in [0, {len(policies)})")

    def routed(requests: Requests) -> np.ndarray:
        slates = np.empty((len(requests), requests.slate_size), dtype=np.int64)
        arm = groups[requests.user_ids]
        for g, policy in enumerate(policies):
            mask = arm == g
            if mask.any():
                slates[mask] = policy(requests.subset(mask))
        return slates

    return routed


class Environment:
    """A simulated platform that moves one day at a time. Create it with ``world.environment()``.

    Attributes
    ----------
    day : int                  the next day to be served
    oracle : Oracle            its catalogue grows as authors post
    items : DataFrame          every note published so far (public columns)
    active : ndarray of bool   who opens the app on ``day``
    habit : ndarray of float   each user's satisfaction memory
    """

    def __init__(self, world, *, day, active, habit, author_exposure, seed):
        from course.world.entities import draw_items  # local: entities imports nothing from here
        self._draw_items = draw_items
        self.world = world
        self.config = world.config
        self.oracle = world._make_oracle(copy=True)
        self.items = world.items.copy()
        self.item_content = world.item_content.copy()
        self.day = int(day)
        self.active = np.asarray(active, dtype=bool).copy()
        self.habit = np.asarray(habit, dtype=float).copy()
        self.author_exposure = np.asarray(author_exposure, dtype=float).copy()
        self.seed = int(seed)
        self._return_base = world._return_base()
        # what the entity draws need to write new notes: public rows joined with the truth
        self._authors = world.authors.merge(world.author_truth, on="author_id")

    # ------------------------------------------------------------------ helpers
    def _rng(self, stream: int):
        return np.random.default_rng([self.seed, self.day, stream])

    def available_items(self, day: int | None = None) -> np.ndarray:
        """Ids of notes that may be served on ``day`` (published, and not too old)."""
        day = self.day if day is None else day
        age = day - self.items["publish_day"].to_numpy()
        return self.items["item_id"].to_numpy()[(age >= 0) & (age <= self.config.max_item_age_days)]

    def make_requests(self) -> Requests:
        """Today's requests: active users open the app 1 + Poisson times, at diurnal hours."""
        rng = self._rng(1)
        users = np.flatnonzero(self.active)
        activity = self.world.user_truth["activity"].to_numpy()[users]
        extra = rng.poisson((self.config.requests_per_active_day - 1) * 2 * activity)
        user_ids = np.repeat(users, 1 + extra)
        hours = rng.choice(24, len(user_ids), p=HOUR_SHARES)
        return Requests(user_ids, hours, self.day, self.config.slate_size, self.available_items())

    # ------------------------------------------------------------------ one day
    def step(self, policy: Policy) -> DayResult:
        """Serve ``policy`` for one day and advance to the next."""
        requests = self.make_requests()
        slates = np.asarray(policy(requests))
        self._check_slates(slates, requests)
        impressions = self._simulate_impressions(requests, slates)
        users = self._update_users(impressions)
        new_items = self._authors_post(impressions)
        result = DayResult(self.day, impressions, users, new_items)
        self.day += 1
        return result

    def run(self, policy: Policy, n_days: int) -> list[DayResult]:
        """``step`` ``n_days`` times with the same policy."""
        if n_days < 1:
            raise ValueError("n_days must be >= 1")
        return [self.step(policy) for _ in range(n_days)]

    def _check_slates(self, slates, requests):
        expected = (len(requests), requests.slate_size)
        if slates.shape != expected:
            raise ValueError(f"the policy must return an array of shape {expected} "
                             f"(requests x slate_size), got {slates.shape}")
        if not np.issubdtype(slates.dtype, np.integer):
            raise TypeError(f"slates must hold integer item ids, got dtype {slates.dtype}")
        if slates.size and not np.isin(slates, requests.available_items).all():
            bad = slates[~np.isin(slates, requests.available_items)][:5]
            raise ValueError(f"the policy served items that are not available on day "
                             f"{requests.day} (unpublished, expired or unknown): {bad.tolist()}")

    def _simulate_impressions(self, requests: Requests, slates) -> pd.DataFrame:
        n, k = slates.shape
        user = np.repeat(requests.user_ids, k)
        item = slates.ravel()
        hour = np.repeat(requests.hours, k)
        position = np.tile(np.arange(k), n)
        category = self.oracle.items["category"][slates]                       # (n, k)
        # same-category notes shown above each slot: fatigue within a slate
        same = (category[:, :, None] == category[:, None, :]) & np.tri(k, k, -1, dtype=bool)
        n_same = same.sum(axis=2).ravel()
        probs = self.oracle.action_probabilities(user, item, day=self.day, hour=hour,
                                                 position=position, n_same_category_before=n_same)
        rng = self._rng(2)
        # One uniform per (request, slot, action): arms that show the same item to the same
        # user in the same slot share the outcome (common random numbers).
        uniforms = rng.random((len(item), 2 + len(ACTIONS)))
        click = uniforms[:, 0] < probs["click"].to_numpy()
        frame = {"day": np.full(len(item), self.day, dtype=np.int16),
                 "hour": hour.astype(np.int8),
                 "request_id": np.repeat(np.arange(n), k).astype(np.int32),
                 "user_id": user.astype(np.int32), "item_id": item.astype(np.int32),
                 "position": position.astype(np.int8), "click": click.astype(np.int8)}
        for j, action in enumerate(ACTIONS):
            frame[action] = (click & (uniforms[:, 1 + j] < probs[action].to_numpy())).astype(np.int8)
        fraction = probs["watch_fraction"].to_numpy()
        video = ~np.isnan(fraction)
        drawn = np.full(len(item), np.nan)
        # Beta(5f, 5(1-f)) via its inverse CDF would need scipy; two gammas do it exactly.
        rng_watch = self._rng(3)
        a = np.clip(5 * fraction[video], 1e-3, None)
        b = np.clip(5 * (1 - fraction[video]), 1e-3, None)
        ga, gb = rng_watch.gamma(a), rng_watch.gamma(b)
        drawn[video] = ga / np.maximum(ga + gb, 1e-12)
        watched = click & video
        length = self.oracle.items["video_length"][item]
        frame["watch_time"] = np.where(watched, np.round(drawn * length, 1), np.nan).astype(np.float32)
        frame["completion"] = np.where(watched, np.round(drawn, 3), np.nan).astype(np.float32)
        return pd.DataFrame(frame)

    def _update_users(self, impressions: pd.DataFrame) -> pd.DataFrame:
        n_users = self.config.n_users
        user = impressions["user_id"].to_numpy()
        totals = {"impressions": np.bincount(user, minlength=n_users)}
        for col in ("click",) + ACTIONS:
            totals[col + "s" if col != "click" else "clicks"] = np.bincount(
                user, weights=impressions[col].to_numpy(), minlength=n_users).astype(np.int64)
        watch = np.nan_to_num(impressions["watch_time"].to_numpy(dtype=float))
        totals["watch_time"] = np.bincount(user, weights=watch, minlength=n_users)
        # Engagement per (user, top category); satisfaction has diminishing returns inside a
        # category, which is why diverse feeds keep users coming back.
        engagement = (impressions["click"].to_numpy()
                      + 0.5 * impressions[list(ACTIONS[:4])].to_numpy().sum(axis=1)
                      + np.nan_to_num(impressions["completion"].to_numpy(dtype=float)))
        n_top = int(self.oracle.items["category"].max()) + 1
        cat = self.oracle.items["category"][impressions["item_id"].to_numpy()]
        per_category = np.bincount(user * n_top + cat, weights=engagement,
                                   minlength=n_users * n_top).reshape(n_users, n_top)
        satisfaction = np.sqrt(per_category).sum(axis=1)
        self.habit = HABIT_MEMORY * self.habit + (1 - HABIT_MEMORY) * satisfaction
        p_return = sigmoid(self._return_base + RETURN_SENSITIVITY * (self.habit - 1.0))
        returns = self._rng(4).random(n_users) < p_return
        users = pd.DataFrame({"day": self.day, "user_id": np.arange(n_users),
                              "active": self.active.copy(), **totals,
                              "satisfaction": satisfaction.round(4),
                              "return_probability": p_return.round(4),
                              "active_next_day": returns})
        self.active = returns
        return users

    def _authors_post(self, impressions: pd.DataFrame) -> pd.DataFrame:
        """Creator motivation: posting rate x (recent exposure / typical)^0.5, clipped."""
        authors = self._authors
        shown = self.oracle.items["author"][impressions["item_id"].to_numpy()]
        today = np.bincount(shown, minlength=len(authors))
        self.author_exposure = 0.5 * self.author_exposure + 0.5 * today
        typical = max(self.author_exposure.mean(), 1e-9)
        motivation = np.clip((self.author_exposure + 1) / (typical + 1), 0.25, 4.0) ** 0.5
        rng = self._rng(5)
        counts = rng.poisson(authors["posting_rate"].to_numpy() * motivation)
        author_ids = np.repeat(np.arange(len(authors)), counts)
        new_items, truth, latent, content = self._draw_items(
            self.config, rng, authors, author_ids, np.full(len(author_ids), self.day + 1),
            self.world._sub_centres, self.world._content_projection,
            first_item_id=len(self.items))
        self.items = pd.concat([self.items, new_items], ignore_index=True)
        self.item_content = np.concatenate([self.item_content, content.astype(np.float32)])
        self.oracle.items = self.world._extend_item_arrays(self.oracle.items, new_items, truth,
                                                           latent)
        self._new_item_truth = (truth, latent)
        return new_items
