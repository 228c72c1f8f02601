"""Tests of course.behaviour: sequences against a per-row loop, pooling against naive loops and
invariances (permutation, padding), SIM's searches against brute-force filters."""
import numpy as np
import pandas as pd
import pytest
import torch

from course import world
from course.behaviour import (PAD, BehaviourRanker, SearchBasedInterest, TargetAttention,
                              behaviour_sequences, gather_positions, hard_search, last_n_events,
                              lastn_mean, soft_search, time_buckets)


# ---------------------------------------------------------------- sequences
def _random_log(rng, n_users=6, n_rows=300):
    return pd.DataFrame({"user_id": rng.integers(0, n_users, n_rows),
                         "item_id": rng.integers(0, 50, n_rows),
                         "day": rng.integers(0, 3, n_rows), "hour": rng.integers(0, 24, n_rows),
                         "request_id": rng.integers(0, 5, n_rows)})


def _loop_last_n(events, queries, n):
    """Per query: filter the user's events strictly before by tuples, sort, take the last n."""
    items = np.full((len(queries), n), PAD)
    for r, q in enumerate(queries.itertuples()):
        mine = [(e.day, e.hour, e.request_id, i, e.item_id) for i, e in enumerate(events.itertuples())
                if e.user_id == q.user_id and (e.day, e.hour, e.request_id) < (q.day, q.hour, q.request_id)]
        mine.sort()
        last = [m[4] for m in mine[::-1][:n]]
        items[r, :len(last)] = last
    return items


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_last_n_events_matches_a_loop(seed):
    rng = np.random.default_rng(seed)
    events, queries = _random_log(rng), _random_log(rng, n_rows=40)
    s = last_n_events(events, queries, n=4)
    np.testing.assert_array_equal(s.items, _loop_last_n(events, queries, 4))
    np.testing.assert_array_equal(s.mask, s.items != PAD)
    np.testing.assert_array_equal(s.lengths, s.mask.sum(1))
    assert (s.hours_ago >= 0).all() and (s.hours_ago[~s.mask] == 0).all()


def test_sequences_never_see_their_own_or_later_events():
    w = world.generate("tiny")
    imp = w.impressions
    seqs = behaviour_sequences(imp, imp, n=5)
    clicks = imp[imp.click == 1]
    # the query's own click would be the most recent event if it leaked: mark each click row
    # with a unique item id and check no row's history holds its own request's clicks
    key = ((imp.day.to_numpy(np.int64) * 24 + imp.hour.to_numpy(np.int64)) * 10**6
           + imp.request_id.to_numpy(np.int64))
    tagged = clicks.assign(item_id=np.arange(len(clicks)))
    s = last_n_events(tagged, imp, n=5)
    event_key = key[imp.click.to_numpy() == 1]
    seen_key = np.where(s.mask, event_key[np.where(s.mask, s.items, 0)], -1)
    assert (seen_key[s.mask] < np.repeat(key, 5).reshape(-1, 5)[s.mask]).all()
    assert seqs["click"].mask.any() and set(seqs) == {"click", "like", "collect"}
    # a later event added to the log changes nothing for earlier queries
    late = clicks.assign(day=clicks.day + 100)
    s2 = last_n_events(pd.concat([clicks, late]), imp, n=5)
    np.testing.assert_array_equal(s2.items, seqs["click"].items)


def test_last_n_events_errors():
    ev = pd.DataFrame({"user_id": [0], "item_id": [1], "day": [0], "hour": [1], "request_id": [0]})
    with pytest.raises(ValueError, match="n must be"):
        last_n_events(ev, ev, 0)
    with pytest.raises(ValueError, match="missing"):
        last_n_events(ev.drop(columns="hour"), ev, 2)
    with pytest.raises(TypeError, match="DataFrame"):
        last_n_events(ev.to_numpy(), ev, 2)
    with pytest.raises(TypeError, match="integers"):
        last_n_events(ev.astype({"day": float}), ev, 2)
    with pytest.raises(ValueError, match="hour"):
        last_n_events(ev.assign(hour=24), ev, 2)
    with pytest.raises(ValueError, match="action"):
        behaviour_sequences(ev, ev, 2, actions=("click",))


# ---------------------------------------------------------------- LastN
def test_lastn_mean_naive_and_invariances():
    torch.manual_seed(0)
    h, mask = torch.randn(5, 6, 3), torch.rand(5, 6) < 0.6
    mask[0] = False
    out = lastn_mean(h, mask)
    for b in range(5):
        rows = [h[b, j] for j in range(6) if mask[b, j]]
        expected = torch.stack(rows).mean(0) if rows else torch.zeros(3)
        torch.testing.assert_close(out[b], expected)
    perm = torch.randperm(6)
    torch.testing.assert_close(lastn_mean(h[:, perm], mask[:, perm]), out)
    junk = torch.where(mask.unsqueeze(2), h, torch.full_like(h, float("nan")))
    torch.testing.assert_close(lastn_mean(junk, mask), out)


def test_lastn_mean_errors():
    with pytest.raises(ValueError, match="mask must have shape"):
        lastn_mean(torch.zeros(2, 3, 4), torch.ones(2, 4, dtype=torch.bool))
    with pytest.raises(TypeError, match="bool"):
        lastn_mean(torch.zeros(2, 3, 4), torch.ones(2, 3))
    with pytest.raises(ValueError, match="3-D"):
        lastn_mean(torch.zeros(2, 3), torch.ones(2, 3, dtype=torch.bool))


# ---------------------------------------------------------------- DIN
@pytest.mark.parametrize("kind", ["din", "softmax"])
def test_target_attention_padding_permutation_empty(kind):
    torch.manual_seed(1)
    att = TargetAttention(4, hidden=(8, 5), kind=kind)
    e, h, mask = torch.randn(6, 4), torch.randn(6, 7, 4), torch.rand(6, 7) < 0.5
    mask[2] = False
    out = att(e, h, mask)
    assert out.shape == (6, 4)
    torch.testing.assert_close(out[2], torch.zeros(4))
    junk = torch.where(mask.unsqueeze(2), h, torch.full_like(h, 1e6))
    torch.testing.assert_close(att(e, junk, mask), out)
    perm = torch.randperm(7)
    torch.testing.assert_close(att(e, h[:, perm], mask[:, perm]), out)
    # a batch of one gives the same as its row in a batch (no batch statistics)
    torch.testing.assert_close(att(e[:1], h[:1], mask[:1]), out[:1])
    w = att.weights(e, h, mask)
    assert (w[~mask] == 0).all()
    if kind == "softmax":
        sums = w.sum(1)
        torch.testing.assert_close(sums[mask.any(1)], torch.ones(int(mask.any(1).sum())))


def test_din_weights_by_a_plain_loop():
    torch.manual_seed(2)
    att = TargetAttention(3, hidden=(6,), kind="din")
    e, h, mask = torch.randn(2, 3), torch.randn(2, 4, 3), torch.tensor([[1, 1, 0, 1], [0, 1, 0, 0]]).bool()
    lin1, prelu, lin2 = att.unit
    w = att.weights(e, h, mask)
    out = att(e, h, mask)
    for b in range(2):
        total = torch.zeros(3)
        for j in range(4):
            x = torch.cat([e[b], h[b, j], e[b] - h[b, j], e[b] * h[b, j]])
            z = lin1(x)
            z = torch.where(z >= 0, z, prelu.weight * z)
            wj = lin2(z)[0] if mask[b, j] else torch.tensor(0.0)
            torch.testing.assert_close(w[b, j], wj)
            total = total + wj * h[b, j]
        torch.testing.assert_close(out[b], total)


def test_softmax_weights_by_hand():
    att = TargetAttention(2, kind="softmax")            # query starts as the identity
    e, h = torch.tensor([[1.0, 0.0]]), torch.tensor([[[2.0, 0.0], [0.0, 1.0], [5.0, 5.0]]])
    w = att.weights(e, h, torch.tensor([[True, True, False]]))
    a = np.exp(2 / np.sqrt(2))
    torch.testing.assert_close(w, torch.tensor([[a / (a + 1), 1 / (a + 1), 0.0]], dtype=torch.float32))


def test_target_attention_errors():
    att = TargetAttention(4)
    e, h, m = torch.zeros(2, 4), torch.zeros(2, 3, 4), torch.ones(2, 3, dtype=torch.bool)
    with pytest.raises(ValueError, match="candidate must have shape"):
        att(torch.zeros(3, 4), h, m)
    with pytest.raises(ValueError, match="mask must have shape"):
        att(e, h, torch.ones(2, 2, dtype=torch.bool))
    with pytest.raises(ValueError, match="width"):
        TargetAttention(5)(torch.zeros(2, 4), h, m)
    with pytest.raises(ValueError, match="extra"):
        att(e, h, m, extra=torch.zeros(2, 3, 1))
    with pytest.raises(ValueError, match="kind"):
        TargetAttention(4, kind="sum")
    with pytest.raises(ValueError, match="hidden"):
        TargetAttention(4, hidden=(0,))
    with pytest.raises(ValueError, match="dim"):
        TargetAttention(0)


# ---------------------------------------------------------------- SIM
def test_hard_search_against_a_filter():
    g = torch.Generator().manual_seed(3)
    cats, mask = torch.randint(0, 4, (20, 30), generator=g), torch.rand(20, 30, generator=g) < 0.7
    cand = torch.randint(0, 4, (20,), generator=g)
    pos, found = hard_search(cand, cats, mask, k=5)
    for b in range(20):
        expected = [j for j in range(30) if mask[b, j] and cats[b, j] == cand[b]][:5]
        assert pos[b].tolist() == expected + [-1] * (5 - len(expected))
    assert (found == (pos >= 0)).all()


def test_soft_search_against_brute_force():
    g = torch.Generator().manual_seed(4)
    h, mask = torch.randn(10, 12, 3, generator=g), torch.rand(10, 12, generator=g) < 0.5
    e = torch.randn(10, 3, generator=g)
    h[0, 3] = h[0, 1]                                   # a tie: the smaller position first
    mask[0, 1] = mask[0, 3] = True
    pos, found = soft_search(e, h, mask, k=4)
    for b in range(10):
        scores = {j: float(h[b, j] @ e[b]) for j in range(12) if mask[b, j]}
        expected = sorted(scores, key=lambda j: (-scores[j], j))[:4]
        assert pos[b].tolist() == expected + [-1] * (4 - len(expected))
    assert soft_search(e, h, mask, k=20)[0].shape == (10, 20)


def test_gather_and_time_buckets():
    v = torch.arange(12.0).reshape(2, 3, 2)
    torch.testing.assert_close(gather_positions(v, torch.tensor([[2, -1], [0, 1]]))[0, 0], v[0, 2])
    assert time_buckets(torch.tensor([0.5, 1.0, 30.0, 1e4])).tolist() == [0, 1, 5, 10]


@pytest.mark.parametrize("mode", ["hard", "soft"])
def test_sim_equals_din_on_the_retrieved_events(mode):
    torch.manual_seed(5)
    sim = SearchBasedInterest(4, k=3, mode=mode, time_dim=2, hidden=(6,))
    e, h, mask = torch.randn(5, 4), torch.randn(5, 9, 4), torch.rand(5, 9) < 0.8
    hours, cand_cat, hist_cat = torch.rand(5, 9) * 100, torch.randint(0, 3, (5,)), torch.randint(0, 3, (5, 9))
    out = sim(e, h, mask, hours, cand_cat, hist_cat)
    pos, found = sim.search(e, h, mask, cand_cat, hist_cat)
    extra = sim.time_embedding(time_buckets(gather_positions(hours, pos)))
    torch.testing.assert_close(out, sim.attention(e, gather_positions(h, pos), found, extra))
    # events the search does not keep cannot change the output
    dropped = torch.ones(5, 9, dtype=torch.bool)
    for b in range(5):
        dropped[b, pos[b][found[b]]] = False
    torch.testing.assert_close(sim(e, torch.where(dropped.unsqueeze(2), 9.0, h), mask, hours,
                                   cand_cat, hist_cat) if mode == "hard" else out, out)
    with pytest.raises(ValueError, match="hours_ago"):
        sim(e, h, mask, hours[:, :3], cand_cat, hist_cat)


def test_sim_errors():
    with pytest.raises(ValueError, match="mode"):
        SearchBasedInterest(4, mode="fuzzy")
    with pytest.raises(ValueError, match="needs candidate_category"):
        SearchBasedInterest(4).search(torch.zeros(1, 4), torch.zeros(1, 2, 4),
                                      torch.ones(1, 2, dtype=torch.bool))
    with pytest.raises(ValueError, match="same shape"):
        hard_search(torch.tensor([0]), torch.zeros(1, 3, dtype=torch.long),
                    torch.ones(1, 2, dtype=torch.bool), 2)
    with pytest.raises(ValueError, match="k must be"):
        soft_search(torch.zeros(1, 2), torch.zeros(1, 3, 2), torch.ones(1, 3, dtype=torch.bool), 0)


# ---------------------------------------------------------------- ranker
@pytest.mark.parametrize("pooling", ["none", "mean", "din", "softmax", "sim"])
def test_ranker_shapes_and_padding(pooling):
    torch.manual_seed(6)
    m = BehaviourRanker(np.arange(10) % 3, n_users=4, dim=4, pooling=pooling, hidden=(8,),
                        attention_hidden=(5,), short=2, k=2).eval()
    items, mask = torch.randint(0, 10, (3, 5)), torch.rand(3, 5) < 0.6
    hours = torch.rand(3, 5) * 50
    out = m(torch.tensor([0, 1, 3]), torch.tensor([1, 2, 9]), items, mask, hours)
    assert out.shape == (3,)
    padded = torch.where(mask, items, torch.full_like(items, 7))
    torch.testing.assert_close(m(torch.tensor([0, 1, 3]), torch.tensor([1, 2, 9]), padded, mask, hours), out)
    with pytest.raises(ValueError, match="pooling"):
        BehaviourRanker(np.arange(3), 2, pooling="max")


def test_din_by_category_pairs_equals_the_generic_path():
    torch.manual_seed(7)
    m = BehaviourRanker(np.arange(12) % 4, n_users=0, dim=4, pooling="din", hidden=(8,),
                        attention_hidden=(5,), item_ids_in_sequence=False)
    args = (torch.tensor([0, 0, 0]), torch.tensor([1, 5, 11]), torch.randint(0, 12, (3, 6)),
            torch.rand(3, 6) < 0.6)
    fast = m(*args)
    m.pair_table = False
    torch.testing.assert_close(m(*args), fast)


def test_lastn_user_tower_feeds_the_means_to_the_tower():
    from course.behaviour import LastNUserTower
    from course.recall.two_tower import Tower

    torch.manual_seed(8)
    tower = Tower([4], n_numeric=1 + 2 * 3, embedding_dim=2, hidden_dims=(5,), output_dim=3)
    user = LastNUserTower(tower, torch.nn.Embedding(9, 3), n_types=2)
    cat, num = torch.tensor([[1], [3]]), torch.randn(2, 1)
    h1, h2 = torch.tensor([[1, 4, -1], [-1, -1, -1]]), torch.tensor([[8, -1, -1], [2, 2, 5]])
    out = user(cat, num, [(h1, h1 >= 0), (h2, h2 >= 0)])
    e = user.item_embedding.weight
    means = torch.stack([torch.cat([(e[1] + e[4]) / 2, e[8]]), torch.cat([torch.zeros(3), (2 * e[2] + e[5]) / 3])])
    torch.testing.assert_close(out, tower(cat, torch.cat([num, means], 1)))
    with pytest.raises(ValueError, match="histories"):
        user(cat, num, [(h1, h1 >= 0)])


def test_experiment_helpers():
    from course.behaviour.experiment import evaluate_scores, logged_click_probability, ranker_inputs

    w = world.generate("tiny")
    imp = w.impressions
    p = logged_click_probability(w, imp)
    day0 = imp.day.to_numpy() == 0
    # the environment drew day 0's clicks from these probabilities: their sum matches the clicks
    assert abs(p[day0].sum() - imp.click[day0].sum()) < 4 * np.sqrt(p[day0].sum())
    s = last_n_events(imp[imp.click == 1], imp, 3)
    data = ranker_inputs(imp, s, np.arange(5))
    assert len(data) == 6 and data[2].shape == (5, 3)
    with pytest.raises(ValueError, match="one row per impression"):
        ranker_inputs(imp.iloc[:3], s, [0])
    table = evaluate_scores(imp.user_id.to_numpy(), imp.click.to_numpy(), {"oracle": p})
    assert 0.5 < table.loc["oracle", "AUC"] <= 1


@pytest.mark.parametrize("search", ["hard", "soft"])
def test_ranker_sim_equals_the_module_on_the_whole_history(search):
    torch.manual_seed(9)
    m = BehaviourRanker(np.arange(15) % 4, n_users=0, dim=4, pooling="sim", hidden=(6,),
                        attention_hidden=(5,), short=3, k=4, search=search)
    cand, items = torch.tensor([1, 6, 14]), torch.randint(0, 15, (3, 12))
    mask, hours = torch.rand(3, 12) < 0.8, torch.rand(3, 12) * 300
    e = m.represent(cand)
    direct = m.long_term(e, m.represent(items), mask, hours, m.item_category[cand],
                         m.item_category[items])
    torch.testing.assert_close(m._long_term(e, cand, items, mask, hours), direct)


# ---------------------------------------------------------------- lifelong histories
def test_lifelong_histories_follow_the_truth_and_are_deterministic():
    from course.behaviour.lifelong import candidate_rows, lifelong_histories

    w = world.generate("tiny")
    users, items = np.arange(0, 40, 2), np.arange(300)
    a = lifelong_histories(w, users, items, n_days=3, events_per_day=5, seed=1)
    b = lifelong_histories(w, users, items, n_days=3, events_per_day=5, seed=1)
    pd.testing.assert_frame_equal(a, b)
    assert len(a) == len(users) * 3 * 5 and set(a.item_id) <= set(items)
    assert (a.groupby(["user_id", "day"]).item_id.nunique() == 5).all()      # without replacement
    # chosen events have higher true logits than the slice's average, day by day
    for day in range(3):
        logit = w.oracle.click_logit_matrix(users, items, day=day)
        part = a[a.day == day]
        chosen = logit[np.searchsorted(users, part.user_id), np.searchsorted(items, part.item_id)]
        assert chosen.mean() > logit.mean() + 1.0
    c = candidate_rows(w, users, items, day=3, n_random=4, n_recalled=3, seed=2)
    assert len(c) == len(users) * 7 and (c.groupby("user_id").item_id.nunique() == 7).all()
    np.testing.assert_allclose(c.p_click, w.oracle.click_probability(c.user_id.to_numpy(), c.item_id.to_numpy(), day=3))
    with pytest.raises(ValueError, match="events_per_day"):
        lifelong_histories(w, users, items[:3], n_days=1, events_per_day=5)
    with pytest.raises(ValueError, match="user_ids"):
        lifelong_histories(w, np.array([10**6]), items, n_days=1, events_per_day=1)
    with pytest.raises(ValueError, match="n_random"):
        candidate_rows(w, users, items[:3], day=0, n_random=2, n_recalled=2)


def test_fit_ranker_is_deterministic_and_leaves_the_global_generator_alone():
    from course.behaviour.experiment import fit_ranker, ranker_inputs, ranker_scores

    w = world.generate("tiny")
    imp = w.impressions
    s = last_n_events(imp[imp.click == 1], imp, 4)
    data = ranker_inputs(imp, s, np.arange(600))
    category = w.items.subcategory_id.to_numpy()
    torch.manual_seed(123)
    before = torch.random.get_rng_state()
    runs = [ranker_scores(fit_ranker(category, data, data, "din", seed=3, epochs=1, batch_size=128), data)
            for _ in range(2)]
    np.testing.assert_array_equal(runs[0], runs[1])
    assert torch.equal(torch.random.get_rng_state(), before)
