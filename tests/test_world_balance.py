"""course.world.balance: personal interest matters in the world, measured against naive twins."""
import itertools

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from course import world as W
from course.recall.cf import ItemCF, top_k_per_row
from course.recall.cf.top_n import remove_seen
from course.world.balance import (gini, interest_balance, mean_pairwise_jaccard, platform_rates,
                                  served_ctr, servable_items, variance_shares)


# ------------------------------------------------------------------ the targets (issue)
def test_shipped_small_world_is_balanced_like_real_data(small_world):
    b = interest_balance(small_world)
    assert b.day == small_world.config.n_days - 1 and b.n_users == 400 and b.k == 50
    assert b.item_share <= 0.36, b                  # item main effect <= about 1/3 of var(logit)
    assert b.interaction_share >= 0.5, b            # most of it is user x item
    assert b.best_list_share <= 0.22, b             # one list for all holds <= ~20 % of a top-50
    assert b.most_clicked_share <= b.best_list_share + 0.02, b
    assert 0 < b.jaccard < 0.1, b
    frame = b.as_frame()
    assert frame.loc["item_share", "value"] == b.item_share and "Jaccard" in repr(b)


def recall_vs_oracle(world, n_users=400, k=50, seed=0):
    """Recall@k against the oracle's true top-k of unseen servable notes on the last day, for
    ItemCF and for the most-clicked notes, both fitted on the clicks of the days before
    (notebook 02a's protocol, 0/1 clicks)."""
    imp = world.impressions
    day = int(imp["day"].max())
    clicks = imp[(imp["day"] < day) & (imp["click"] == 1)]
    R = sp.csr_matrix((np.ones(len(clicks)), (clicks["user_id"], clicks["item_id"])),
                      shape=(len(world.users), len(world.items)))
    R.data[:] = 1.0
    users = np.sort(np.random.default_rng(seed).choice(np.flatnonzero(np.diff(R.indptr) > 0),
                                                       n_users, replace=False))
    servable = np.zeros(len(world.items), dtype=bool)
    servable[servable_items(world, day)] = True
    blocked = sp.csr_matrix((R[users] > 0) + sp.csr_matrix(np.tile(~servable, (n_users, 1))))
    truth = world.oracle.top_k(users, k, day=day, item_ids=np.flatnonzero(servable),
                               exclude=blocked[:, servable])                       # (U, k)

    def recall(scores):
        top = top_k_per_row(remove_seen(sp.csr_matrix(scores), blocked), k)[0]      # (U, k)
        return (top[:, :, None] == truth[:, None, :]).any(-1).sum(1).mean() / k

    popularity = np.tile(np.asarray(R.sum(axis=0)).ravel(), (n_users, 1))
    return recall(ItemCF().fit(R).score(users)), recall(popularity)


def test_itemcf_beats_popularity_against_the_oracle(small_world):
    """On ML-100K popularity reaches 0.25 / 0.45 = 0.56 of ItemCF: the world should agree."""
    itemcf, popularity = recall_vs_oracle(small_world)
    assert itemcf >= 1.7 * popularity, (itemcf, popularity)


# ------------------------------------------------------------------ naive twins
def test_variance_shares_equal_a_groupby_decomposition():
    rng = np.random.default_rng(0)
    L = rng.normal(size=(7, 11)) + rng.normal(size=11)[None, :] + 0.5 * rng.normal(size=7)[:, None]
    long = pd.DataFrame({"u": np.repeat(np.arange(7), 11), "i": np.tile(np.arange(11), 7),
                         "y": L.ravel()})
    grand = long["y"].mean()
    item = long.groupby("i")["y"].transform("mean") - grand
    user = long.groupby("u")["y"].transform("mean") - grand
    rest = long["y"] - grand - item - user
    total = ((long["y"] - grand) ** 2).sum()
    expected = [(item ** 2).sum() / total, (user ** 2).sum() / total, (rest ** 2).sum() / total]
    np.testing.assert_allclose(variance_shares(L), expected, atol=1e-12)
    assert sum(variance_shares(L)) == pytest.approx(1.0)


def test_variance_shares_of_pure_effects():
    rng = np.random.default_rng(1)
    items, users = rng.normal(size=9), rng.normal(size=5)
    np.testing.assert_allclose(variance_shares(np.tile(items, (5, 1))), [1, 0, 0], atol=1e-12)
    np.testing.assert_allclose(variance_shares(np.tile(users[:, None], (1, 9))), [0, 1, 0], atol=1e-12)
    interaction = np.outer(users - users.mean(), items - items.mean())   # zero row and column means
    np.testing.assert_allclose(variance_shares(interaction), [0, 0, 1], atol=1e-12)
    with pytest.raises(ValueError, match="constant"):
        variance_shares(np.ones((3, 4)))
    with pytest.raises(ValueError, match="matrix"):
        variance_shares(np.ones(4))


def test_jaccard_equals_python_sets():
    rng = np.random.default_rng(2)
    mask = rng.random((8, 30)) < 0.3
    mask[:, 0] = True                                                     # no empty row
    sets = [set(np.flatnonzero(row)) for row in mask]
    naive = np.mean([len(a & b) / len(a | b) for a, b in itertools.combinations(sets, 2)])
    assert mean_pairwise_jaccard(mask) == pytest.approx(naive, abs=1e-12)


def test_interest_balance_equals_a_naive_recomputation(tiny_world):
    """Pairwise oracle calls, python sets and pandas instead of the vectorised matrix path."""
    day, n, k = 1, 30, 5
    b = interest_balance(tiny_world, day=day, n_users=n, k=k, seed=3)
    users = np.sort(np.random.default_rng(3).choice(len(tiny_world.users), n, replace=False))
    items = tiny_world.environment().available_items(day)                # the environment's rule
    assert b.n_items == len(items)
    logit = np.array([tiny_world.oracle.click_logit(np.full(len(items), u), items, day=day)
                      for u in users])                                   # (n, I), hour averaged
    np.testing.assert_allclose([b.item_share, b.user_share, b.interaction_share],
                               variance_shares(logit), atol=1e-9)
    tops = [set(items[np.argsort(-row)[:k]]) for row in logit]
    best = set(items[np.argsort(-(1 / (1 + np.exp(-logit))).mean(0), kind="stable")[:k]])
    assert b.best_list_share == pytest.approx(np.mean([len(t & best) / k for t in tops]))
    logged = tiny_world.impressions.query("day <= @day and click == 1")
    counts = logged.groupby("item_id").size().reindex(items, fill_value=0)
    clicked = set(counts.sort_values(ascending=False, kind="stable").index[:k])
    assert b.most_clicked_share == pytest.approx(np.mean([len(t & clicked) / k for t in tops]))
    assert b.jaccard == pytest.approx(np.mean([len(a & c) / len(a | c) for a, c in
                                               itertools.combinations(tops, 2)]))
    assert interest_balance(tiny_world, day=day, n_users=n, k=k, seed=3) == b   # deterministic
    assert interest_balance(tiny_world, day=day, n_users=n, k=k, seed=4) != b


def test_platform_rates_equal_a_direct_pandas_computation(tiny_world):
    rates = platform_rates(tiny_world)
    imp = tiny_world.impressions
    assert rates.loc["CTR", "world"] == pytest.approx(imp["click"].sum() / len(imp))
    for action in ("like", "collect", "share", "comment", "follow"):
        by_click = imp.groupby("click")[action].mean()
        assert rates.loc[f"{action}|click", "world"] == pytest.approx(by_click[1])
    c = tiny_world.config
    notes = tiny_world.items.query(f"publish_day <= {c.n_days - 1} and "
                                   f"publish_day >= {-c.max_item_age_days}")["item_id"]
    shown = imp.groupby("item_id").size().reindex(notes, fill_value=0).to_numpy(float)
    mad = np.abs(shown[:, None] - shown[None, :]).mean()                 # mean |x_i - x_j|
    assert rates.loc["exposure Gini", "world"] == pytest.approx(mad / (2 * shown.mean()))
    top = pd.Series(shown).nlargest(int(np.ceil(0.2 * len(shown)))).sum()
    assert rates.loc["top 20% notes: impression share", "world"] == pytest.approx(top / shown.sum())
    assert rates.loc["CTR", "Tenrec QK-video"] == 0.288 and rates.loc["CTR", "Ali-CCP"] == 0.04
    assert np.isnan(rates.loc["collect|click", "Tenrec QK-video"])
    assert list(rates.columns) == ["world", "Tenrec QK-video", "KuaiRand-Pure", "Ali-CCP"]


def test_served_ctr_orders_floor_baseline_ceiling(tiny_world):
    ctr = served_ctr(tiny_world, seed=2)
    assert list(ctr.index) == ["random", "logging", "oracle"]
    assert ctr["random"] < ctr["logging"] < ctr["oracle"], ctr
    env = tiny_world.environment(seed=2)                                  # the same day, by hand
    assert ctr["oracle"] == env.step(W.oracle_policy(env)).impressions["click"].mean()


def test_gini_extremes():
    assert gini([3, 3, 3]) == pytest.approx(0.0)
    assert gini([0, 0, 0, 5]) == pytest.approx(0.75)                     # (n - 1) / n
    with pytest.raises(ValueError):
        gini([0, 0])


def test_bad_inputs(tiny_world):
    with pytest.raises(ValueError, match="logged day"):
        interest_balance(tiny_world, day=tiny_world.config.n_days)
    with pytest.raises(ValueError, match="day"):
        interest_balance(tiny_world, day=-1)
    with pytest.raises(TypeError, match="day"):
        interest_balance(tiny_world, day=1.5)
    with pytest.raises(ValueError, match="k"):
        interest_balance(tiny_world, k=0)
    with pytest.raises(ValueError, match="k=100000"):
        interest_balance(tiny_world, k=100_000)
    with pytest.raises(ValueError, match="n_users"):
        interest_balance(tiny_world, n_users=0)
    with pytest.raises(ValueError, match="exceeds"):
        interest_balance(tiny_world, n_users=len(tiny_world.users) + 1)
    with pytest.raises(TypeError, match="n_users"):
        interest_balance(tiny_world, n_users="400")
    with pytest.raises(ValueError, match="seed"):
        interest_balance(tiny_world, seed=-1)
    with pytest.raises(TypeError, match="seed"):
        interest_balance(tiny_world, seed=0.5)
    with pytest.raises(TypeError, match="World"):
        platform_rates("small")
    with pytest.raises(TypeError, match="World"):
        interest_balance("small")
    assert W.interest_balance is interest_balance and W.platform_rates is platform_rates
