"""Online experiments on the simulated platform: A/B, A/A and reverse experiments (反转实验).

Users are split by :func:`~course.abtest.bucketing.assign_bucket` and both arms are served on the
same simulated days by :func:`course.world.route_by_group`, exactly as a platform serves an
A/B test: same days, same catalogue, one policy per user. Every user of the world gets a row of
metrics, including users who never opened the app during the test (zeros): dropping them would
hide a policy that drives users away.

The environment draws one uniform per (request, slot, action), so two arms that show the same
note to the same user in the same slot share the outcome (common random numbers); on the first
day of a test each user's requests do not depend on the arm at all, which is what makes the
"potential outcomes" demo of the notebook exact.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from course._checks import check_positive_int, check_probability
from course.abtest.bucketing import assign_bucket
from course.abtest.statistics import ABTestResult, compare_means

__all__ = ["OnlineExperiment", "ReverseExperiment", "run_online_ab_test", "run_aa_test",
           "rerandomised_tests", "aa_p_values", "run_reverse_experiment", "expected_clicks_per_user"]

COUNTS = ("impressions", "clicks", "likes", "collects", "shares", "comments")


def _environment(world_or_env, seed: int):
    """An Environment: the one given, or a new one continuing the given World's logs."""
    if hasattr(world_or_env, "step") and hasattr(world_or_env, "make_requests"):
        return world_or_env
    if hasattr(world_or_env, "environment"):
        return world_or_env.environment(seed=seed)
    raise TypeError(f"expected a World or an Environment, got {type(world_or_env).__name__}")


def _policy(policy, env, seed: int):
    """A policy callable; the names "logging", "random" and "oracle" build the world's own."""
    from course import world as world_module
    if callable(policy):
        return policy
    builders = {"logging": lambda: env.world.logging_policy(env),
                "random": lambda: world_module.random_policy(seed),
                "oracle": lambda: world_module.oracle_policy(env)}
    if policy not in builders:
        raise ValueError(f"a policy must be callable or one of {sorted(builders)}, got {policy!r}")
    return builders[policy]()


def _split(n_users: int, share: float, salt: str, n_buckets: int) -> np.ndarray:
    """1 for users whose bucket is below ``share · n_buckets``, else 0: shape (n_users,)."""
    check_probability(share, "share", low_open=True, high_open=True)
    cut = share * n_buckets
    if abs(cut - round(cut)) > 1e-9:
        raise ValueError(f"share {share!r} is not a whole number of buckets (1/{n_buckets} each)")
    return (assign_bucket(np.arange(n_users), n_buckets, salt) < round(cut)).astype(np.int64)


@dataclass
class OnlineExperiment:
    """What an online experiment recorded.

    Attributes
    ----------
    users : DataFrame, one row per user of the world
        user_id, arm, days_active, impressions, clicks, likes, collects, shares, comments,
        interactions (likes + collects + shares + comments), ctr (NaN without impressions),
        return_rate (share of active days followed by an active day; NaN if never active),
        satisfaction (mean over active days), active_after (opens the app the day after).
    daily : DataFrame, one row per (day, user)
        The environment's per-user outcomes of each day, with the user's arm.
    impressions : DataFrame
        Every impression served during the experiment, with an ``arm`` column.
    """

    users: pd.DataFrame
    daily: pd.DataFrame
    impressions: pd.DataFrame

    def compare(self, metric: str = "clicks", control: str = "control",
                treatment: str = "treatment", alpha: float = 0.05) -> ABTestResult:
        """Welch's test of ``metric`` (a column of ``users``) between two arms; NaN rows dropped."""
        if metric not in self.users.columns:
            raise KeyError(f"unknown metric {metric!r}; choose from {list(self.users.columns)}")
        values = [self.users.loc[self.users["arm"] == arm, metric].dropna().to_numpy(float)
                  for arm in (control, treatment)]
        return compare_means(values[0], values[1], alpha=alpha)

    def daily_mean(self, column: str = "active") -> pd.DataFrame:
        """Mean of a daily column per day (rows) and arm (columns)."""
        return self.daily.pivot_table(index="day", columns="arm", values=column, aggfunc="mean",
                                      observed=True)


def _serve(env, groups, policies, labels, n_days: int) -> OnlineExperiment:
    from course.world import route_by_group
    n_days = check_positive_int(n_days, "n_days")
    routed = route_by_group(groups, policies)
    results = env.run(routed, int(n_days))
    arm = np.asarray(labels, dtype=object)[groups]
    daily = pd.concat([r.users for r in results], ignore_index=True)
    daily.insert(2, "arm", arm[daily["user_id"].to_numpy()])
    impressions = pd.concat([r.impressions for r in results], ignore_index=True)
    impressions["arm"] = arm[impressions["user_id"].to_numpy()]
    return OnlineExperiment(_per_user(daily, arm), daily, impressions)


def _per_user(daily: pd.DataFrame, arm: np.ndarray) -> pd.DataFrame:
    grouped = daily.groupby("user_id", sort=True)
    users = grouped[list(COUNTS)].sum()
    users.insert(0, "days_active", grouped["active"].sum())
    users["interactions"] = users[["likes", "collects", "shares", "comments"]].sum(axis=1)
    users["ctr"] = users["clicks"] / users["impressions"].where(users["impressions"] > 0)
    returned = (daily["active"] & daily["active_next_day"]).groupby(daily["user_id"]).sum()
    users["return_rate"] = returned / users["days_active"].where(users["days_active"] > 0)
    active_days = daily[daily["active"]]
    users["satisfaction"] = active_days.groupby("user_id")["satisfaction"].mean()
    last_day = daily["day"].max()
    users["active_after"] = daily.loc[daily["day"] == last_day].set_index("user_id")["active_next_day"]
    users.insert(0, "arm", arm[users.index.to_numpy()])
    return users.reset_index()


def run_online_ab_test(world_or_env, control_policy, treatment_policy, n_days: int,
                       treatment_share: float = 0.5, salt: str = "exp", seed: int = 0,
                       n_buckets: int = 100) -> OnlineExperiment:
    """Serve two policies side by side for ``n_days`` simulated days; one row of metrics per user.

    Users whose bucket ``assign_bucket(user_id, n_buckets, salt)`` is below
    ``treatment_share · n_buckets`` get the treatment, the others the control.

    Parameters
    ----------
    world_or_env : World or Environment
        A World starts a new environment with ``seed``; an Environment is used (and advanced)
        as it is.
    control_policy, treatment_policy : policy or {"logging", "random", "oracle"}
        ``policy(requests) -> slates``; a name builds the world's reference policy.
    n_days : int
    treatment_share : float in (0, 1), a multiple of ``1 / n_buckets``
    salt : str
        The experiment's hash salt: a new salt re-randomises the split.
    seed : int
    n_buckets : int, default 100

    Returns
    -------
    OnlineExperiment
        Arms are labelled ``"control"`` and ``"treatment"``.
    """
    env = _environment(world_or_env, seed)
    groups = _split(env.config.n_users, treatment_share, salt, n_buckets)
    policies = [_policy(control_policy, env, seed), _policy(treatment_policy, env, seed)]
    return _serve(env, groups, policies, ["control", "treatment"], n_days)


def run_aa_test(world_or_env, policy, n_days: int, treatment_share: float = 0.5,
                salt: str = "aa", seed: int = 0) -> OnlineExperiment:
    """An A/A test (AA 测试): the same policy in both arms, so any "effect" is noise."""
    env = _environment(world_or_env, seed)
    policy = _policy(policy, env, seed)
    return run_online_ab_test(env, policy, policy, n_days, treatment_share, salt, seed)


def rerandomised_tests(control_values, treatment_values=None, n_tests: int = 200,
                       treatment_share: float = 0.5, salt_prefix: str = "split",
                       alpha: float = 0.05) -> pd.DataFrame:
    """Many A/B tests of the same users, each with a fresh hash split (re-randomisation).

    User i has two potential outcomes (潜在结果): ``control_values[i]`` under the control policy
    and ``treatment_values[i]`` under the treatment (e.g. from serving everyone each policy on
    the same simulated day). Test t splits the users with salt ``f"{salt_prefix}-{t}"`` and
    observes each user's outcome under their arm only, as a real test would. The true effect
    is ``mean(treatment_values - control_values)``; without ``treatment_values`` every test is
    an A/A test (AA 测试) and the p-values should be uniform on [0, 1].

    Parameters
    ----------
    control_values, treatment_values : array-like of float, shape (n_users,)
    n_tests : int
    treatment_share : float in (0, 1), a multiple of 1/100
    salt_prefix : str
    alpha : float

    Returns
    -------
    DataFrame of shape (n_tests, 5)
        ``diff``, ``ci_low``, ``ci_high``, ``p_value`` and ``significant`` (p < alpha).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> aa = rerandomised_tests(rng.normal(size=1000), n_tests=400)
    >>> bool(0.02 < aa["significant"].mean() < 0.09)      # A/A: about 5 % false positives
    True
    """
    control = np.asarray(control_values, dtype=float)
    treatment = control if treatment_values is None else np.asarray(treatment_values, dtype=float)
    if control.ndim != 1 or control.size < 4 or control.shape != treatment.shape:
        raise ValueError("values must be 1-d arrays of equal length, with at least 4 users")
    if not (np.isfinite(control).all() and np.isfinite(treatment).all()):
        raise ValueError("values must be finite")
    n_tests = check_positive_int(n_tests, "n_tests")
    rows = []
    for t in range(n_tests):                         # a loop over tests, each fully vectorised
        treated = _split(len(control), treatment_share, f"{salt_prefix}-{t}", 100).astype(bool)
        result = compare_means(control[~treated], treatment[treated], alpha=alpha)
        rows.append((result.diff, result.ci_low, result.ci_high, result.p_value))
    table = pd.DataFrame(rows, columns=["diff", "ci_low", "ci_high", "p_value"])
    table["significant"] = table["p_value"] < alpha
    return table


def aa_p_values(values, n_tests: int = 200, treatment_share: float = 0.5,
                salt_prefix: str = "aa") -> np.ndarray:
    """p-values of ``n_tests`` A/A splits of the same per-user values: shape (n_tests,).

    Under a correct test they are uniform on [0, 1], so ``(p < α).mean() ≈ α`` is the
    false-positive rate. See :func:`rerandomised_tests`.
    """
    return rerandomised_tests(values, None, n_tests, treatment_share, salt_prefix)["p_value"].to_numpy()


@dataclass
class ReverseExperiment:
    """The two phases of a launch with a reverse bucket.

    Attributes
    ----------
    test : OnlineExperiment
        Small-traffic A/B test (小流量): arms "control", "treatment" and "outside" (users not
        in the experiment, served the old policy).
    launch : OnlineExperiment
        After full launch (推全): arms "reverse" (the reverse bucket, old policy) and
        "launched" (new policy).
    """

    test: OnlineExperiment
    launch: OnlineExperiment

    def daily_mean(self, column: str = "active") -> pd.DataFrame:
        """Daily means per arm over both phases (NaN where an arm does not exist)."""
        return pd.concat([self.test.daily_mean(column), self.launch.daily_mean(column)])


def run_reverse_experiment(world_or_env, old_policy, new_policy, test_days: int,
                           launch_days: int, test_share: float = 0.1, reverse_share: float = 0.1,
                           salt: str = "exp", seed: int = 0) -> ReverseExperiment:
    """Small-traffic test, then full launch with a reverse bucket (反转桶) kept on the old policy.

    Phase 1 (``test_days``): ``test_share`` of users get the new policy, another ``test_share``
    form the control, the rest stay on the old policy outside the experiment. Phase 2
    (``launch_days``, continuing the same environment): a fresh split with salt
    ``f"{salt}/launch"`` keeps ``reverse_share`` of users on the old policy and launches the new
    one to everybody else. Lagging metrics (retention, days active) show up in phase 2.

    Returns
    -------
    ReverseExperiment
    """
    check_probability(test_share, "test_share", low_open=True, high=0.5)
    env = _environment(world_or_env, seed)
    old, new = _policy(old_policy, env, seed), _policy(new_policy, env, seed)
    n_users = env.config.n_users
    in_test = (_split(n_users, 2 * test_share, salt, 100) if test_share < 0.5
               else np.ones(n_users, np.int64))
    treated = _split(n_users, test_share, salt, 100)          # the lower half of the test buckets
    groups = np.where(in_test == 1, np.where(treated == 1, 1, 0), 2)
    test = _serve(env, groups, [old, new, old], ["control", "treatment", "outside"], test_days)
    launched = 1 - _split(n_users, reverse_share, f"{salt}/launch", 100)
    launch = _serve(env, launched, [old, new], ["reverse", "launched"], launch_days)
    return ReverseExperiment(test, launch)


def expected_clicks_per_user(oracle, impressions: pd.DataFrame, n_users: int) -> np.ndarray:
    """The true expected clicks of each user for the slates they were served (oracle only).

    Sums P(click) over the user's impressions, with each impression's day, hour, position and
    the number of same-category notes above it in its slate: the probabilities the environment
    drew the clicks from. The ground truth of an A/B test's effect on clicks.

    Returns
    -------
    ndarray of float, shape (n_users,)
    """
    needed = {"day", "hour", "request_id", "user_id", "item_id", "position"}
    if not needed <= set(impressions.columns):
        raise ValueError(f"impressions must have columns {sorted(needed)}")
    frame = impressions.sort_values(["day", "request_id", "position"], kind="stable")
    category = oracle.items["category"][frame["item_id"].to_numpy()]
    # notes of the same category above this one in the slate = earlier rows of (request, category)
    n_same = frame.assign(category=category).groupby(["day", "request_id", "category"]).cumcount()
    probability = np.zeros(len(frame))
    for day in np.unique(frame["day"].to_numpy()):          # a loop over the few test days
        rows = (frame["day"] == day).to_numpy()
        part = frame[rows]
        probability[rows] = oracle.click_probability(
            part["user_id"].to_numpy(), part["item_id"].to_numpy(), day=int(day),
            hour=part["hour"].to_numpy(), position=part["position"].to_numpy(),
            n_same_category_before=n_same.to_numpy()[rows])
    return np.bincount(frame["user_id"].to_numpy(), weights=probability, minlength=n_users)
