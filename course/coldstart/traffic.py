"""Traffic control for new notes (流量调控), Wang Shusen Part 7, lecture 4.

A new note competes for slots against notes whose statistics the ranker trusts; left alone it
is shown little, its author sees nothing happen and posts less. Platforms therefore tilt
traffic towards new notes:

- **boost** (提权): raise the ranking score of notes younger than a window, additively
  ``s + b`` or multiplicatively ``s · m`` (:func:`additive_boost`, :func:`multiplicative_boost`);
- **guaranteed exposure** (保量): promise each new note ``target`` impressions within
  ``target_hours`` hours (the note's 100 impressions in 24 h), with a *dynamic* boost
  (动态提权) that grows when the note is behind schedule,
  ``factor = f(elapsed / target time, impressions / target impressions)``
  (:func:`dynamic_boost_factor`);
- **differentiated guarantees** (差异化保量): a larger target for notes predicted to be good
  (here: the author's past click rate), a smaller one for the others.

Guarantees miss: the boost has to beat the ranker's score, and demand is uneven over the day
(a note published before the night sees few requests in its first hours). Both happen in the
world, which :class:`TrafficPolicy` serves hour by hour.

The ranker is *simulated* (a teaching device, like :mod:`course.world.serving_policies`): it
knows each user's taste for a note's content (the world's interest match, the largest part of
the true click model), but must estimate a note's quality from its own clicks, shrunk towards a
pessimistic prior for notes with few impressions (a ranker trained on old notes has learned
that rarely-shown notes are mostly weak). That prior is what a new note has to overcome.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from course._arrays import rank_within_groups
from course._checks import check_array, check_int, check_real
from course.world.oracle import sigmoid

__all__ = ["additive_boost", "multiplicative_boost", "dynamic_boost_factor", "TrafficRule",
           "TrafficPolicy", "guarantee_success", "expected_posts", "simulate"]

KINDS = ("none", "additive", "multiplicative", "guarantee")


def _check_boost_shape(scores, boost, name):
    scores = check_array(scores, 2, "scores", "iuf")
    boost = np.asarray(boost, dtype=float)
    if boost.ndim not in (0, 1) or (boost.ndim == 1 and boost.shape[0] != scores.shape[1]):
        raise ValueError(f"{name} must be a number or one value per column ({scores.shape[1]}), "
                         f"got shape {boost.shape}")
    return scores.astype(float), boost


def additive_boost(scores, boost) -> np.ndarray:
    """``scores + boost``: the boost added to every row (0 for the notes not boosted).

    Parameters
    ----------
    scores : array of shape (B, m)
    boost : float or array of shape (m,)

    Examples
    --------
    >>> additive_boost([[0.1, 0.2]], [0.05, 0.0]).tolist()
    [[0.15000000000000002, 0.2]]
    """
    scores, boost = _check_boost_shape(scores, boost, "boost")
    return scores + boost


def multiplicative_boost(scores, factor) -> np.ndarray:
    """``scores · factor`` (factor 1 for the notes not boosted); scores must be >= 0.

    A multiplicative boost favours a new note in proportion to its own score: a note the ranker
    likes for a user gains more than one it does not, unlike the additive boost.

    Examples
    --------
    >>> multiplicative_boost([[0.1, 0.2]], [2.0, 1.0]).tolist()
    [[0.2, 0.2]]
    """
    scores, factor = _check_boost_shape(scores, factor, "factor")
    if (scores < 0).any():
        raise ValueError("a multiplicative boost needs non-negative scores (probabilities)")
    if (factor <= 0).any():
        raise ValueError("factor must be > 0")
    return scores * factor


def dynamic_boost_factor(elapsed, target_time, shown, target_exposure, strength) -> np.ndarray:
    """The guarantee's boost factor: ``1 + strength · max(0, elapsed / T - shown / N)``.

    T = ``target_time``, N = ``target_exposure``. A note on schedule (its share of the target
    reached at least its share of the time elapsed) gets no boost; one behind schedule gets a
    boost growing with the gap. Past the deadline or once the target is met, the factor is 1.

    Parameters
    ----------
    elapsed : array of shape (m,)           time since publication (hours here)
    target_time : float > 0 or (m,)
    shown : array of shape (m,)             impressions so far
    target_exposure : float > 0 or (m,)
    strength : float >= 0

    Examples
    --------
    >>> dynamic_boost_factor([12, 12, 30], 24, [10, 80, 0], 100, strength=4).tolist()
    [2.6, 1.0, 1.0]
    """
    elapsed = np.asarray(elapsed, dtype=float)
    shown = np.asarray(shown, dtype=float)
    target_time, target_exposure = np.asarray(target_time, float), np.asarray(target_exposure, float)
    if (target_time <= 0).any() or (target_exposure <= 0).any():
        raise ValueError("target_time and target_exposure must be > 0")
    strength = check_real(strength, "strength", low=0)
    if elapsed.shape != shown.shape:
        raise ValueError(f"elapsed and shown must have the same shape, got {elapsed.shape} and {shown.shape}")
    behind = np.maximum(0.0, elapsed / target_time - shown / target_exposure)
    active = (elapsed < target_time) & (shown < target_exposure)
    return np.where(active, 1.0 + strength * behind, 1.0)


@dataclass(frozen=True)
class TrafficRule:
    """How new notes are treated. ``kind`` is one of ``none``, ``additive``, ``multiplicative``,
    ``guarantee``.

    Attributes
    ----------
    kind : str
    strength : float       additive: added to P̂(click); multiplicative: the factor; guarantee:
                           the dynamic boost's strength
    new_hours : int        additive / multiplicative: notes younger than this are boosted
    target : float         guarantee: impressions promised within ``target_hours``
    target_hours : int
    tiers : tuple          differentiated guarantee: target multipliers for the authors with a
                           low / middle / high past click rate (terciles); () = one target for all
    """

    kind: str = "none"
    strength: float = 0.0
    new_hours: int = 24
    target: float = 100.0
    target_hours: int = 24
    tiers: tuple = ()

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {self.kind!r}")
        check_real(self.strength, "strength", low=0)
        if self.kind == "multiplicative" and self.strength <= 0:
            raise ValueError("a multiplicative boost needs strength (the factor) > 0")
        check_int(self.new_hours, "new_hours", minimum=1)
        check_int(self.target_hours, "target_hours", minimum=1)
        if not check_real(self.target, "target") > 0:
            raise ValueError(f"target must be > 0, got {self.target}")
        if self.tiers and (len(self.tiers) != 3 or min(self.tiers) <= 0):
            raise ValueError(f"tiers must be three positive target multipliers, got {self.tiers}")


class TrafficPolicy:
    """A simulated ranker plus a traffic rule, served hour by hour in the online environment.

    Each day, every user's candidates are the ``n_candidates`` notes with the best base score
    among the ``n_pool`` old notes of highest estimated quality (recall), plus every note young enough to be boosted; for each hour's requests,
    ``P̂(u, i) = sigmoid(bias + w · taste(u, i) + q̂_i)``, the rule's boost applied to the young
    ones, the notes the user saw earlier today removed, and the top ``slate_size`` served (a
    user's 2nd request in the hour gets the next ranks). ``q̂_i = logit((clicks_i + a · prior) / (impressions_i + a)) - logit(mean)``:
    the quality estimate, from the note's clicks, shrunk towards ``prior`` (pessimistic).
    Impressions served are counted at once (the guarantee sees them within the day); clicks
    arrive with :meth:`observe` after each day.

    Parameters
    ----------
    environment : course.world.Environment
    rule : TrafficRule
    prior_ctr : float        the ranker's click rate for a note with no impressions
    smoothing : float        a, pseudo-impressions of the prior
    """

    def __init__(self, environment, rule: TrafficRule, prior_ctr: float = 0.08, smoothing: float = 50.0,
                 taste_weight: float = 1.05, bias: float = -3.0, n_candidates: int = 200,
                 n_pool: int = 2000, boosted_authors=None, visible_new_authors=None):
        if not isinstance(rule, TrafficRule):
            raise TypeError(f"rule must be a TrafficRule, got {type(rule).__name__}")
        self.environment, self.rule = environment, rule
        self.prior_ctr = check_real(prior_ctr, "prior_ctr", low=0, high=1, low_open=True, high_open=True)
        self.smoothing = check_real(smoothing, "smoothing", low=0, low_open=True)
        self.taste_weight, self.bias = taste_weight, bias
        self.n_candidates = check_int(n_candidates, "n_candidates", minimum=1)
        self.n_pool = check_int(n_pool, "n_pool", minimum=1)
        n_authors = environment.oracle.n_authors
        for name, value in (("boosted_authors", boosted_authors), ("visible_new_authors", visible_new_authors)):
            if value is not None and (np.asarray(value).dtype != bool or np.shape(value) != (n_authors,)):
                raise ValueError(f"{name} must be a bool array of shape ({n_authors},) (one per author)")
        self.boosted_authors, self.visible_new_authors = boosted_authors, visible_new_authors
        logs = environment.world.impressions
        n = len(environment.items)
        self.shown_ = np.bincount(logs["item_id"], minlength=n).astype(float)
        self.clicks_ = np.bincount(logs["item_id"], weights=logs["click"], minlength=n)
        self.mean_ctr_ = float(logs["click"].mean())
        # impressions each note got from this policy since publication (what a guarantee counts)
        self.guarantee_shown_ = np.zeros(n)

    def _grow(self):
        n = len(self.environment.items)
        if n > len(self.shown_):
            pad = np.zeros(n - len(self.shown_))
            self.shown_, self.clicks_ = np.concatenate([self.shown_, pad]), np.concatenate([self.clicks_, pad])
            self.guarantee_shown_ = np.concatenate([self.guarantee_shown_, pad])

    def quality_estimate(self, items) -> np.ndarray:
        """q̂ of ``items``: logit of the smoothed click rate minus the logit of the mean rate."""
        a = self.smoothing
        rate = (self.clicks_[items] + a * self.prior_ctr) / (self.shown_[items] + a)
        return np.log(rate / (1 - rate)) - np.log(self.mean_ctr_ / (1 - self.mean_ctr_))

    def targets(self, items) -> np.ndarray:
        """The guarantee's target of each note (differentiated by the author's past click rate)."""
        rule = self.rule
        targets = np.full(len(items), float(rule.target))
        if rule.tiers:
            author = self.environment.oracle.items["author"]
            n_authors = self.environment.oracle.n_authors
            shown = np.bincount(author[: len(self.shown_)], weights=self.shown_, minlength=n_authors)
            clicks = np.bincount(author[: len(self.clicks_)], weights=self.clicks_, minlength=n_authors)
            author_ctr = (clicks + 10 * self.mean_ctr_) / (shown + 10)       # predicted quality
            cuts = np.quantile(author_ctr, [1 / 3, 2 / 3])
            tier = np.searchsorted(cuts, author_ctr[author[items]], side="right")
            targets = targets * np.asarray(rule.tiers, dtype=float)[tier]
        return targets

    def taste(self, users, items) -> np.ndarray:
        """(U, m) the users' best interest match with the notes, in chunks of users."""
        oracle = self.environment.oracle
        latent = oracle.items["latent"][items].T                                      # (d, m)
        out = np.empty((len(users), len(items)))
        for start in range(0, len(users), 256):   # chunks bound the (256, 3, m) temporary
            chunk = users[start:start + 256]
            centres = oracle.users["centres"][chunk]                                  # (c, 3, d)
            match = (centres.reshape(-1, centres.shape[2]) @ latent).reshape(len(chunk), 3, -1)  # (c, 3, m)
            mask = oracle.users["interest_mask"][chunk][:, :, None]
            out[start:start + len(chunk)] = np.where(mask, match, -np.inf).max(axis=1)
        return out

    def __call__(self, requests) -> np.ndarray:
        self._grow()
        env, rule, k = self.environment, self.rule, requests.slate_size
        available = requests.available_items
        publish = env.items["publish_day"].to_numpy()[available]
        window = max(rule.new_hours, rule.target_hours)
        young = (requests.day - publish) * 24 < window                                # boostable today
        author = env.oracle.items["author"][available]
        if self.visible_new_authors is not None:   # a both-sides A/B bucket: other authors' new notes unseen
            keep_visible = ~young | self.visible_new_authors[author]
            available, publish, young, author = (x[keep_visible] for x in (available, publish, young, author))
        old_items, young_items = available[~young], available[young]
        # The old notes a recall stage would reach: the best ``n_pool`` by estimated quality (it
        # also bounds the cost of the day's user x note scores).
        old_quality = self.quality_estimate(old_items)
        keep = np.lexsort((old_items, -old_quality))[: self.n_pool]
        old_items = old_items[keep]
        users, inverse = np.unique(requests.user_ids, return_inverse=True)            # today's users
        # Recall: each user's best old notes by the ranker's base score (fixed within the day).
        base_old = self.taste_weight * self.taste(users, old_items) + old_quality[keep]
        n_old = min(self.n_candidates, len(old_items))
        top = np.argpartition(-base_old, n_old - 1, axis=1)[:, :n_old]               # (U, n_old)
        candidates = np.concatenate([old_items[top], np.broadcast_to(young_items, (len(users), len(young_items)))], 1)
        base = np.concatenate([np.take_along_axis(base_old, top, 1),
                               self.taste_weight * self.taste(users, young_items)
                               + self.quality_estimate(young_items)], 1)              # (U, n_old + n_young)
        probability = sigmoid(self.bias + base)                                       # P̂(click)
        young_publish = publish[young]
        boosted = (np.ones(len(young_items), dtype=bool) if self.boosted_authors is None
                   else self.boosted_authors[author[young]])                          # author-side A/B
        targets = self.targets(young_items) if rule.kind == "guarantee" else None
        slates = np.empty((len(requests), k), dtype=np.int64)
        seen_today: dict[int, list[int]] = {}
        for hour in range(24):   # a loop over hours: the guarantee's counts move within the day
            rows = np.flatnonzero(requests.hours == hour)
            if not len(rows):
                continue
            who = inverse[rows]
            scores = probability[who].copy()                                          # (B, n_cand)
            elapsed = (requests.day - young_publish) * 24 + hour                      # (n_young,) hours
            scores[:, n_old:] = np.where(boosted, self._boost(scores[:, n_old:], elapsed, young_items, targets),
                                         scores[:, n_old:])
            for r, u in enumerate(who):   # notes this user saw earlier today (a short list)
                if u in seen_today:
                    scores[r, np.isin(candidates[u], seen_today[u])] = -np.inf
            page = rank_within_groups(who)                                            # (B,) 2nd request: next page
            depth = k * (int(page.max()) + 1)
            best = np.argpartition(-scores, depth - 1, axis=1)[:, :depth]
            order = np.lexsort((best, -np.take_along_axis(scores, best, 1)), axis=1)
            ranked = np.take_along_axis(best, order, 1)                               # (B, depth)
            chosen = ranked[np.arange(len(rows))[:, None], page[:, None] * k + np.arange(k)]   # (B, k)
            served = candidates[who[:, None], chosen]                                 # (B, k) note ids
            slates[rows] = served
            for u, notes in zip(who, served):
                seen_today.setdefault(int(u), []).extend(notes.tolist())
            np.add.at(self.guarantee_shown_, served.ravel(), 1)
        return slates

    def _boost(self, scores, elapsed, young_items, targets):
        rule = self.rule
        young = (elapsed >= 0) & (elapsed < rule.new_hours)
        if rule.kind == "additive":
            return additive_boost(scores, np.where(young, rule.strength, 0.0))
        if rule.kind == "multiplicative":
            return multiplicative_boost(scores, np.where(young, rule.strength, 1.0))
        if rule.kind == "guarantee":
            factor = dynamic_boost_factor(elapsed, rule.target_hours, self.guarantee_shown_[young_items],
                                          targets, rule.strength)
            return multiplicative_boost(scores, factor)
        return scores

    def observe(self, result) -> None:
        """Add a served day's impressions and clicks to the ranker's statistics."""
        self._grow()
        items = result.impressions["item_id"].to_numpy()
        self.shown_ += np.bincount(items, minlength=len(self.shown_))
        self.clicks_ += np.bincount(items, weights=result.impressions["click"].to_numpy(),
                                    minlength=len(self.clicks_))


def expected_posts(environment) -> np.ndarray:
    """(n_authors,) each author's expected number of notes tomorrow: the world's creator motivation.

    ``posting_rate_a · clip((exposure_a + 1) / (mean exposure + 1), 0.25, 4) ** 0.5``, with the
    environment's decayed exposure (``Environment._authors_post``): the Poisson mean the world
    draws from. It reads the truth (posting rates), for evaluation only: without the Poisson
    noise, a few days show the author-side effect of a traffic policy.
    """
    exposure = environment.author_exposure
    typical = max(exposure.mean(), 1e-9)
    motivation = np.clip((exposure + 1) / (typical + 1), 0.25, 4.0) ** 0.5
    return environment.world.author_truth["posting_rate"].to_numpy() * motivation


def guarantee_success(shown, targets) -> float:
    """Share of notes whose impressions by the deadline reached their target.

    >>> guarantee_success([120, 80, 100], [100, 100, 100])
    0.6666666666666666
    """
    shown = check_array(shown, 1, "shown", "iuf", allow_empty=False).astype(float)
    targets = np.broadcast_to(np.asarray(targets, dtype=float), shown.shape)
    if (targets <= 0).any():
        raise ValueError("targets must be > 0")
    return float((shown >= targets).mean())


def simulate(environment, policy, n_days: int):
    """Serve ``policy`` for ``n_days`` days; after each, let it :meth:`~TrafficPolicy.observe`.

    Returns the list of :class:`course.world.DayResult` and, per day, the authors' expected
    posts (:func:`expected_posts`) after the day, shape (n_days, n_authors).
    """
    n_days = check_int(n_days, "n_days", minimum=1)
    results, posts = [], []
    for _ in range(n_days):
        result = environment.step(policy)
        observe = getattr(policy, "observe", None)
        if observe is not None:
            observe(result)
        results.append(result)
        posts.append(expected_posts(environment))
    return results, np.array(posts)
