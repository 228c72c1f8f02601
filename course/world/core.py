"""The World: every table of the simulated platform, its hidden truth, and how to make one.

``generate(size)`` draws the entities from the config's seed and runs the default logging
policy for ``n_days`` days; ``load(size)`` reads the same world from ``data/`` (checksums
verified). Public tables are what a platform would log; tables prefixed ``truth``/``_`` are
the ground truth that only evaluation code may read.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from course.world import entities as E
from course.world.config import WorldConfig, get_config
from course.world.oracle import Oracle
from course.world.taxonomy import AGE_BUCKETS, DEVICE_OS, GENDERS, category_table


def _streams(seed: int):
    """One independent generator per generation step, so adding a step shifts nothing else."""
    names = ["geometry", "crosses", "authors", "items", "users", "follows", "circles", "start"]
    return {name: np.random.default_rng([seed, i + 1]) for i, name in enumerate(names)}


class World:
    """The simulated platform. Public tables (pandas DataFrames):

    - ``users``: user_id, gender, age_bucket, city, geohash, device_os
    - ``items``: item_id (note), author_id, category/subcategory (ids and names), keywords,
      note_type (image/video), video_length (s, NaN for images), publish_day, city, geohash,
      word_count, image_count
    - ``authors``: author_id, home_category_id, home_subcategory_id, city, follower_count
    - ``follows``: user_id, author_id
    - ``categories``: the two-level tree with keywords
    - ``impressions``: day, hour, request_id, user_id, item_id, position, click, like,
      collect, share, comment, follow, watch_time, completion
    - ``user_days``: one row per (day, user): active, totals, satisfaction, return_probability,
      active_next_day
    - ``item_content``: ndarray (n_items, content_dim), a content-encoder view of each note

    Truth (evaluation only): ``oracle``, ``item_truth``, ``user_truth``, ``user_interests``,
    ``author_truth``.
    """

    def __init__(self, config: WorldConfig, tables: dict):
        self.config = config
        for name, value in tables.items():
            setattr(self, name, value)
        rng = _streams(config.seed)
        # Geometry and crosses are pure functions of the seed: recomputed, never stored.
        self._category_centres, self._sub_centres, self._content_projection = \
            E.draw_geometry(config, rng["geometry"])
        self._age_category, self._gender_category = E.draw_crosses(config, rng["crosses"])
        interests = self.user_interests.sort_values(["user_id", "slot"])
        d = config.latent_dim
        centres = np.zeros((config.n_users, 3, d))
        subs = np.zeros((config.n_users, 3), dtype=np.int64)
        mask = np.zeros((config.n_users, 3), dtype=bool)
        u, s = interests["user_id"].to_numpy(), interests["slot"].to_numpy()
        centres[u, s] = interests[[f"centre_{j}" for j in range(d)]].to_numpy()
        subs[u, s] = interests["subcategory_id"].to_numpy()
        mask[u, s] = True
        self._centres, self._interest_subcategories, self._interest_mask = centres, subs, mask
        self._oracle = None

    def __repr__(self):
        return (f"World({self.config.name!r}: {len(self.users):,} users, {len(self.items):,} notes, "
                f"{len(self.authors):,} authors, {len(self.impressions):,} impressions over "
                f"{self.config.n_days} days)")

    # ------------------------------------------------------------------ truth
    @property
    def oracle(self) -> Oracle:
        """The ground truth for evaluation (never a model input)."""
        if self._oracle is None:
            self._oracle = self._make_oracle()
        return self._oracle

    def _make_oracle(self, copy: bool = False) -> Oracle:
        users = self.users
        user_arrays = {
            "age": pd.Categorical(users["age_bucket"], categories=AGE_BUCKETS).codes.astype(np.int64),
            "gender": pd.Categorical(users["gender"], categories=GENDERS).codes.astype(np.int64),
            "city": pd.Categorical(users["city"], categories=E.CITY_NAMES).codes.astype(np.int64),
            "os": pd.Categorical(users["device_os"], categories=DEVICE_OS).codes.astype(np.int64),
            "circle": self.user_truth["circle_id"].to_numpy(),
            "centres": self._centres, "interest_mask": self._interest_mask,
        }
        item_arrays = self._extend_item_arrays({}, self.items, self.item_truth,
                                               self.item_truth[self._latent_columns].to_numpy())
        crosses = {"age_category": self._age_category, "gender_category": self._gender_category}
        return Oracle(self.config, user_arrays, item_arrays, crosses, self.follows,
                      len(self.authors))

    @property
    def _latent_columns(self):
        return [f"latent_{j}" for j in range(self.config.latent_dim)]

    def _extend_item_arrays(self, arrays: dict, items: pd.DataFrame, truth: pd.DataFrame,
                            latent) -> dict:
        """Item arrays for the oracle, with ``items`` appended (new notes keep arriving)."""
        author_quality = self.author_truth["quality"].to_numpy()
        new = {
            "latent": np.asarray(latent, dtype=float),
            "quality": truth["quality"].to_numpy(),
            "category": items["category_id"].to_numpy().astype(np.int64),
            "is_video": (items["note_type"] == "video").to_numpy().astype(np.int64),
            "video_length": items["video_length"].to_numpy(dtype=float),
            "word_count": items["word_count"].to_numpy(),
            "city": pd.Categorical(items["city"], categories=E.CITY_NAMES).codes.astype(np.int64),
            "author": items["author_id"].to_numpy().astype(np.int64),
            "author_quality": author_quality[items["author_id"].to_numpy()],
            "circle": (truth["circle_id"].to_numpy() if "circle_id" in truth
                       else np.full(len(items), -1)),
            **{c: truth[c].to_numpy() for c in ("likeability", "collectability",
                                                 "shareability", "controversy")},
        }
        if not arrays:
            return new
        return {key: np.concatenate([arrays[key], new[key]]) for key in arrays}

    def _return_base(self) -> np.ndarray:
        activity = np.clip(self.user_truth["activity"].to_numpy(), 0.02, 0.98)
        return np.log(activity / (1 - activity))

    # ------------------------------------------------------------------ simulation
    def environment(self, seed: int = 0):
        """An online environment that continues this world from the day after its logs."""
        from course.world.environment import Environment
        return Environment(self, day=self.config.n_days,
                           active=self.user_truth["active_next_day"].to_numpy(),
                           habit=self.user_truth["habit"].to_numpy(),
                           author_exposure=self.author_truth["recent_exposure"].to_numpy(),
                           seed=seed)

    def logging_policy(self, environment=None, seed: int | None = None):
        """The default policy that produced the logs (a baseline to beat)."""
        from course.world.logging_policy import LoggingPolicy
        return LoggingPolicy(self, environment, self.config.seed if seed is None else seed)


def generate(size: "str | WorldConfig" = "small") -> World:
    """Draw a world from its config's seed and run the logging policy for ``n_days`` days.

    >>> w = generate("tiny")
    >>> len(w.users), int(w.impressions["day"].max()) + 1
    (400, 3)
    """
    from course.world.environment import Environment

    config = get_config(size)
    rng = _streams(config.seed)
    _, sub_centres, projection = E.draw_geometry(config, rng["geometry"])
    age_category, gender_category = E.draw_crosses(config, rng["crosses"])
    authors = E.draw_authors(config, rng["authors"])

    r = rng["items"]
    rate = authors["posting_rate"].to_numpy()
    author_ids = r.choice(len(authors), config.n_items, p=rate / rate.sum())
    publish = np.sort(r.integers(-config.initial_age_days, 0, config.n_items))
    items, item_truth, latent, content = E.draw_items(config, r, authors, author_ids, publish,
                                                      sub_centres, projection, first_item_id=0)
    users, user_truth, centres, mask, subs = E.draw_users(config, rng["users"], sub_centres,
                                                           age_category, gender_category)
    follows = E.draw_follows(config, rng["follows"], authors, subs, mask)
    user_circle, item_circle = E.draw_circles(config, rng["circles"], items,
                                              user_truth["activity"].to_numpy())
    user_truth["circle_id"] = user_circle
    item_truth["circle_id"] = item_circle
    for j in range(config.latent_dim):
        item_truth[f"latent_{j}"] = latent[:, j]
    slot_user, slot = np.nonzero(mask)
    user_interests = pd.DataFrame({"user_id": slot_user, "slot": slot,
                                   "subcategory_id": subs[slot_user, slot]})
    for j in range(config.latent_dim):
        user_interests[f"centre_{j}"] = centres[slot_user, slot, j]

    author_truth = authors[["author_id", "quality", "video_propensity", "posting_rate"]].copy()
    author_truth["recent_exposure"] = 0.0
    public_authors = authors[["author_id", "home_category_id", "home_subcategory_id", "city"]].copy()
    public_authors["follower_count"] = np.bincount(follows["author_id"], minlength=len(authors))
    user_truth["habit"] = 1.0
    user_truth["active_next_day"] = rng["start"].random(config.n_users) < user_truth["activity"]
    categories = pd.DataFrame(category_table(), columns=["subcategory_id", "subcategory",
                                                         "category_id", "category", "keywords"])
    world = World(config, {
        "users": users, "items": items, "authors": public_authors, "follows": follows,
        "categories": categories, "impressions": None, "user_days": None,
        "item_content": content.astype(np.float32), "item_truth": item_truth,
        "user_truth": user_truth, "user_interests": user_interests, "author_truth": author_truth,
    })

    env = Environment(world, day=0, active=user_truth["active_next_day"].to_numpy(),
                      habit=user_truth["habit"].to_numpy(),
                      author_exposure=author_truth["recent_exposure"].to_numpy(),
                      seed=config.seed)
    policy = world.logging_policy(env)
    days = env.run(policy, config.n_days)

    world.impressions = pd.concat([d.impressions for d in days], ignore_index=True)
    world.user_days = pd.concat([d.users for d in days], ignore_index=True)
    world.items = env.items
    world.item_content = env.item_content
    arrays = env.oracle.items
    truth = pd.DataFrame({"item_id": np.arange(len(env.items)), "circle_id": arrays["circle"],
                          "quality": arrays["quality"],
                          **{c: arrays[c] for c in ("likeability", "collectability",
                                                     "shareability", "controversy")}})
    for j in range(config.latent_dim):
        truth[f"latent_{j}"] = arrays["latent"][:, j]
    world.item_truth = truth
    world.user_truth["habit"] = env.habit
    world.user_truth["active_next_day"] = env.active
    world.author_truth["recent_exposure"] = env.author_exposure
    world._oracle = None
    return world
