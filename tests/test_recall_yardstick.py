"""course.recall.yardstick against things that could disagree with it: the oracle's own top-k,
naive python-set loops over the logs, an independent pandas popularity list, and ItemCF."""
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from course.recall.cf import ItemCF
from course.recall.yardstick import BASELINES, RecallYardstick, compare, merge_with_quotas

DAY = 2  # the tiny world logs days 0, 1, 2: train on 0-1, clicks of day 2


@pytest.fixture(scope="module")
def ys(tiny_world):
    return RecallYardstick.from_world(tiny_world, day=DAY, n_users=60, truth_size=20, seed=3)


def random_channel(n_items, seed=0):
    """Any note of the catalogue (servable or not), some slots empty: exercises every branch."""
    def recommend(users, k):
        rng = np.random.default_rng(seed)
        out = np.stack([rng.choice(n_items, k, replace=False) for _ in users])
        out[rng.random(out.shape) < 0.2] = -1
        return out
    return recommend


def naive_setting(world, users, day, truth_size):
    """Servable notes, clicked-before sets, the oracle truth and the day's new clicks, by hand."""
    logs, items = world.impressions, world.items
    age = day - items["publish_day"]
    servable = set(items.loc[(age >= 0) & (age <= world.config.max_item_age_days), "item_id"])
    clicked = logs[logs["click"] == 1]
    before = clicked[clicked["day"] < day].groupby("user_id")["item_id"].agg(set)
    seen = [before.get(u, set()) for u in users]
    exclude = np.array([[i not in servable or i in s for i in range(len(items))] for s in seen])
    truth = world.oracle.top_k(users, truth_size, day=day, exclude=exclude)
    today = clicked[clicked["day"] == day].groupby("user_id")["item_id"].agg(set)
    clicks = [today.get(u, set()) - s for u, s in zip(users, seen)]
    return servable, seen, truth, clicks


def test_population_and_truth_match_the_oracle(ys, tiny_world):
    logs = tiny_world.impressions
    assert set(ys.user_ids) <= set(logs.loc[logs["day"] == DAY, "user_id"])
    assert np.all(np.diff(ys.user_ids) > 0) and ys.truth.shape == (60, 20)
    _, _, truth, _ = naive_setting(tiny_world, ys.user_ids, DAY, 20)
    assert np.array_equal(ys.truth, truth)


def test_oracle_scores_one_at_k_equal_truth_size_and_order_does_not_matter(ys):
    table = compare(ys, {"reversed truth": lambda users, k: ys.truth[:, ::-1].copy()}, k=20)
    assert list(table.index) == ["reversed truth", *BASELINES]
    assert table.loc["oracle", "recall_vs_oracle"] == 1.0
    pd.testing.assert_series_equal(table.loc["reversed truth"], table.loc["oracle"], check_names=False)
    # the ceiling is min(k, T) / T: at k = 10 the oracle finds half of a top-20
    assert compare(ys, {}, k=10).loc["oracle", "recall_vs_oracle"] == 0.5


def test_naive_loop_recomputes_a_random_channel(ys, tiny_world):
    n_items = len(tiny_world.items)
    recommend, k = random_channel(n_items), 15
    row = ys.score(recommend, k)
    lists = recommend(ys.user_ids, k)
    servable, seen, truth, clicks = naive_setting(tiny_world, ys.user_ids, DAY, 20)
    category = tiny_world.items["category_id"].to_numpy()
    counts = tiny_world.impressions.query("day < @DAY and click == 1")["item_id"].value_counts()
    by_clicks = sorted(servable, key=lambda i: (-counts.get(i, 0), i))
    head = set(by_clicks[:int(np.ceil(0.2 * len(servable)))])
    recall_o, recall_c, hit, pairs, slots = [], [], [], [], []
    for u, row_items, t, c, s in zip(ys.user_ids, lists, truth, clicks, seen):
        got = [int(i) for i in row_items if i >= 0]
        recall_o.append(len(set(got) & set(t)) / 20)
        if c:
            recall_c.append(len(set(got) & c) / len(c))
            hit.append(bool(set(got) & c))
        if len(got) > 1:
            pairs.append(np.mean([category[a] != category[b]
                                  for j, a in enumerate(got) for b in got[j + 1:]]))
        p = tiny_world.oracle.click_probability(np.full(len(got), u), np.array(got, dtype=int), day=DAY)
        slots += [(i in head, pi if i in servable else 0.0, i in servable and i not in s)
                  for i, pi in zip(got, p)]
    covered = {int(i) for i in lists.ravel() if i >= 0} & servable
    assert row["recall_vs_oracle"] == pytest.approx(np.mean(recall_o))
    assert row["users_with_clicks"] == len(recall_c) > 0
    assert row["recall_vs_clicks"] == pytest.approx(np.mean(recall_c))
    assert row["hit_rate_clicks"] == pytest.approx(np.mean(hit))
    assert row["coverage"] == pytest.approx(len(covered) / len(servable))
    assert row["diversity"] == pytest.approx(np.mean(pairs))
    head_hits, p_sum, allowed = (np.sum(col) for col in zip(*slots))
    assert row["head_share"] == pytest.approx(head_hits / len(slots))
    assert row["mean_true_p"] == pytest.approx(p_sum / lists.size)
    assert row["allowed_share"] == pytest.approx(allowed / lists.size)


def test_popularity_row_equals_pandas(ys, tiny_world):
    k, items = 25, tiny_world.items
    logs = tiny_world.impressions
    counts = logs[(logs["day"] < DAY) & (logs["click"] == 1)]["item_id"].value_counts()
    age = DAY - items["publish_day"]
    table = items.loc[(age >= 0) & (age <= tiny_world.config.max_item_age_days), ["item_id"]]
    table["clicks"] = table["item_id"].map(counts).fillna(0)
    ranked = table.sort_values(["clicks", "item_id"], ascending=[False, True])["item_id"].to_numpy()
    _, seen, _, _ = naive_setting(tiny_world, ys.user_ids, DAY, 20)
    expected = np.array([[i for i in ranked if i not in s][:k] for s in seen])
    assert np.array_equal(ys.popularity_baseline(ys.user_ids, k), expected)
    pd.testing.assert_series_equal(compare(ys, {"pandas": lambda users, k: expected}, k).loc["pandas"],
                                   compare(ys, {}, k).loc["popularity"], check_names=False)


def test_random_is_deterministic_per_seed(ys, tiny_world):
    a = ys.random_baseline(ys.user_ids, 10)
    assert np.array_equal(a, ys.random_baseline(ys.user_ids, 10))
    assert not np.array_equal(a, ys.random_baseline(ys.user_ids, 10, seed=1))
    again = RecallYardstick.from_world(tiny_world, day=DAY, n_users=60, truth_size=20, seed=3)
    pd.testing.assert_frame_equal(compare(ys, {}, 10), compare(again, {}, 10))
    assert not np.asarray(ys.exclude[np.arange(60)[:, None], a].todense()).any()   # allowed only


def test_day_after_the_logs_has_only_the_oracle_truth(tiny_world):
    ys = RecallYardstick.from_world(tiny_world, day=3, n_users=None, truth_size=5)
    assert ys.clicks is None and len(ys.user_ids) == len(tiny_world.users)
    row = compare(ys, {}, 5).loc["oracle"]
    assert row["recall_vs_oracle"] == 1.0 and np.isnan(row["recall_vs_clicks"])
    assert row["users_with_clicks"] == 0


def test_errors(ys, tiny_world):
    n_items, good = len(tiny_world.items), ys.truth[:, :5]
    for day, error in ((0, ValueError), (4, ValueError), (2.0, TypeError), (True, TypeError)):
        with pytest.raises(error, match="day"):
            RecallYardstick.from_world(tiny_world, day=day)
    with pytest.raises(ValueError, match="n_users"):
        RecallYardstick.from_world(tiny_world, day=DAY, n_users=10_000)
    with pytest.raises(TypeError, match="World"):
        RecallYardstick.from_world("small", day=DAY)
    with pytest.raises(ValueError, match="k must be"):
        ys.score(lambda users, k: good, 0)
    with pytest.raises(TypeError, match="callable"):
        ys.score(good, 5)
    with pytest.raises(ValueError, match="shape"):
        ys.score(lambda users, k: good[:, :4], 5)
    with pytest.raises(TypeError, match="integer"):
        ys.score(lambda users, k: good.astype(float), 5)
    for bad in (n_items, -2):
        wrong = good.copy()
        wrong[0, 0] = bad
        with pytest.raises(ValueError, match="item ids"):
            ys.score(lambda users, k: wrong, 5)
    twice = good.copy()
    twice[3, 1] = twice[3, 0]
    with pytest.raises(ValueError, match="repeats"):
        ys.score(lambda users, k: twice, 5)
    padded = good.copy()
    padded[:, 2:] = -1                                  # repeated -1 padding is not a repeat
    assert ys.score(lambda users, k: padded, 5)["recall_vs_oracle"] == pytest.approx(2 / 20)
    with pytest.raises(ValueError, match="reserved"):
        compare(ys, {"oracle": lambda users, k: good}, 5)
    with pytest.raises(ValueError, match="own users"):
        ys.oracle_baseline(ys.user_ids[:3], 5)


def naive_merge(lists, quotas, k):
    out = []
    for r in range(len(next(iter(lists.values())))):
        taken, owner = [], {}
        for name, array in lists.items():       # dedup first: a note belongs to its first channel
            for i in array[r]:
                if i >= 0 and i not in owner:
                    owner[i] = name
        used = dict.fromkeys(lists, 0)
        for i, name in owner.items():
            if used[name] < quotas.get(name, 10**9):
                used[name] += 1
                taken.append(i)
        out.append((taken + [-1] * k)[:k])
    return np.array(out)


def test_merge_with_quotas_matches_a_naive_loop():
    rng = np.random.default_rng(0)
    for _ in range(20):
        lists = {f"c{c}": rng.integers(-1, 30, (7, int(rng.integers(1, 12)))) for c in range(3)}
        lists = {n: np.array([_distinct(row) for row in a]) for n, a in lists.items()}
        quotas = {n: int(rng.integers(0, 8)) for n in lists if rng.random() < 0.7}
        k = int(rng.integers(1, 20))
        assert np.array_equal(merge_with_quotas(lists, quotas, k), naive_merge(lists, quotas, k))
    assert merge_with_quotas({"a": np.array([[1, 2, 3]]), "b": np.array([[2, 9, 8]])},
                             {"a": 2}, 4).tolist() == [[1, 2, 9, 8]]
    with pytest.raises(ValueError, match="quotas"):
        merge_with_quotas({"a": np.array([[1]])}, {"b": 1}, 1)


def _distinct(row):
    seen = set()
    return [(-1 if (i >= 0 and i in seen) else (seen.add(i) or i)) for i in row]


def test_itemcf_beats_popularity_on_the_small_world(small_world):
    ys = RecallYardstick.from_world(small_world, day=7)            # 400 users, T = 50
    logs = small_world.impressions
    clicked = logs[(logs["day"] < 7) & (logs["click"] == 1)]      # 02a's behaviour weights
    weight = sum(w * clicked[a] for a, w in {"click": 1, "like": 2, "share": 3, "collect": 2,
                                             "comment": 2}.items())
    R = sp.csr_matrix((weight.to_numpy(float), (clicked["user_id"], clicked["item_id"])),
                      shape=(len(small_world.users), len(small_world.items)))
    model = ItemCF().fit(R)

    def itemcf(users, k):              # top-k of R @ S, minus ys.exclude and unscored notes
        scores = model.score(users).toarray()
        scores[ys.exclude.nonzero()] = 0.0
        order = np.argsort(-scores, axis=1, kind="stable")[:, :k]
        return np.where(np.take_along_axis(scores, order, 1) > 0, order, -1)

    table = compare(ys, {"ItemCF": itemcf}, k=50)
    ours, popular = table.loc["ItemCF", "recall_vs_oracle"], table.loc["popularity", "recall_vs_oracle"]
    assert ours > popular, f"recall vs oracle@50: ItemCF {ours:.4f}, popularity {popular:.4f}"
    assert table.loc["random", "recall_vs_oracle"] < popular
    assert table.loc["oracle", "recall_vs_oracle"] == 1.0


def test_channel_lists_matches_a_naive_loop():
    from course.recall.yardstick import channel_lists

    rng = np.random.default_rng(0)
    pairs = [(u, i) for u in (9, 2, 4) for i in rng.permutation(30)[:rng.integers(0, 12)]]
    pairs += [(7, 1)]                                        # a user nobody asked for: ignored
    users, items = (np.array(column) for column in zip(*pairs))
    channel = lambda user_ids, context: (users, items)
    user_ids = np.array([4, 2, 9, 5])                        # not sorted; user 5 gets nothing
    exclude = sp.csr_matrix(rng.random((4, 30)) < 0.3)
    for k in (1, 5, 20):
        got = channel_lists(channel, None, exclude)(user_ids, k)
        for row, user in enumerate(user_ids):
            naive = [i for u, i in pairs if u == user and not exclude[row, i]][:k]
            assert got[row].tolist() == naive + [-1] * (k - len(naive))
    assert channel_lists(channel, None)(user_ids, 3)[2].tolist() == [i for u, i in pairs if u == 9][:3]
