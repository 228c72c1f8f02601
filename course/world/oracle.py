"""The ground truth: the true probability of every action, for evaluation only.

Models never see the oracle; notebooks use it to say how far a method is from the best
possible (oracle AUC, the true top-k for recall@k, the true effect of an A/B test).

The click model (点击率的真实模型), with u a user, i a note, t the day, h the hour, p the
0-based position in the slate and f the number of same-category notes shown above it::

    logit P(click) = bias
                   + w_interest * max_k <c_uk, v_i>          best-matching interest centre
                   + w_drift    * <s_ut, v_i>                short-term interest, drifts daily
                   + w_quality  * q_i
                   + A[age_u, cat_i] + G[gender_u, cat_i]    explicit crosses (FM/DCN food)
                   + same_city * [city_u = city_i]
                   + H[h, type_i]                            hour x note type
                   + followed  * [u follows author_i]
                   + circle    * [u and i in the same small circle]
                   - slope * log2(1 + p) - fatigue * f       position bias, fatigue

After a click, like / collect / share / comment / follow are Bernoulli with logits that
share the interest match m = max_k <c_uk, v_i> + <s_ut, v_i> - 1 and the quality q_i but each
have their own item driver, so tasks are correlated but not identical; iOS users like more
(the note's device example). A clicked video is watched for a fraction
Beta(5 f, 5 (1 - f)) of its length, f = sigmoid(1.0 + 0.9 m + 0.5 q - 0.6 log(len / 60)).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import sparse

from course._checks import check_nonnegative_int, check_positive_int
from course.world.config import WorldConfig

# Share of traffic per hour of day (a phone app's day: commute peaks, a big evening peak).
HOUR_SHARES = np.array([1.0, 0.6, 0.4, 0.3, 0.3, 0.4, 1.0, 2.0, 3.0, 2.5, 2.0, 2.2,
                        3.0, 2.6, 2.2, 2.2, 2.4, 2.8, 3.4, 4.0, 4.6, 5.0, 4.2, 2.4])
HOUR_SHARES = HOUR_SHARES / HOUR_SHARES.sum()


def hour_type_table(scale: float) -> np.ndarray:
    """H[hour, is_video]: evenings favour video, the morning commute favours image notes."""
    table = np.zeros((24, 2))
    hours = np.arange(24)
    table[(hours >= 18), 1] = 1.0
    table[(hours >= 9) & (hours < 18), 1] = -0.5
    table[(hours >= 6) & (hours < 10), 0] = 0.75
    table[(hours >= 18), 0] = -0.25
    return scale * table


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


class Oracle:
    """True probabilities for any batch of (user, item, context). Built by the world.

    All methods take aligned 1-D ``user_ids`` and ``item_ids`` (or scalars that broadcast) and
    a ``day``; ``hour=None`` averages the hour x type cross over the day's traffic.
    """

    def __init__(self, config: WorldConfig, users: dict, items: dict, crosses: dict,
                 follows: pd.DataFrame, n_authors: int):
        self.config = config
        self.users = users        # arrays indexed by user_id
        self.items = items        # arrays indexed by item_id (grows as notes are published)
        self.crosses = crosses
        self.n_authors = n_authors
        self._follow_keys = np.sort(follows["user_id"].to_numpy() * n_authors
                                    + follows["author_id"].to_numpy())
        self._follow_matrix = sparse.csr_matrix(
            (np.ones(len(follows), dtype=bool), (follows["user_id"], follows["author_id"])),
            shape=(len(users["age"]), n_authors))
        self._drift_cache: dict[int, np.ndarray] = {}
        self._hour_type = hour_type_table(config.click.hour_type_scale)

    # ----------------------------------------------------------------- input checking
    def _check(self, user_ids, item_ids):
        user_ids, item_ids = np.broadcast_arrays(np.asarray(user_ids), np.asarray(item_ids))
        if user_ids.ndim != 1:
            user_ids, item_ids = user_ids.ravel(), item_ids.ravel()
        for name, ids, n in (("user_ids", user_ids, len(self.users["age"])),
                             ("item_ids", item_ids, len(self.items["quality"]))):
            if not np.issubdtype(ids.dtype, np.integer):
                raise TypeError(f"{name} must be integers, got dtype {ids.dtype}")
            if ids.size and (ids.min() < 0 or ids.max() >= n):
                raise ValueError(f"{name} must lie in [0, {n}); got values in "
                                 f"[{ids.min()}, {ids.max()}]")
        return user_ids.astype(np.int64), item_ids.astype(np.int64)

    # ----------------------------------------------------------------- interest
    def drift(self, day: int) -> np.ndarray:
        """Short-term interest s_t of every user on ``day``: an AR(1) walk from day 0."""
        day = check_nonnegative_int(day, "day")
        if day not in self._drift_cache:
            c = self.config
            n, d = len(self.users["age"]), c.latent_dim
            if day == 0:
                state = np.random.default_rng([c.seed, 99, 0]).normal(0, c.drift_scale, (n, d))
            else:
                rho = c.drift_persistence
                noise = np.random.default_rng([c.seed, 99, day]).normal(0, c.drift_scale, (n, d))
                state = rho * self.drift(day - 1) * np.sqrt(d) + np.sqrt(1 - rho**2) * noise
            self._drift_cache[day] = state / np.sqrt(d)
        return self._drift_cache[day]

    def interest(self, user_ids, item_ids, day: int) -> np.ndarray:
        """m(u, i) = max_k <c_uk, v_i> + <s_ut, v_i>, shape (n,)."""
        user_ids, item_ids = self._check(user_ids, item_ids)
        return self._long_term(user_ids, item_ids) + self._short_term(user_ids, item_ids, day)

    def _long_term(self, u, i):
        centres, latent = self.users["centres"][u], self.items["latent"][i]       # (n,3,d) (n,d)
        match = np.einsum("nkd,nd->nk", centres, latent)                           # (n, 3)
        return np.where(self.users["interest_mask"][u], match, -np.inf).max(axis=1)

    def _short_term(self, u, i, day):
        return np.einsum("nd,nd->n", self.drift(day)[u], self.items["latent"][i])

    # ----------------------------------------------------------------- clicks
    def _hour_term(self, hour, is_video):
        if hour is None:
            return (HOUR_SHARES @ self._hour_type)[is_video]
        hour = np.asarray(hour)
        if np.any((hour < 0) | (hour > 23)):
            raise ValueError("hour must lie in 0..23")
        return self._hour_type[hour, is_video]

    def click_logit(self, user_ids, item_ids, *, day: int, hour=None, position=0,
                    n_same_category_before=0) -> np.ndarray:
        """The true click logit, shape (n,). See the module docstring for the formula."""
        u, i = self._check(user_ids, item_ids)
        w, U, I = self.config.click, self.users, self.items
        # float64: the logs store position as int8, and log2(1 + int8) would be computed in
        # float16 (about 2e-4 off in probability).
        position = np.asarray(position, dtype=np.float64)
        if np.any(position < 0):
            raise ValueError("position must be >= 0 (0 is the top of the slate)")
        followed = np.isin(u * self.n_authors + I["author"][i], self._follow_keys)
        same_circle = (U["circle"][u] >= 0) & (U["circle"][u] == I["circle"][i])
        return (w.bias
                + w.interest_weight * self._long_term(u, i)
                + w.drift_weight * self._short_term(u, i, day)
                + w.quality_weight * I["quality"][i]
                + self.crosses["age_category"][U["age"][u], I["category"][i]]
                + self.crosses["gender_category"][U["gender"][u], I["category"][i]]
                + w.same_city * (U["city"][u] == I["city"][i])
                + self._hour_term(hour, I["is_video"][i])
                + w.followed_author * followed
                + w.circle_item * same_circle
                - w.position_slope * np.log2(1 + position)
                - w.fatigue * np.asarray(n_same_category_before))

    def click_probability(self, user_ids, item_ids, **context) -> np.ndarray:
        """P(click | user, item, context), shape (n,)."""
        return sigmoid(self.click_logit(user_ids, item_ids, **context))

    def action_probabilities(self, user_ids, item_ids, *, day: int, hour=None, position=0,
                             n_same_category_before=0) -> pd.DataFrame:
        """P(click) and, given a click, P(like), P(collect), P(share), P(comment), P(follow),
        and the expected watch fraction of videos (NaN for image notes)."""
        u, i = self._check(user_ids, item_ids)
        U, I = self.users, self.items
        # the interest match, centred near its typical value for a clicked note
        m = self._long_term(u, i) + self._short_term(u, i, day) - 1.0
        q = I["quality"][i]
        ios = U["os"][u] == 0
        young = U["age"][u] <= 1
        video = I["is_video"][i].astype(bool)
        watch = sigmoid(1.0 + 0.9 * m + 0.5 * q - 0.6 * np.log(np.where(video, I["video_length"][i], 60) / 60))
        return pd.DataFrame({
            "click": self.click_probability(u, i, day=day, hour=hour, position=position,
                                            n_same_category_before=n_same_category_before),
            "like": sigmoid(-2.5 + 0.8 * m + 0.8 * q + 0.35 * ios + I["likeability"][i]),
            "collect": sigmoid(-3.5 + 0.4 * m + 1.0 * q + 0.8 * (~video & (I["word_count"][i] > 300))
                               + I["collectability"][i]),
            "share": sigmoid(-3.6 + 0.5 * m + 0.7 * q + I["shareability"][i]),
            "comment": sigmoid(-3.5 + 0.6 * m + 0.3 * q + 0.3 * young + I["controversy"][i]),
            "follow": sigmoid(-4.2 + 0.8 * m + 0.8 * I["author_quality"][i]),
            "watch_fraction": np.where(video, watch, np.nan),
        })

    # ----------------------------------------------------------------- whole catalogues
    def click_probability_matrix(self, user_ids, item_ids=None, *, day: int, hour=None,
                                 chunk_size: int = 256) -> np.ndarray:
        """P(click) at the top of a slate (no fatigue) for every (user, item) pair.

        The same formula as :meth:`click_logit`, broadcast over a (users x items) grid in
        chunks of users, so the whole catalogue can be scored for thousands of users.

        Returns
        -------
        ndarray of shape (n_users, n_items)
        """
        return sigmoid(self.click_logit_matrix(user_ids, item_ids, day=day, hour=hour,
                                               chunk_size=chunk_size))

    def click_logit_matrix(self, user_ids, item_ids=None, *, day: int, hour=None,
                           chunk_size: int = 256) -> np.ndarray:
        """The logit of :meth:`click_probability_matrix`, shape (n_users, n_items)."""
        all_items = len(self.items["quality"])
        user_ids = np.asarray(user_ids, dtype=np.int64)
        item_ids = np.arange(all_items) if item_ids is None else np.asarray(item_ids, dtype=np.int64)
        if user_ids.size and item_ids.size:
            self._check(user_ids, user_ids * 0 + item_ids[0])
            self._check(item_ids * 0 + user_ids[0], item_ids)
        w, U, I = self.config.click, self.users, self.items
        latent = I["latent"][item_ids]                                            # (I, d)
        category, author = I["category"][item_ids], I["author"][item_ids]
        item_term = (w.quality_weight * I["quality"][item_ids]
                     + self._hour_term(hour, I["is_video"][item_ids]))            # (I,)
        out = np.empty((len(user_ids), len(item_ids)))
        for start in range(0, len(user_ids), chunk_size):
            u = user_ids[start:start + chunk_size]
            match = (U["centres"][u].reshape(-1, latent.shape[1]) @ latent.T
                     ).reshape(len(u), 3, -1)                                      # (B, 3, I)
            match = np.where(U["interest_mask"][u][:, :, None], match, -np.inf).max(axis=1)
            followed = self._follow_matrix[u].toarray()                          # (B, n_authors)
            circle = U["circle"][u][:, None]
            logit = (w.bias + w.interest_weight * match
                     + w.drift_weight * self.drift(day)[u] @ latent.T
                     + item_term[None, :]
                     + (self.crosses["age_category"][U["age"][u]]
                        + self.crosses["gender_category"][U["gender"][u]])[:, category]
                     + w.same_city * (U["city"][u][:, None] == I["city"][item_ids][None, :])
                     + w.followed_author * followed[:, author]
                     + w.circle_item * ((circle >= 0) & (circle == I["circle"][item_ids][None, :])))
            out[start:start + len(u)] = logit
        return out

    def top_k(self, user_ids, k: int, *, day: int, item_ids=None, exclude=None) -> np.ndarray:
        """The true top-k items per user by P(click), shape (n_users, k), best first.

        ``exclude`` is an optional boolean (n_users, n_items) array or sparse matrix of pairs
        to skip (e.g. already-seen items); ``item_ids`` restricts the catalogue.

        The truth the yardstick measures recall against, not a recommender: it returns item ids
        only (no scores, no ``-1`` padding; ``k`` may not exceed the candidate items), so the
        ``(items, scores)`` convention of ``recommend`` / ``search`` does not apply.
        """
        k = check_positive_int(k, "k")
        item_ids = np.arange(len(self.items["quality"])) if item_ids is None else np.asarray(item_ids)
        if k > len(item_ids):
            raise ValueError(f"k={k} exceeds the {len(item_ids)} candidate items")
        scores = self.click_probability_matrix(user_ids, item_ids, day=day)
        if exclude is not None:
            exclude = exclude.toarray() if hasattr(exclude, "toarray") else np.asarray(exclude)
            if exclude.shape != scores.shape:
                raise ValueError(f"exclude must have shape {scores.shape}, got {exclude.shape}")
            scores = np.where(exclude, -np.inf, scores)
        top = np.argpartition(-scores, k - 1, axis=1)[:, :k]
        order = np.argsort(-np.take_along_axis(scores, top, 1), axis=1, kind="stable")
        return item_ids[np.take_along_axis(top, order, 1)]

    def top_k_by_day(self, user_ids, k: int, *, days, item_ids=None) -> dict[int, np.ndarray]:
        """:meth:`top_k` for several days at once: {day: ndarray of shape (n_users, k)}.

        Only the short-term term ``w_drift <s_ut, v_i>`` of the logit changes from day to day,
        so the rest is computed once and each day adds its own drift term: one (users x items)
        product per day instead of the whole click model. Same lists as calling ``top_k``
        once per day (best first; P(click) is monotone in the logit).
        """
        k = check_positive_int(k, "k")
        days = [int(day) for day in np.atleast_1d(days)]
        if not days or min(days) < 0:
            raise ValueError(f"days must be a non-empty list of days >= 0, got {days!r}")
        user_ids = np.asarray(user_ids, dtype=np.int64)
        item_ids = np.arange(len(self.items["quality"])) if item_ids is None else np.asarray(item_ids)
        if k > len(item_ids):
            raise ValueError(f"k={k} exceeds the {len(item_ids)} candidate items")
        latent, weight = self.items["latent"][item_ids], self.config.click.drift_weight   # (I, d)
        rest = (self.click_logit_matrix(user_ids, item_ids, day=days[0])
                - weight * self.drift(days[0])[user_ids] @ latent.T)                     # (U, I)
        out = {}
        for day in days:
            logit = rest + weight * self.drift(day)[user_ids] @ latent.T                 # (U, I)
            top = np.argpartition(-logit, k - 1, axis=1)[:, :k]
            order = np.argsort(-np.take_along_axis(logit, top, 1), axis=1, kind="stable")
            out[day] = item_ids[np.take_along_axis(top, order, 1)]
        return out
