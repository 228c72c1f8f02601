"""The world has the properties the chapters rely on, measured on its own logs."""
import hashlib

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn.metrics import roc_auc_score

from course import world as W
from course.world.entities import sample_within_groups
from course.world.splits import TIME_ORDER
from course.world.taxonomy import AGE_BUCKETS

TABLES = ["users", "items", "authors", "follows", "categories", "impressions", "user_days",
          "item_truth", "user_truth", "user_interests", "author_truth"]


def assert_worlds_equal(a, b):
    for name in TABLES:
        pd.testing.assert_frame_equal(getattr(a, name).reset_index(drop=True),
                                      getattr(b, name).reset_index(drop=True), obj=name)
    np.testing.assert_array_equal(a.item_content, b.item_content)


def true_probabilities(world, impressions):
    """P(click) of each logged impression, with its real position and fatigue."""
    out = []
    for day, g in impressions.groupby("day", sort=True):
        k = world.config.slate_size
        category = world.oracle.items["category"][g["item_id"].to_numpy()].reshape(-1, k)
        same = (category[:, :, None] == category[:, None, :]) & np.tri(k, k, -1, dtype=bool)
        out.append(world.oracle.click_probability(
            g["user_id"].to_numpy(), g["item_id"].to_numpy(), day=int(day),
            hour=g["hour"].to_numpy(), position=g["position"].to_numpy(),
            n_same_category_before=same.sum(2).ravel()))
    return np.concatenate(out)


# ------------------------------------------------------------------ reproducibility
def test_generate_is_deterministic(tiny_world):
    assert_worlds_equal(tiny_world, W.generate("tiny"))


def test_save_load_round_trip_and_same_bytes(tiny_world, tmp_path):
    first = W.save(tiny_world, tmp_path / "a")
    second = W.save(W.generate("tiny"), tmp_path / "b")
    for path in sorted(first.rglob("*.parquet")):
        twin = second / path.relative_to(first)
        assert hashlib.sha256(path.read_bytes()).digest() == hashlib.sha256(twin.read_bytes()).digest()
    assert_worlds_equal(tiny_world, W.load("tiny", directory=first))


def test_tampered_file_fails_checksum(tiny_world, tmp_path):
    path = W.save(tiny_world, tmp_path / "w")
    users = pd.read_parquet(path / "users.parquet")
    users.loc[0, "city"] = "Lhasa"
    users.to_parquet(path / "users.parquet")
    with pytest.raises(W.ChecksumError, match="checksum"):
        W.load("tiny", directory=path)


@pytest.mark.slow
def test_shipped_small_world_equals_regeneration(small_world):
    assert_worlds_equal(small_world, W.generate("small"))


def test_load_errors(tmp_path):
    with pytest.raises(ValueError, match="unknown world size"):
        W.load("medium")
    with pytest.raises(FileNotFoundError, match="generate"):
        W.load("tiny", directory=tmp_path)


# ------------------------------------------------------------------ realism
def test_ctr_and_oracle_auc_are_realistic(small_world):
    imp = small_world.impressions
    assert len(imp) > 200_000                                      # "a few hundred thousand"
    assert 0.01 < imp["click"].mean() < 0.20
    auc = roc_auc_score(imp["click"], true_probabilities(small_world, imp))
    assert 0.75 < auc < 0.87, auc                                  # learnable, not trivial


def test_popularity_has_a_long_tail(small_world):
    clicks = small_world.impressions.groupby("item_id")["click"].sum().sort_values(ascending=False)
    top_share = clicks.iloc[: len(clicks) // 10].sum() / clicks.sum()
    assert top_share > 0.3                                         # top 10 % of notes: > 30 % of clicks
    assert (clicks == 0).mean() > 0.05                             # and a tail never clicked


def test_subcategories_are_tighter_than_categories(small_world):
    latent = small_world.item_truth[[f"latent_{j}" for j in range(16)]].to_numpy()
    latent = latent / np.linalg.norm(latent, axis=1, keepdims=True)
    items = small_world.items
    rng = np.random.default_rng(0)
    a, b = rng.integers(0, len(items), (2, 200_000))
    cosine = (latent[a] * latent[b]).sum(1)
    same_sub = items["subcategory_id"].to_numpy()[a] == items["subcategory_id"].to_numpy()[b]
    same_top = items["category_id"].to_numpy()[a] == items["category_id"].to_numpy()[b]
    within_sub, within_top, across = (cosine[same_sub].mean(), cosine[same_top & ~same_sub].mean(),
                                      cosine[~same_top].mean())
    assert within_sub > within_top + 0.1 and within_top > across + 0.1


def test_small_circles_are_dense_co_interaction(small_world):
    """Circle members co-click their circle's notes far more than random groups do."""
    clicks = small_world.impressions.query("click == 1")
    user_circle = small_world.user_truth["circle_id"].to_numpy()
    item_circle = small_world.item_truth["circle_id"].to_numpy()
    for c in range(small_world.config.n_circles):
        members, notes = np.flatnonzero(user_circle == c), np.flatnonzero(item_circle == c)
        block = clicks[clicks.user_id.isin(members) & clicks.item_id.isin(notes)]
        density = len(block.drop_duplicates(["user_id", "item_id"])) / (len(members) * len(notes))
        others = clicks[~clicks.user_id.isin(members) & clicks.item_id.isin(notes)]
        outside = len(others.drop_duplicates(["user_id", "item_id"])) / (
            (small_world.config.n_users - len(members)) * len(notes))
        assert density > 20 * outside, (c, density, outside)


def test_explicit_crosses_show_in_the_logs(small_world):
    """Empirical CTR by (age bucket, category) tracks the true cross table; same city lifts CTR."""
    imp = small_world.impressions.merge(small_world.users[["user_id", "age_bucket", "city"]], on="user_id")
    imp = imp.merge(small_world.items[["item_id", "category_id", "city"]], on="item_id",
                    suffixes=("_user", "_item"))
    ctr = imp.groupby(["age_bucket", "category_id"])["click"].mean().unstack()
    table = small_world._age_category
    logit = np.log(ctr.loc[list(AGE_BUCKETS)].to_numpy())
    # remove each category's own level (quality/interest mix) before comparing shapes
    rho = stats.spearmanr((logit - logit.mean(0)).ravel(), (table - table.mean(0)).ravel())[0]
    assert rho > 0.4, rho
    same_city = imp["city_user"] == imp["city_item"]
    lift = imp.loc[same_city, "click"].mean() / imp.loc[~same_city, "click"].mean()
    assert lift > 1.3, lift


def test_position_bias_in_the_logs(small_world):
    ctr = small_world.impressions.groupby("position")["click"].mean().to_numpy()
    assert ctr[0] > 1.5 * ctr[-1]
    assert stats.spearmanr(np.arange(len(ctr)), ctr)[0] < -0.9


def test_post_click_tasks_are_correlated_but_not_identical(small_world):
    imp = small_world.impressions.sample(50_000, random_state=0)
    p = small_world.oracle.action_probabilities(imp.user_id.to_numpy(), imp.item_id.to_numpy(), day=3)
    corr = p[["like", "collect", "share"]].corr().to_numpy()[np.triu_indices(3, 1)]
    assert np.all(corr > 0.2) and np.all(corr < 0.9), corr


def test_ios_users_like_more(small_world):
    clicks = small_world.impressions.query("click == 1").merge(small_world.users[["user_id", "device_os"]])
    rate = clicks.groupby("device_os")["like"].mean()
    assert rate["iOS"] > rate["Android"] * 1.15


def test_new_notes_keep_arriving_and_motivation(small_world):
    new = small_world.items.query("publish_day >= 1")
    assert len(new) > 100
    per_day = new.groupby("publish_day").size()
    assert per_day.min() > 10


# ------------------------------------------------------------------ oracle & environment
def test_oracle_matrix_matches_pairwise(tiny_world):
    o = tiny_world.oracle
    users, items = np.arange(0, 50), np.arange(0, 300)
    matrix = o.click_probability_matrix(users, items, day=1, hour=20)
    pairs = o.click_probability(np.repeat(users, len(items)), np.tile(items, len(users)),
                                day=1, hour=20).reshape(matrix.shape)
    np.testing.assert_allclose(matrix, pairs, atol=1e-12)
    top = o.top_k(users, 5, day=1, item_ids=items)
    brute = items[np.argsort(-o.click_probability_matrix(users, items, day=1), axis=1)[:, :5]]
    np.testing.assert_array_equal(np.sort(top, 1), np.sort(brute, 1))


def test_oracle_top_k_by_day_equals_top_k_day_by_day(tiny_world):
    o = tiny_world.oracle
    users, items = np.arange(0, 60), np.arange(20, 400)
    by_day = o.top_k_by_day(users, 7, days=[2, 5, 9], item_ids=items)
    assert sorted(by_day) == [2, 5, 9]
    for day, top in by_day.items():
        np.testing.assert_array_equal(top, o.top_k(users, 7, day=day, item_ids=items))
    assert not np.array_equal(by_day[2], by_day[9])   # the drift moves the truth
    np.testing.assert_allclose(o.click_logit_matrix(users, items, day=3),
                               np.log(o.click_probability_matrix(users, items, day=3))
                               - np.log1p(-o.click_probability_matrix(users, items, day=3)), atol=1e-9)
    with pytest.raises(ValueError, match="days"):
        o.top_k_by_day(users, 7, days=[])
    with pytest.raises(ValueError, match="k="):
        o.top_k_by_day(users, 500, days=[1], item_ids=items)


def test_oracle_rejects_bad_input(tiny_world):
    o = tiny_world.oracle
    with pytest.raises(ValueError, match="user_ids"):
        o.click_probability([10_000], [0], day=0)
    with pytest.raises(TypeError):
        o.click_probability([0.5], [0], day=0)
    with pytest.raises(ValueError, match="day"):
        o.click_probability([0], [0], day=-1)
    with pytest.raises(ValueError, match="k"):
        o.top_k([0], 0, day=0)


def test_oracle_policy_beats_random_on_clicks_and_return(tiny_world):
    results = {}
    for name in ("random", "oracle"):
        env = tiny_world.environment(seed=3)
        policy = W.random_policy(3) if name == "random" else W.oracle_policy(env)
        days = env.run(policy, 2)
        results[name] = (np.mean([d.impressions.click.mean() for d in days]),
                         np.mean([d.users.return_probability.mean() for d in days]),
                         days[-1].users)
    assert results["oracle"][0] > 3 * results["random"][0]
    # next-day return: a paired comparison over the same users
    diff = results["oracle"][2].return_probability - results["random"][2].return_probability
    assert diff.mean() > 3 * diff.std() / np.sqrt(len(diff))


def test_environment_is_deterministic_and_checks_policies(tiny_world):
    a = tiny_world.environment(seed=5).step(tiny_world.logging_policy())
    b = tiny_world.environment(seed=5).step(tiny_world.logging_policy())
    pd.testing.assert_frame_equal(a.impressions, b.impressions)
    env = tiny_world.environment(seed=5)
    with pytest.raises(ValueError, match="shape"):
        env.step(lambda r: np.zeros((len(r), 3), dtype=int))
    with pytest.raises(ValueError, match="not available"):
        env.step(lambda r: np.full((len(r), r.slate_size), 10**6))


def test_route_by_group_serves_each_arm_its_policy(tiny_world):
    env = tiny_world.environment(seed=2)
    groups = (np.arange(tiny_world.config.n_users) % 2).astype(int)
    first = env.available_items()[:10]
    day = env.step(W.route_by_group(groups, [lambda r: np.tile(first, (len(r), 1)),
                                             W.random_policy(0)]))
    arm0 = day.impressions[groups[day.impressions.user_id] == 0]
    assert set(arm0.item_id) == set(first)
    assert len(set(day.impressions.item_id) - set(first)) > 50


def test_sample_within_groups_matches_weights():
    rng = np.random.default_rng(0)
    groups = np.array([0, 0, 0, 2, 2])
    weights = np.array([1.0, 2.0, 7.0, 1.0, 3.0])
    draws = sample_within_groups(groups, weights, np.zeros(100_000, int), rng, 3)
    np.testing.assert_allclose(np.bincount(draws, minlength=5)[:3] / 1e5, [0.1, 0.2, 0.7], atol=0.01)
    assert (sample_within_groups(groups, weights, np.ones(5, int), rng, 3) == -1).all()  # empty group


def test_splits(small_world):
    train, valid, test = W.split_by_day(small_world.impressions, test_days=1, valid_days=1)
    assert train.day.max() < valid.day.min() <= valid.day.max() < test.day.min()
    assert len(train) + len(valid) + len(test) == len(small_world.impressions)
    clicks = small_world.impressions.query("click == 1")
    history, held = W.leave_last_out(clicks, n=1)
    assert held.user_id.is_unique
    last = clicks.sort_values(TIME_ORDER).groupby("user_id").tail(1)
    merged = held.merge(last, on=["user_id"], suffixes=("", "_last"))
    assert (merged.item_id == merged.item_id_last).all()       # the held-out one is the last
    assert len(history) + len(held) == len(clicks)


@pytest.mark.slow
def test_exposure_motivates_authors_to_post(small_world):
    """Creator motivation: authors whose notes are shown more post more (WORLD.md)."""
    env_base, env_boost = small_world.environment(seed=4), small_world.environment(seed=4)
    boosted = np.arange(0, 600, 2)                                   # even authors get the traffic
    def only_boosted(requests):
        authors = env_boost.items["author_id"].to_numpy()
        pool = requests.available_items[np.isin(authors[requests.available_items], boosted)]
        rng = np.random.default_rng(requests.day)
        return pool[np.argsort(rng.random((len(requests), len(pool))), axis=1)[:, :requests.slate_size]]
    posts = {}
    for name, env, policy in (("base", env_base, W.random_policy(4)), ("boost", env_boost, only_boosted)):
        new = pd.concat([env.step(policy).new_items for _ in range(3)])
        posts[name] = np.isin(new["author_id"], boosted).mean()
    assert posts["boost"] > posts["base"] + 0.05, posts


def test_diverse_feeds_raise_next_day_return(tiny_world):
    """Satisfaction has diminishing returns per category: diversity pays in retention."""
    env = tiny_world.environment(seed=6)
    plain = env.run(W.oracle_policy(env), 2)
    env = tiny_world.environment(seed=6)
    diverse = env.run(W.oracle_policy(env, diversity_penalty=0.5), 2)
    gap = diverse[-1].users.return_probability - plain[-1].users.return_probability
    assert gap.mean() > 3 * gap.std() / np.sqrt(len(gap)), gap.describe()


def test_small_circles_fool_itemcf_but_not_swing(small_world):
    """The signal budget's circle item: ItemCF's most similar pairs are spurious circle
    pairs (notes from unrelated categories bound only by a social group); Swing's are not."""
    import scipy.sparse as sp
    from course.recall.cf import ItemCF, Swing

    clicks = small_world.impressions.query("click == 1")
    matrix = W.interaction_matrix(clicks, len(small_world.users), len(small_world.items))
    matrix.data[:] = 1.0
    circle = small_world.item_truth["circle_id"].to_numpy()
    shares = {}
    for name, model in (("itemcf", ItemCF()), ("swing", Swing(alpha=1.0))):
        similarity = sp.triu(model.fit(matrix).similarity_, k=1).tocoo()
        top = np.argsort(-similarity.data, kind="stable")[:1000]
        rows, cols = similarity.row[top], similarity.col[top]
        shares[name] = ((circle[rows] >= 0) & (circle[rows] == circle[cols])).mean()
    assert shares["itemcf"] > 0.3 and shares["swing"] < shares["itemcf"] / 5, shares


def test_oracle_gives_the_same_probability_for_the_logs_int8_positions(tiny_world):
    """The logs store position as int8; log2(1 + int8) would be float16 without the cast."""
    logs = tiny_world.impressions.head(200)
    day = int(logs["day"].iloc[0])
    logs = logs[logs["day"] == day]
    args = (logs["user_id"].to_numpy(), logs["item_id"].to_numpy())
    narrow = tiny_world.oracle.click_probability(*args, day=day, position=logs["position"].to_numpy())
    wide = tiny_world.oracle.click_probability(*args, day=day, position=logs["position"].to_numpy(np.int64))
    assert logs["position"].dtype == np.int8
    np.testing.assert_array_equal(narrow, wide)
