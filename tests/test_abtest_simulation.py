"""Tests for course.abtest.simulation on the tiny world: the split, the routing, the per-user
metrics against the raw impressions, A/A false positives, a detectable true effect, the reverse
bucket, and the oracle's expected clicks against simulated clicks."""
import numpy as np
import pytest
from scipy import stats

from course import world as W
from course.abtest import (aa_p_values, assign_bucket, run_aa_test, run_online_ab_test,
                           run_reverse_experiment)
from course.abtest.simulation import expected_clicks_per_user


def parity_policy(parity):
    """Serve only notes whose id has the given parity: tells which policy served a slate."""
    def policy(requests):
        pool = requests.available_items[requests.available_items % 2 == parity]
        rng = np.random.default_rng(requests.day)
        return pool[np.argsort(rng.random((len(requests), len(pool))), axis=1)[:, :requests.slate_size]]
    return policy


@pytest.fixture(scope="module")
def parity_experiment(tiny_world):
    return run_online_ab_test(tiny_world, parity_policy(0), parity_policy(1), n_days=2,
                              treatment_share=0.3, salt="parity")


def test_split_follows_the_hash_and_routing_is_per_user(parity_experiment):
    users = parity_experiment.users
    treated = assign_bucket(np.arange(400), 100, "parity") < 30
    assert (users["arm"].eq("treatment").to_numpy() == treated).all()
    assert abs(treated.mean() - 0.3) < 4 * np.sqrt(0.3 * 0.7 / 400)
    impressions = parity_experiment.impressions
    parity = impressions["item_id"].to_numpy() % 2
    assert (parity == np.where(impressions["arm"] == "treatment", 1, 0)).all()
    assert impressions["day"].nunique() == 2 and set(parity_experiment.daily["day"]) == {3, 4}


def test_per_user_metrics_match_the_impressions(parity_experiment):
    users = parity_experiment.users.set_index("user_id")
    assert len(users) == 400                                   # inactive users included
    per_user = parity_experiment.impressions.groupby("user_id")
    assert (per_user["click"].sum() == users.loc[per_user.size().index, "clicks"]).all()
    interactions = per_user[["like", "collect", "share", "comment"]].sum().sum(axis=1)
    assert (interactions == users.loc[interactions.index, "interactions"]).all()
    never = users["impressions"] == 0
    assert users.loc[never, "ctr"].isna().all() and (users.loc[never, "clicks"] == 0).all()
    active_days = parity_experiment.daily.groupby("user_id")["active"].sum()
    assert (active_days == users["days_active"]).all()


def test_aa_tests_reject_at_about_alpha(tiny_world):
    experiment = run_aa_test(tiny_world, "random", n_days=1)
    assert experiment.users["arm"].nunique() == 2
    p_values = aa_p_values(experiment.users["clicks"].to_numpy(), n_tests=300)
    # 300 splits of the same users are not independent; a generous band around 5 %
    assert 0.01 <= (p_values < 0.05).mean() <= 0.10
    assert stats.kstest(p_values, "uniform").pvalue > 1e-3
    rejections = [run_aa_test(tiny_world, "random", 1, salt=f"aa{s}", seed=s).compare("clicks").p_value < 0.05
                  for s in range(4)]
    assert sum(rejections) <= 1


def test_a_clearly_better_policy_is_detected(tiny_world):
    experiment = run_online_ab_test(tiny_world, "random", "oracle", n_days=1, seed=3)
    result = experiment.compare("clicks")
    assert result.p_value < 1e-6 and result.ci_low > 0 and result.relative_lift > 1.0
    assert experiment.compare("ctr").diff > 0.1


def test_reverse_experiment_phases(tiny_world):
    result = run_reverse_experiment(tiny_world, parity_policy(0), parity_policy(1), test_days=1,
                                    launch_days=2, test_share=0.25, reverse_share=0.2, salt="rev")
    test_arms = result.test.users["arm"].value_counts(normalize=True)
    assert set(test_arms.index) == {"control", "treatment", "outside"}
    assert abs(test_arms["treatment"] - 0.25) < 0.1 and abs(test_arms["outside"] - 0.5) < 0.1
    launch = result.launch
    reverse = assign_bucket(np.arange(400), 100, "rev/launch") < 20
    assert (launch.users["arm"].eq("reverse").to_numpy() == reverse).all()
    parity = launch.impressions["item_id"].to_numpy() % 2
    assert (parity == np.where(launch.impressions["arm"] == "launched", 1, 0)).all()
    assert sorted(launch.daily["day"].unique()) == [4, 5]
    curves = result.daily_mean("active")
    assert list(curves.index) == [3, 4, 5] and {"reverse", "launched"} <= set(curves.columns)


def test_expected_clicks_agree_with_simulated_clicks(tiny_world):
    env = tiny_world.environment(seed=5)
    day = env.step(W.random_policy(1))
    expected = expected_clicks_per_user(env.oracle, day.impressions, 400)
    observed = np.bincount(day.impressions["user_id"], weights=day.impressions["click"], minlength=400)
    # clicks are independent Bernoulli draws: the total is within 4 sd of the expectation
    p = env.oracle.click_probability(day.impressions["user_id"].to_numpy(), day.impressions["item_id"].to_numpy(),
                                     day=day.day, hour=day.impressions["hour"].to_numpy(),
                                     position=day.impressions["position"].to_numpy())
    assert abs(observed.sum() - expected.sum()) < 4 * np.sqrt((p * (1 - p)).sum())
    # and the fatigue term matters: ignoring it overestimates the clicks
    assert p.sum() >= expected.sum()
    with pytest.raises(ValueError):
        run_online_ab_test(tiny_world, "random", "random", 1, treatment_share=0.333)
    with pytest.raises(ValueError):
        run_online_ab_test(tiny_world, "random", "nonsense", 1)


def test_known_effect_is_detected_at_about_the_computed_power(tiny_world):
    """Potential outcomes: everyone served each policy on the same day (same seed), then many
    hash splits. The share of significant splits must match power_of_test for the true effect."""
    from course.abtest import power_of_test, rerandomised_tests

    def boosted(env):
        base = W.random_policy(0)

        def policy(requests):      # random slate, bottom slot replaced by the oracle's best of 15
            slates = base(requests).copy()
            pool = np.random.default_rng(requests.day).choice(requests.available_items, 15, replace=False)
            users, inverse = np.unique(requests.user_ids, return_inverse=True)
            best = env.oracle.top_k(users, 10, day=requests.day, item_ids=pool)[inverse]
            duplicate = (best[:, :, None] == slates[:, None, :9]).any(axis=2)
            slates[:, 9] = best[np.arange(len(slates)), np.argmax(~duplicate, axis=1)]
            return slates
        return policy

    control_env, treatment_env = tiny_world.environment(seed=1), tiny_world.environment(seed=1)
    y_control = control_env.step(W.random_policy(0)).users["clicks"].to_numpy(float)
    y_treatment = treatment_env.step(boosted(treatment_env)).users["clicks"].to_numpy(float)
    effect = (y_treatment - y_control).mean()
    sd = np.sqrt((y_control.var(ddof=1) + y_treatment.var(ddof=1)) / 2)
    power = power_of_test(400, sd, effect)
    assert 0.15 < power < 0.6                                  # neither trivial nor hopeless
    tests = rerandomised_tests(y_control, y_treatment, n_tests=300, salt_prefix="power")
    assert abs(tests["significant"].mean() - power) < 4 * np.sqrt(power * (1 - power) / 300)
    coverage = ((tests["ci_low"] <= effect) & (effect <= tests["ci_high"])).mean()
    assert abs(coverage - 0.95) < 4 * np.sqrt(0.05 * 0.95 / 300)
