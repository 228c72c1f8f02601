"""Tests for course.coldstart.traffic: boosts against their formulas, the policy in the tiny world."""
import numpy as np
import pandas as pd
import pytest

from course import world as W
from course.coldstart.traffic import (TrafficPolicy, TrafficRule, additive_boost, dynamic_boost_factor,
                                      expected_posts, guarantee_success, multiplicative_boost, simulate)


def naive_factor(elapsed, shown, target_time, target, strength):
    if elapsed >= target_time or shown >= target:
        return 1.0
    return 1.0 + strength * max(0.0, elapsed / target_time - shown / target)


def test_dynamic_boost_factor_matches_a_loop():
    rng = np.random.default_rng(0)
    elapsed, shown = rng.integers(0, 40, 200), rng.integers(0, 150, 200)
    targets = rng.choice([25.0, 100.0], 200)
    got = dynamic_boost_factor(elapsed, 24, shown, targets, strength=3.0)
    expected = [naive_factor(e, s, 24, t, 3.0) for e, s, t in zip(elapsed, shown, targets)]
    np.testing.assert_allclose(got, expected)


def test_boost_errors():
    with pytest.raises(ValueError, match="> 0"):
        dynamic_boost_factor([1], 0, [1], 10, 1.0)
    with pytest.raises(ValueError, match="> 0"):
        dynamic_boost_factor([1], 24, [1], -5, 1.0)
    with pytest.raises(ValueError, match="same shape"):
        dynamic_boost_factor([1, 2], 24, [1], 10, 1.0)
    with pytest.raises(ValueError, match="one value per column"):
        additive_boost(np.zeros((2, 3)), [0.1, 0.2])
    with pytest.raises(ValueError, match="one value per column"):
        multiplicative_boost(np.zeros((2, 3)), np.ones((2, 3)))
    with pytest.raises(ValueError, match="non-negative"):
        multiplicative_boost([[-0.1]], 2.0)
    with pytest.raises(ValueError, match="factor must be > 0"):
        multiplicative_boost([[0.1]], 0.0)
    with pytest.raises(ValueError, match="targets must be > 0"):
        guarantee_success([3, 4], [0, 1])


def test_boosts_are_their_formulas():
    scores = np.array([[0.1, 0.4], [0.3, 0.2]])
    np.testing.assert_allclose(additive_boost(scores, [0.1, 0.0]), [[0.2, 0.4], [0.4, 0.2]])
    np.testing.assert_allclose(multiplicative_boost(scores, [3.0, 1.0]), [[0.3, 0.4], [0.9, 0.2]])
    assert guarantee_success([10, 20, 30, 40], [20, 20, 50, 40]) == 0.5


@pytest.mark.parametrize("kwargs, match", [({"kind": "boost"}, "kind"), ({"target": 0}, "target"),
                                           ({"target": -3.0}, "target"), ({"strength": -1}, "strength"),
                                           ({"kind": "multiplicative", "strength": 0}, "strength"),
                                           ({"tiers": (1, 2)}, "tiers"), ({"target_hours": 0}, "target_hours")])
def test_rule_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        TrafficRule(**kwargs)


@pytest.fixture(scope="module")
def tiny():
    return W.generate("tiny")


def _first_day_impressions(tiny, rule, days=2, **kwargs):
    env = tiny.environment(seed=0)
    policy = TrafficPolicy(env, rule, n_pool=300, **kwargs)
    results, posts = simulate(env, policy, days)
    publish = env.items.publish_day.to_numpy()
    impressions = pd.concat([r.impressions for r in results])
    new = impressions.day.to_numpy() == publish[impressions.item_id.to_numpy()]
    return env, policy, results, posts, new.mean()


def test_policy_serves_valid_distinct_slates_and_is_deterministic(tiny):
    env, policy, results, posts, _ = _first_day_impressions(tiny, TrafficRule("guarantee", 5.0, target=20))
    for result in results:
        per_request = result.impressions.groupby("request_id").item_id.nunique()
        assert (per_request == tiny.config.slate_size).all()
        assert result.impressions.groupby(["user_id", "item_id"]).size().max() == 1   # once a day per user
    again = _first_day_impressions(tiny, TrafficRule("guarantee", 5.0, target=20))[2]
    pd.testing.assert_frame_equal(results[-1].impressions, again[-1].impressions)
    assert posts.shape == (2, len(tiny.authors))
    # the guarantee counts exactly what the policy served
    served = np.bincount(pd.concat([r.impressions for r in results]).item_id, minlength=len(env.items))
    np.testing.assert_array_equal(policy.guarantee_shown_, served)


def test_boosts_raise_new_note_exposure(tiny):
    none = _first_day_impressions(tiny, TrafficRule())[-1]
    boosted = _first_day_impressions(tiny, TrafficRule("multiplicative", 3.0))[-1]
    assert boosted > none


def test_expected_posts_is_the_worlds_motivation_formula(tiny):
    env = tiny.environment(seed=0)
    env.step(TrafficPolicy(env, TrafficRule(), n_pool=300))
    rate = tiny.author_truth.posting_rate.to_numpy()
    exposure = env.author_exposure
    expected = [r * min(max((e + 1) / (exposure.mean() + 1), 0.25), 4.0) ** 0.5 for r, e in zip(rate, exposure)]
    np.testing.assert_allclose(expected_posts(env), expected)


def test_policy_errors(tiny):
    env = tiny.environment(seed=0)
    with pytest.raises(TypeError, match="TrafficRule"):
        TrafficPolicy(env, "guarantee")
    with pytest.raises(ValueError, match="one per author"):
        TrafficPolicy(env, TrafficRule(), boosted_authors=np.ones(3, dtype=bool))
    with pytest.raises(ValueError, match="n_days"):
        simulate(env, TrafficPolicy(env, TrafficRule()), 0)
