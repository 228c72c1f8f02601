"""How much personal interest matters in the world, and its logged rates next to real platforms.

A recommender only has something to learn if users differ: if every user's true click logit
were note quality plus noise, one popularity list would be the best feed for everyone.
:func:`interest_balance` measures that on the oracle's truth; :func:`platform_rates` puts the
world's logged rates beside published figures from real feeds; :func:`served_ctr` serves the
random, logging and oracle policies for a day.

>>> from course import world
>>> world.interest_balance(world.load("small"))      # doctest: +SKIP
InterestBalance(day 7, 400 users x 7849 notes, k=50: variance item 0.317 / user 0.073 / ...
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from course._checks import check_nonnegative_int, check_positive_int, check_world
from course.seed import as_generator
from course.world.oracle import sigmoid

ACTIONS = ("like", "collect", "share", "comment", "follow")


@dataclass(frozen=True)
class InterestBalance:
    """The figures of :func:`interest_balance` (shares in [0, 1])."""

    day: int
    n_users: int
    n_items: int
    k: int
    item_share: float          # variance share of the item main effect (column means)
    user_share: float          # variance share of the user main effect (row means)
    interaction_share: float   # the rest: what only a personalised model can learn
    best_list_share: float     # mean share of a user's true top-k in the best single top-k list
    most_clicked_share: float  # ... in the k most-clicked servable notes of the logs
    jaccard: float             # mean pairwise Jaccard of users' true top-k lists

    def as_frame(self) -> pd.DataFrame:
        """One row per figure, column ``value``."""
        return pd.DataFrame({"value": asdict(self)}).astype(float)

    def __repr__(self):
        return (f"InterestBalance(day {self.day}, {self.n_users} users x {self.n_items} notes, "
                f"k={self.k}: variance item {self.item_share:.3f} / user {self.user_share:.3f} / "
                f"user x item {self.interaction_share:.3f}; best list holds "
                f"{self.best_list_share:.3f}, most clicked {self.most_clicked_share:.3f}; "
                f"Jaccard {self.jaccard:.3f})")


def servable_items(world, day: int) -> np.ndarray:
    """Ids of the notes the environment may serve on ``day``: published, not too old.

    The rule of :meth:`course.world.Environment.available_items`, read from ``world.items``.
    """
    age = day - world.items["publish_day"].to_numpy()
    return world.items["item_id"].to_numpy()[(age >= 0) & (age <= world.config.max_item_age_days)]


def variance_shares(logit: np.ndarray) -> tuple[float, float, float]:
    """Two-way ANOVA of a full (users x items) matrix: item, user and interaction shares.

    With grand mean m, row means r_u and column means c_i of L (shape (n_users, n_items)),
    ``L - m = (r_u - m) + (c_i - m) + e_ui`` and, the design being complete, the three parts
    are orthogonal: ``var(L) = var(c) + var(r) + mean(e^2)``. Returns
    ``(var(c), var(r), mean(e^2)) / var(L)``, which sum to 1.
    """
    logit = np.asarray(logit, dtype=float)
    if logit.ndim != 2 or min(logit.shape) < 2:
        raise ValueError(f"need a (users x items) matrix with >= 2 of each, got shape {logit.shape}")
    total = logit.var()
    if total == 0:
        raise ValueError("the matrix is constant: no variance to decompose")
    item, user = logit.mean(axis=0).var() / total, logit.mean(axis=1).var() / total
    return float(item), float(user), float(1.0 - item - user)


def top_k_mask(scores: np.ndarray, k: int) -> np.ndarray:
    """Boolean (n_users, n_items): True on each row's k highest scores."""
    top = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    mask = np.zeros(scores.shape, dtype=bool)
    np.put_along_axis(mask, top, True, axis=1)
    return mask


def mean_pairwise_jaccard(mask: np.ndarray) -> float:
    """Mean over user pairs u < v of |A_u ∩ A_v| / |A_u ∪ A_v|, for the rows of a boolean
    (n_users, n_items) membership matrix (every row non-empty)."""
    m = mask.astype(np.float64)
    inter = m @ m.T                                                   # (U, U) shared items
    size = m.sum(axis=1)
    union = size[:, None] + size[None, :] - inter
    upper = np.triu_indices(len(m), 1)
    return float((inter[upper] / union[upper]).mean())


def logged_day(world, day: int | None) -> int:
    """``day`` checked to be a logged day (default: the last one)."""
    n_days = world.config.n_days
    day = n_days - 1 if day is None else check_nonnegative_int(day, "day")
    if day >= n_days:
        raise ValueError(f"day must be a logged day in [0, {n_days}), got {day}")
    return day


def oracle_sample(world, day: int | None, n_users: int, k: int, seed: int):
    """The sample every figure here is measured on, after checking the arguments.

    Returns ``(day, users, items, logit)``: the day, ``n_users`` user ids drawn without
    replacement (seeded, sorted), the servable notes of that day, and the oracle's true click
    logit of every pair, shape (n_users, n_items). ``k`` must not exceed the servable notes.
    """
    check_world(world)
    day = logged_day(world, day)
    n_users = check_positive_int(n_users, "n_users")
    if n_users > len(world.users):
        raise ValueError(f"n_users={n_users} exceeds the world's {len(world.users)} users")
    k = check_positive_int(k, "k")
    items = servable_items(world, day)
    if k > len(items):
        raise ValueError(f"k={k} exceeds the {len(items)} servable notes on day {day}")
    users = np.sort(as_generator(seed, "seed").choice(len(world.users), n_users, replace=False))
    return day, users, items, world.oracle.click_logit_matrix(users, items, day=day)   # (U, I)


def interest_balance(world, day: int | None = None, n_users: int = 400, k: int = 50,
                     seed: int = 0) -> InterestBalance:
    """Variance shares of the true click logit and how much one list serves everyone.

    On ``day`` (default: the last logged day), for ``n_users`` users drawn at random (seeded)
    and every servable note, takes the oracle's true click logit L (shape (n_users, n_items),
    hour averaged over the day, top of the slate) and returns

    - the two-way ANOVA shares of var(L) (:func:`variance_shares`);
    - the mean share of a user's true top-k (by L) held by the best single list: the k notes
      with the highest mean true P(click) = mean_u sigmoid(L_ui) over the sampled users;
    - the same for the k servable notes most clicked in the logs on days <= ``day``;
    - the mean pairwise Jaccard of the users' true top-k lists.

    Parameters
    ----------
    world : World
    day : int, optional
        A logged day, 0 .. n_days - 1.
    n_users : int
        Users sampled (without replacement) from the world's users.
    k : int
        Length of the lists (at most the number of servable notes).
    seed : int
        Seed of the user sample (through :func:`course.seed.as_generator`; no global state).

    Returns
    -------
    InterestBalance
    """
    day, users, items, logit = oracle_sample(world, day, n_users, k, seed)
    n_users = len(users)
    item_share, user_share, interaction_share = variance_shares(logit)
    truth = top_k_mask(logit, k)                                                  # (U, I)

    def held(scores):                    # mean share of each user's true top-k in one list
        best = np.argsort(-scores, kind="stable")[:k]                             # ties: lower id
        return float(truth[:, best].sum(axis=1).mean() / k)

    logs = world.impressions
    clicks = logs.loc[(logs["day"] <= day) & (logs["click"] == 1), "item_id"].to_numpy()
    counts = np.bincount(clicks, minlength=len(world.items))[items]               # (I,)
    return InterestBalance(
        day=day, n_users=n_users, n_items=len(items), k=k, item_share=item_share,
        user_share=user_share, interaction_share=interaction_share,
        best_list_share=held(sigmoid(logit).mean(axis=0)),
        most_clicked_share=held(counts.astype(float)),
        jaccard=mean_pairwise_jaccard(truth))


def gini(values) -> float:
    """Gini coefficient of non-negative values (0: all equal, -> 1: one takes all).

    ``G = sum_i (2 i - n - 1) x_(i) / (n sum x)`` with x sorted ascending, i = 1 .. n: the
    mean absolute difference of all pairs over twice the mean.
    """
    x = np.sort(np.asarray(values, dtype=float))
    if x.ndim != 1 or x.size == 0 or x.min() < 0 or x.sum() == 0:
        raise ValueError("gini needs a non-empty 1-D array of non-negative values, not all 0")
    n = x.size
    return float(((2 * np.arange(1, n + 1) - n - 1) * x).sum() / (n * x.sum()))


# Published rates of real feeds (NaN where a dataset has no such figure).
# Tenrec QK-video: Tencent's video feed (Yuan et al., "Tenrec", NeurIPS 2022 Datasets track).
# KuaiRand-Pure: Kuaishou's normal feed (Gao et al., "KuaiRand", CIKM 2022).
# Ali-CCP: Taobao ads (Ma et al., "ESMM", SIGIR 2018); its conversion/click is 0.53 %, which
# the world has no counterpart of (no purchases).
PUBLISHED = pd.DataFrame(
    {"Tenrec QK-video": {"CTR": 0.288, "like|click": 0.071, "share|click": 0.0079,
                         "follow|click": 0.0060},
     "KuaiRand-Pure": {"like|click": 0.04, "exposure Gini": 0.73},
     "Ali-CCP": {"CTR": 0.040}})


def platform_rates(world) -> pd.DataFrame:
    """The world's logged rates beside published figures, one row per metric.

    Rates: CTR (clicks / impressions), each post-click action per click, the Gini of
    impressions over the notes servable on at least one logged day (never-shown ones count
    as 0), and the share of impressions taken by the top 20 % of those notes.

    Returns
    -------
    DataFrame indexed by metric (8 rows), columns ``world`` then one per published dataset
    (``Tenrec QK-video``, ``KuaiRand-Pure``, ``Ali-CCP``; NaN where it has no figure).
    """
    check_world(world)
    imp = world.impressions
    clicked = imp[imp["click"] == 1]
    rates = {"CTR": imp["click"].mean()}
    rates.update({f"{a}|click": clicked[a].mean() for a in ACTIONS})
    publish = world.items["publish_day"].to_numpy()
    ever = (publish <= world.config.n_days - 1) & (publish + world.config.max_item_age_days >= 0)
    shown = np.bincount(imp["item_id"], minlength=len(world.items))[ever]     # (n_servable,)
    rates["exposure Gini"] = gini(shown)
    top = np.sort(shown)[::-1][: int(np.ceil(0.2 * shown.size))]
    rates["top 20% notes: impression share"] = top.sum() / shown.sum()
    frame = pd.DataFrame({"world": pd.Series(rates, dtype=float)})
    return frame.join(PUBLISHED)


def served_ctr(world, seed: int = 0) -> pd.Series:
    """CTR of one simulated day (the day after the logs) under the random, logging and oracle
    policies, each from a fresh environment with the same ``seed`` (the same users and hours;
    ``seed`` also drives the random policy).

    The floor, the legacy baseline and the ceiling any chapter's policy lands between.

    Returns
    -------
    Series indexed by ``random``, ``logging``, ``oracle``.
    """
    from course.world.policies import oracle_policy, random_policy   # policies import the env
    out = {}
    for name in ("random", "logging", "oracle"):
        env = world.environment(seed=seed)
        policy = {"random": lambda: random_policy(seed),
                  "logging": lambda: world.logging_policy(env),   # the logs' own seed
                  "oracle": lambda: oracle_policy(env)}[name]()
        out[name] = env.step(policy).impressions["click"].mean()
    return pd.Series(out, name="CTR")
