"""Reranking in the world: expected clicks against a per-slot loop over the oracle, the serving
policy against its definition, and the online metrics against the day tables."""
import numpy as np
import pandas as pd
import pytest

from course import world as W
from course.rerank import mmr
from course.rerank.experiments import expected_clicks, online_metrics, rerank_policy


@pytest.fixture(scope="module")
def world():
    return W.generate("tiny")


def test_expected_clicks_equals_a_loop_over_slots(world):
    rng = np.random.default_rng(0)
    users, slates = rng.integers(0, 400, 6), rng.integers(0, len(world.items), (6, 5))
    category = world.oracle.items["category"]
    expected = []
    for u, slate in zip(users, slates):
        total = 0.0
        for p, item in enumerate(slate):
            same_before = int((category[slate[:p]] == category[item]).sum())
            total += world.oracle.click_probability([u], [item], day=3, position=p,
                                                    n_same_category_before=same_before)[0]
        expected.append(total)
    np.testing.assert_allclose(expected_clicks(world.oracle, users, slates, day=3), expected, rtol=1e-12)


def test_the_policy_is_top_k_by_true_probability_without_noise_and_calls_the_reranker(world):
    env = world.environment(seed=0)
    available = env.available_items()
    requests = W.Requests(np.array([3, 5, 3]), np.zeros(3, dtype=int), env.day, 4, available)
    slates = rerank_policy(env, lambda r, S, c: np.arange(4), n_candidates=20, temperature=0.0)(requests)
    truth = env.oracle.top_k([3, 5, 3], 4, day=env.day, item_ids=available)
    np.testing.assert_array_equal(slates, truth)
    seen = []

    def spy(rewards, similarity, candidates):
        seen.append((rewards, similarity, candidates))
        return mmr(rewards, similarity, 2, 0.5)        # a short list: the policy fills the slate

    slates = rerank_policy(env, spy, n_candidates=20, temperature=0.3, vectors="truth")(requests)
    rewards, similarity, candidates = seen[0]
    assert len(seen) == 3 and rewards.shape == (20,) and similarity.shape == (20, 20)
    assert (np.diff(rewards) <= 0).all()                              # best first
    latent = env.oracle.items["latent"][candidates]
    latent = latent / np.linalg.norm(latent, axis=1, keepdims=True)
    np.testing.assert_allclose(similarity, latent @ latent.T, atol=1e-12)
    picked = mmr(rewards, similarity, 2, 0.5)
    rest = [i for i in range(20) if i not in picked][:2]
    np.testing.assert_array_equal(slates[0], candidates[np.r_[picked, rest]])
    assert len(set(slates[0])) == 4


def test_the_policy_serves_the_environment_for_days_with_new_notes(world):
    env = world.environment(seed=1)
    days = env.run(rerank_policy(env, lambda r, S, c: mmr(r, S, 10, 0.6), vectors="tags"), 2)
    assert days[1].impressions.item_id.max() < len(env.items)
    metrics = online_metrics(days, np.arange(200))
    users = pd.concat([d.users for d in days])
    active = users[(users.user_id < 200) & users.active]
    assert metrics["clicks"] == pytest.approx(active.clicks.mean())
    assert metrics["satisfaction"] == pytest.approx(active.satisfaction.mean())
    assert metrics["return probability"] == pytest.approx(active.return_probability.mean())
    assert metrics["active user-days"] == len(active)


@pytest.mark.parametrize("call, error, match", [
    (lambda w: expected_clicks(w.oracle, [0], np.zeros((2, 3), dtype=int), day=0), ValueError, "one id per slate"),
    (lambda w: expected_clicks(w.oracle, [0], np.zeros((1, 3)), day=0), TypeError, "slates must have an integer"),
    (lambda w: rerank_policy(w.environment(), "mmr"), TypeError, "rerank must be a callable"),
    (lambda w: rerank_policy(w.environment(), len, vectors="ids"), ValueError, "vectors must be"),
    (lambda w: rerank_policy(w.environment(), len, n_candidates=0), ValueError, "n_candidates"),
    (lambda w: rerank_policy(w.environment(), len, n_candidates=5)(w.environment().make_requests()),
     ValueError, "at least the slate size"),
    (lambda w: online_metrics([], [0]), ValueError, "at least one DayResult"),
])
def test_bad_inputs_raise_clear_errors(world, call, error, match):
    with pytest.raises(error, match=match):
        call(world)
