"""The default logging policy (日志策略): the legacy system whose impressions fill the logs.

A mix of channels, as an old production feed would have: personalised by the user's coarse
category profile, popular notes, the newest notes of followed authors, fresh notes, and
random exploration; small-circle members also get their circle's notes (a social channel).
Slots are shuffled within each slate, so the position of a note is independent of why it was
shown: that is what lets chapter 3 (and 8) estimate position bias from these logs.

It is a reasonable baseline, not a good recommender: every chapter's method should beat it.
"""
from __future__ import annotations

import numpy as np

from course.world.entities import N_SUB, sample_within_groups
from course.world.environment import Requests

# slots per slate of 10, by channel
CIRCLE_SLOTS = 4
CHANNEL_SLOTS = {"personalised": 4, "popular": 2, "followed": 1, "fresh": 1, "random": 2}


class LoggingPolicy:
    """Serve slates from several simple channels. Call it like any policy: ``policy(requests)``.

    Parameters
    ----------
    world : World
        Reads the catalogue, follows and each user's coarse category profile (the
        subcategories of their interests: what an old tag-based profile would know).
    environment : Environment, optional
        Where the catalogue grows (new notes); defaults to the world's own items.
    seed : int
    """

    def __init__(self, world, environment=None, seed: int = 0):
        self.world = world
        self.environment = environment
        self.seed = seed

    def __call__(self, requests: Requests) -> np.ndarray:
        world = self.world
        items = self.environment.items if self.environment is not None else world.items
        rng = np.random.default_rng([self.seed, requests.day, 7])
        n, k = len(requests), requests.slate_size
        if k != sum(CHANNEL_SLOTS.values()):
            raise ValueError(f"the logging policy fills slates of {sum(CHANNEL_SLOTS.values())}")
        available = requests.available_items
        age = requests.day - items["publish_day"].to_numpy()[available]
        oracle = self.environment.oracle if self.environment is not None else world.oracle
        quality = oracle.items["quality"][available]
        popularity = np.exp(1.2 * quality - age / 10.0)
        sub = items["subcategory_id"].to_numpy()[available]
        author = items["author_id"].to_numpy()[available]
        user = requests.user_ids

        columns = []
        # personalised: a subcategory from the user's profile, a note of it ∝ popularity
        profile, mask = world._interest_subcategories, world._interest_mask
        n_slots = CHANNEL_SLOTS["personalised"]
        which = rng.integers(0, mask.sum(1)[user][:, None], (n, n_slots))
        chosen_sub = np.take_along_axis(profile[user], which, 1)
        picked = sample_within_groups(sub, popularity, chosen_sub, rng, N_SUB)
        columns.append(picked)
        # popular: ∝ popularity over the whole catalogue
        cumulative = np.cumsum(popularity)
        draws = rng.random((n, CHANNEL_SLOTS["popular"])) * cumulative[-1]
        columns.append(np.searchsorted(cumulative, draws, side="right"))
        # followed: the newest-weighted note of a random followed author
        follows = world.follows
        follow_author = sample_within_groups(follows["user_id"].to_numpy(),
                                             np.ones(len(follows)), user, rng, world.config.n_users)
        has_follow = follow_author >= 0
        author_of_follow = follows["author_id"].to_numpy()[np.maximum(follow_author, 0)]
        by_author = sample_within_groups(author, np.exp(-age / 3.0), author_of_follow, rng,
                                         len(world.authors))
        columns.append(np.where(has_follow & (by_author >= 0), by_author, -1)[:, None])
        # fresh: uniformly among notes published in the last two days
        fresh = np.flatnonzero(age <= 1)
        pool = fresh if len(fresh) else np.arange(len(available))
        columns.append(pool[rng.integers(0, len(pool), (n, 1))])
        # random exploration
        columns.append(rng.integers(0, len(available), (n, CHANNEL_SLOTS["random"])))
        slates = np.concatenate(columns, axis=1)                      # positions in `available`

        # small circles: members get their circle's notes in CIRCLE_SLOTS of the slots
        circle = world.user_truth["circle_id"].to_numpy()[user]
        item_circle = oracle.items["circle"][available]                # -1 outside circles
        member = circle >= 0
        for c in range(world.config.n_circles):
            positions = np.flatnonzero(item_circle == c)
            rows = np.flatnonzero(member & (circle == c))
            if len(rows) and len(positions):
                for slot in range(CIRCLE_SLOTS):           # the deduplication pass fixes repeats
                    slates[rows, slot] = positions[rng.integers(0, len(positions), len(rows))]

        slates = _fill_and_deduplicate(slates, len(available), rng)
        order = np.argsort(rng.random((n, k)), axis=1)                # shuffle positions
        return available[np.take_along_axis(slates, order, 1)]


def _fill_and_deduplicate(slates, n_available, rng, passes: int = 5):
    """Replace empty (-1) and repeated entries of each row with random notes."""
    slates = slates.copy()
    for _ in range(passes):
        ordered = np.sort(slates, axis=1)
        duplicate_value = np.where(ordered[:, 1:] == ordered[:, :-1], ordered[:, 1:], -2)
        bad = (slates < 0)
        for column in range(duplicate_value.shape[1]):   # k-1 columns: a loop over slots only
            value = duplicate_value[:, column][:, None]
            hits = (slates == value) & (value >= 0)
            # keep the first occurrence, flag the rest
            first = np.argmax(hits, axis=1)
            hits[np.arange(len(slates)), first] = False
            bad |= hits
        if not bad.any():
            break
        slates[bad] = rng.integers(0, n_available, bad.sum())
    return slates
