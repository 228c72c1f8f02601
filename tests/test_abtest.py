"""Tests for course.abtest: bucketing against scipy's chi-square tests and a pure-Python twin,
the platform's exclusion/holdout/reverse rules, and the statistics against scipy and simulation."""
import hashlib

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from course.abtest import (ExperimentPlatform, Layer, assign_bucket, ci_half_width, compare_means,
                           power_of_test, required_sample_size)
from course.seed import set_seed

N_IDS = 200_000
SEQUENTIAL = np.arange(N_IDS)
# ids with structure: issued in batches of 1000 starting at multiples of 10**6, last digit 0
STRUCTURED = (np.arange(N_IDS) // 1000) * 10**6 + (np.arange(N_IDS) % 1000) * 10
P_FLOOR = 1e-3  # deterministic hashes: each p-value below is fixed, not a random draw


def mix64_reference(value: int) -> int:
    """SplitMix64 in plain Python ints, one id at a time: the twin of the vectorised version."""
    mask = 2**64 - 1
    z = (value + 0x9E3779B97F4A7C15) & mask
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & mask
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & mask
    return z ^ (z >> 31)


def test_matches_pure_python_reference():
    # plain integer arithmetic and blake2b, nothing process-dependent such as builtins.hash
    key = int.from_bytes(hashlib.blake2b(b"recall", digest_size=8).digest(), "little")
    ids = [0, 1, 2, 12345, 2**40 + 7, 2**63 - 1]
    expected = [mix64_reference(i ^ key) % 97 for i in ids]
    assert assign_bucket(np.array(ids, dtype=np.int64), 97, "recall").tolist() == expected


@pytest.mark.parametrize("ids", [SEQUENTIAL, STRUCTURED], ids=["sequential", "structured"])
def test_buckets_are_uniform(ids):
    counts = np.bincount(assign_bucket(ids, 100, "layer"), minlength=100)
    assert stats.chisquare(counts).pvalue > P_FLOOR
    # the naive `id % n` on structured ids: every id ends in 0, so only bucket 0 is used
    naive = np.bincount(STRUCTURED % 10, minlength=10)
    assert stats.chisquare(naive).pvalue < 1e-100


@pytest.mark.parametrize("ids", [SEQUENTIAL, STRUCTURED], ids=["sequential", "structured"])
def test_layers_with_different_salts_are_independent(ids):
    table = np.zeros((10, 10))
    np.add.at(table, (assign_bucket(ids, 10, "recall"), assign_bucket(ids, 10, "ranking")), 1)
    assert stats.chi2_contingency(table).pvalue > P_FLOOR


def test_modulo_layers_are_perfectly_dependent():
    # two layers bucketing with `id % 10` (the second even shifted): bucket 1 determines bucket 2
    table = np.zeros((10, 10))
    np.add.at(table, (SEQUENTIAL % 10, (SEQUENTIAL + 3) % 10), 1)
    assert stats.chi2_contingency(table).pvalue < 1e-300
    assert (np.count_nonzero(table, axis=1) == 1).all()  # a permutation matrix
    cramers_v = stats.contingency.association(table.astype(int), method="cramer")
    assert cramers_v == pytest.approx(1.0)


def test_stable_and_salt_dependent():
    first = assign_bucket(SEQUENTIAL, 100, "a")
    assert np.array_equal(first, assign_bucket(SEQUENTIAL.copy(), 100, "a"))
    other_salt = assign_bucket(SEQUENTIAL, 100, "b")
    # independent salts agree on about 1/100 of users
    agree = (first == other_salt).mean()
    assert abs(agree - 0.01) < 4 * np.sqrt(0.01 * 0.99 / N_IDS)


@pytest.mark.parametrize("args, error", [
    (([1, -2], 10, "s"), ValueError), (([1.5], 10, "s"), TypeError), (([True], 10, "s"), TypeError),
    (([1], 0, "s"), ValueError), (([1], 2.0, "s"), TypeError), (([1], 10, 3), TypeError),
    (([[1, 2]], 10, "s"), ValueError),
])
def test_assign_bucket_validates(args, error):
    with pytest.raises(error):
        assign_bucket(*args)


def test_layer_experiments_are_mutually_exclusive_with_requested_shares():
    layer = Layer("recall", n_buckets=100)
    layer.add_experiment("swing", 0.2)
    layer.add_experiment("usercf", 30, arms=("control", "a", "b"))
    labels = layer.assign(SEQUENTIAL)
    # each user carries one label per layer, and the experiments own disjoint buckets
    buckets = assign_bucket(SEQUENTIAL, 100, "recall")
    swing_buckets = set(buckets[np.char.startswith(labels.astype(str), "swing/")])
    usercf_buckets = set(buckets[np.char.startswith(labels.astype(str), "usercf/")])
    assert len(swing_buckets) == 20 and len(usercf_buckets) == 30
    assert not swing_buckets & usercf_buckets
    expected = {"swing/control": 0.1, "swing/treatment": 0.1, "usercf/control": 0.1,
                "usercf/a": 0.1, "usercf/b": 0.1}
    for label, share in expected.items():
        assert abs((labels == label).mean() - share) < 4 * np.sqrt(share * (1 - share) / N_IDS)
    assert (labels == None).mean() == pytest.approx(0.5, abs=0.01)  # noqa: E711
    with pytest.raises(ValueError, match="out of traffic"):
        layer.add_experiment("too_big", 0.6)
    layer.remove_experiment("usercf")
    layer.add_experiment("too_big", 0.6)  # freed traffic can be reused
    with pytest.raises(ValueError, match="evenly"):
        layer.add_experiment("odd", 0.1, arms=("control", "a", "b"))
    with pytest.raises(ValueError, match="already"):
        layer.add_experiment("swing", 0.1)


def test_platform_holdout_reverse_bucket_and_orthogonality():
    platform = ExperimentPlatform(holdout_share=0.1)
    recall = platform.add_layer(Layer("recall"))
    ranking = platform.add_layer(Layer("ranking"))
    recall.add_experiment("swing", 0.5)
    ranking.add_experiment("mmoe", 0.5)
    with pytest.raises(ValueError, match="salt"):
        platform.add_layer(Layer("copy", salt="recall"))
    launched = platform.launch("recall", "swing", reverse_share=0.05)
    table = platform.assignments(SEQUENTIAL)
    assert list(table.columns) == ["holdout", "recall", "ranking", launched.name]
    holdout = table["holdout"].to_numpy()
    assert abs(holdout.mean() - 0.1) < 4 * np.sqrt(0.09 / N_IDS)
    assert table.loc[holdout, ["recall", "ranking", launched.name]].isna().all().all()
    # after launch: every non-holdout user is on swing, except the ~5% reverse bucket
    launch = table.loc[~holdout, launched.name]
    assert set(launch.unique()) == {"swing/control", "swing/treatment"}
    reverse = (launch == "swing/control").mean()
    assert abs(reverse - 0.05) < 4 * np.sqrt(0.05 * 0.95 / len(launch))
    assert table["recall"].isna().all() and recall.free_buckets == 100
    # orthogonal: the ranking arm is independent of the launch arm (chi-square on the 2x3 table)
    crosstab = pd.crosstab(launch, table.loc[~holdout, "ranking"].fillna("none"))  # 2 x 3
    assert crosstab.shape == (2, 3)
    assert stats.chi2_contingency(crosstab).pvalue > P_FLOOR
    with pytest.raises(KeyError):
        platform.launch("ranking", "no_such_experiment")


def test_compare_means_matches_scipy():
    rng = set_seed(0)
    control = rng.normal(10.0, 2.0, size=300)
    treatment = rng.normal(10.5, 3.0, size=200)  # unequal sizes and variances: Welch territory
    result = compare_means(control, treatment, alpha=0.1)
    reference = stats.ttest_ind(treatment, control, equal_var=False)
    interval = reference.confidence_interval(confidence_level=0.9)
    assert result.diff == pytest.approx(treatment.mean() - control.mean())
    assert result.t_statistic == pytest.approx(reference.statistic)
    assert result.df == pytest.approx(reference.df)
    assert result["p_value"] == pytest.approx(reference.pvalue)
    assert (result.ci_low, result.ci_high) == pytest.approx((interval.low, interval.high))
    assert result.relative_lift == pytest.approx(result.diff / control.mean())
    assert result.as_dict()["n_treatment"] == 200
    with pytest.raises(ValueError):
        compare_means([1.0], [1.0, 2.0])
    with pytest.raises(ValueError):
        compare_means([1.0, 1.0], [2.0, 2.0])


def simulate(effect, n_per_arm, n_experiments, seed):
    """p-values, diffs and CI coverage of `n_experiments` simulated A/B tests on N(0, 1) users."""
    rng = set_seed(seed)
    control = rng.normal(0.0, 1.0, size=(n_experiments, n_per_arm))
    treatment = rng.normal(effect, 1.0, size=(n_experiments, n_per_arm))
    results = [compare_means(c, t) for c, t in zip(control, treatment)]  # loop over experiments
    p_values = np.array([r.p_value for r in results])
    covered = np.array([r.ci_low <= effect <= r.ci_high for r in results])
    return p_values, np.array([r.diff for r in results]), covered


def test_aa_tests_reject_at_alpha_and_intervals_cover():
    n_tests = 2000
    p_values, diffs, covered = simulate(0.0, 200, n_tests, seed=1)
    tolerance = 4 * np.sqrt(0.05 * 0.95 / n_tests)
    assert abs((p_values < 0.05).mean() - 0.05) < tolerance
    assert abs(covered.mean() - 0.95) < tolerance
    # the spread of the observed lift is the standard error that ci_half_width is built on
    expected_se = ci_half_width(400, 1.0) / stats.norm.ppf(0.975)
    assert diffs.std() == pytest.approx(expected_se, rel=0.05)


def test_empirical_power_matches_power_of_test():
    n_tests, effect = 2000, 0.25
    p_values, _, _ = simulate(effect, 200, n_tests, seed=2)
    predicted = power_of_test(400, baseline_std=1.0, effect=effect)
    assert 0.6 < predicted < 0.9  # a case where power is neither 0 nor 1
    assert abs((p_values < 0.05).mean() - predicted) < 4 * np.sqrt(predicted * (1 - predicted) / n_tests)


@pytest.mark.parametrize("share", [0.5, 0.2])
def test_sample_size_inverts_power(share):
    n_total = required_sample_size(2.0, 0.05, alpha=0.05, power=0.9, treatment_share=share)
    assert power_of_test(n_total, 2.0, 0.05, 0.05, share) >= 0.9
    assert power_of_test(n_total - 1, 2.0, 0.05, 0.05, share) < 0.9
    # textbook per-arm formula 2 (z_a + z_b)^2 sigma^2 / delta^2 at an equal split
    per_arm = 2 * (stats.norm.ppf(0.975) + stats.norm.ppf(0.9)) ** 2 * 4.0 / 0.05**2
    if share == 0.5:
        assert n_total == pytest.approx(2 * per_arm, abs=2)
    else:  # an unequal split costs 0.25 / (p (1 - p)) times more users
        assert n_total == pytest.approx(2 * per_arm * 0.25 / (share * (1 - share)), abs=2)
    assert ci_half_width(4 * n_total, 2.0, 0.05, share) == pytest.approx(
        ci_half_width(n_total, 2.0, 0.05, share) / 2)


def test_power_of_zero_effect_is_alpha_and_design_validation():
    assert power_of_test(1000, 1.0, 0.0, alpha=0.1) == pytest.approx(0.1)
    with pytest.raises(ValueError):
        required_sample_size(1.0, 0.0)
    with pytest.raises(ValueError):
        power_of_test(1000, 1.0, 0.1, treatment_share=1.0)
    with pytest.raises(ValueError):
        ci_half_width(1, 1.0)


def test_layer_and_platform_arguments_follow_the_type_value_rule():
    layer = Layer("checks")
    with pytest.raises(TypeError, match="n_buckets_or_share"):
        layer.add_experiment("x", "10")
    with pytest.raises(ValueError, match=r"n_buckets_or_share must be a number in \(0, 1\], got 1.5"):
        layer.add_experiment("x", 1.5)
    with pytest.raises(ValueError, match=r"holdout_share must be a number in \[0, 1\), got 1.0"):
        ExperimentPlatform(holdout_share=1.0)
    with pytest.raises(TypeError, match="holdout_share"):
        ExperimentPlatform(holdout_share="0.1")
    with pytest.raises(ValueError, match="user_ids must be a 1-D array, got shape"):
        assign_bucket([[1, 2]], 10, "s")
