"""Tests for course.recall.channels and course.pipeline.merge against brute-force twins
(Python loops over one user at a time, pandas filters and sorts, sets)."""
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from course.pipeline import (Candidates, Pipeline, RequestContext, ScoreStage, TopK,
                             baseline_pipeline)
from course.recall.channels import (author_cosine_similarity, AuthorRecall, CacheRecall,
                                    expected_false_positive_rate, ExposureFilter, GeoHashRecall,
                                    newest_first_order, NewestByKeyRecall, RecallCache,
                                    SameCityRecall, SimilarAuthorRecall, user_author_matrix)
from course.pipeline.merge import CacheUnshownStage, ChannelQuota, ExposureFilterStage, with_channels
from course.seed import set_seed


@pytest.fixture(scope="module")
def world(tiny_world):
    return tiny_world


@pytest.fixture(scope="module")
def setup(world):
    """Scores with many ties broken by a score, and a random two-thirds of notes available."""
    rng = set_seed(0)
    n_items = len(world.items)
    scores = rng.integers(0, 3, n_items).astype(float)
    available = np.sort(rng.choice(n_items, 2 * n_items // 3, replace=False))
    users = rng.choice(len(world.users), 40, replace=False)
    return scores, RequestContext(day=3, available_items=available), users


def brute_newest(items: pd.DataFrame, mask, scores, n):
    """Newest first, then best score, then smallest id: Python's sorted() of the matching notes."""
    day = items["publish_day"].to_numpy()
    return sorted(np.flatnonzero(mask).tolist(), key=lambda i: (-day[i], -scores[i], i))[:n]


def as_lists(users, items):
    out = {}
    for user, item in zip(users.tolist(), items.tolist()):
        out.setdefault(user, []).append(item)
    return out


@pytest.mark.parametrize("precision", [2, 4, 5])
def test_geohash_recall_equals_prefix_match(world, setup, precision):
    scores, context, users = setup
    channel = GeoHashRecall(precision=precision, n=15).fit(world.users, world.items, scores)
    got = as_lists(*channel(users, context))
    is_available = world.items["item_id"].isin(context.available_items).to_numpy()
    item_prefixes = np.array([g[:precision] for g in world.items["geohash"]])
    for user in users:
        prefix = world.users.loc[user, "geohash"][:precision]
        mask = (item_prefixes == prefix) & is_available
        assert got.get(int(user), []) == brute_newest(world.items, mask, scores, 15)


def test_same_city_recall_and_the_generic_key_index(world, setup):
    scores, context, users = setup
    got = as_lists(*SameCityRecall(n=20).fit(world.users, world.items, scores)(users, context))
    is_available = world.items["item_id"].isin(context.available_items).to_numpy()
    item_cities = world.items["city"].to_numpy(dtype=object)
    for user in users:
        mask = (item_cities == world.users.loc[user, "city"]) & is_available
        assert got[int(user)] == brute_newest(world.items, mask, scores, 20)
    # a user whose key no note has gets nothing; index_for lists a key's notes newest first
    channel = NewestByKeyRecall(n=3).fit(["x", "nowhere", None], ["x", "y", "x"], [0, 1, 2])
    assert as_lists(*channel([0, 1, 2], RequestContext(0, np.arange(3)))) == {0: [2, 0]}
    assert channel.index_for("x").tolist() == [2, 0] and channel.index_for("z").size == 0


def test_newest_first_order_matches_sorted():
    rng = set_seed(1)
    day, score = rng.integers(0, 4, 300), rng.integers(0, 3, 300)
    expected = sorted(range(300), key=lambda i: (-day[i], -score[i], i))
    assert newest_first_order(day, score).tolist() == expected


def test_user_author_matrix_follows_or_enough_interactions(world):
    n_users, n_authors = len(world.users), len(world.authors)
    matrix = user_author_matrix(world.follows, n_users, n_authors, world.impressions, world.items,
                                actions=("click", "like"), min_interactions=2)
    frame = world.impressions.assign(author_id=world.items["author_id"].to_numpy()[world.impressions["item_id"]],
                                     actions=world.impressions["click"] + world.impressions["like"])
    totals = frame.groupby(["user_id", "author_id"])["actions"].sum()
    expected = set(map(tuple, world.follows[["user_id", "author_id"]].to_numpy().tolist()))
    expected |= set(totals[totals >= 2].index.tolist())
    rows, cols = matrix.nonzero()
    assert set(zip(rows.tolist(), cols.tolist())) == expected
    assert set(np.unique(matrix.data).tolist()) == {1.0}
    follows_only = user_author_matrix(world.follows, n_users, n_authors)
    assert follows_only.nnz == len(world.follows.drop_duplicates()) < matrix.nnz


def test_author_recall_is_followed_authors_newest_notes(world, setup):
    scores, context, users = setup
    matrix = user_author_matrix(world.follows, len(world.users), len(world.authors))
    channel = AuthorRecall(per_author=3, n=8).fit(matrix, world.items["author_id"],
                                                 world.items["publish_day"], scores)
    got = as_lists(*channel(users, context))
    items = world.items[world.items["item_id"].isin(context.available_items)].assign(
        score=scores[world.items["item_id"].isin(context.available_items)])
    items = items.sort_values(["publish_day", "score", "item_id"], ascending=[False, False, True])
    newest = items.groupby("author_id").head(3)                         # each author's 3 newest
    for user in users:
        followed = world.follows.loc[world.follows["user_id"] == user, "author_id"]
        expected = newest[newest["author_id"].isin(followed)]["item_id"].head(8).tolist()
        assert got.get(int(user), []) == expected


def test_author_cosine_similarity_equals_set_formula(world):
    matrix = user_author_matrix(world.follows, len(world.users), len(world.authors))
    similarity = author_cosine_similarity(matrix)
    audiences = [set(matrix[:, a].nonzero()[0].tolist()) for a in range(matrix.shape[1])]
    rng = set_seed(2)
    for a, b in rng.integers(0, matrix.shape[1], (300, 2)):
        if a == b or not audiences[a] or not audiences[b]:
            expected = 0.0
        else:
            expected = len(audiences[a] & audiences[b]) / np.sqrt(len(audiences[a]) * len(audiences[b]))
        assert similarity[a, b] == pytest.approx(expected)


def test_similar_author_recall_equals_loop(world, setup):
    scores, context, users = setup
    matrix = user_author_matrix(world.follows, len(world.users), len(world.authors))
    channel = SimilarAuthorRecall(n_neighbours=5, n_authors=4, per_author=2, n=6).fit(
        matrix, world.items["author_id"], world.items["publish_day"], scores)
    similarity = author_cosine_similarity(matrix)
    got = as_lists(*channel(users, context))
    available = set(context.available_items.tolist())
    order = newest_first_order(world.items["publish_day"], scores).tolist()
    author_of = world.items["author_id"].to_numpy()
    for user in users:
        known = set(matrix[user].indices.tolist())
        score = {}
        for a in known:                                                  # a's 5 nearest authors
            for b in sorted(range(len(similarity)), key=lambda b: (-similarity[a, b], b))[:5]:
                if similarity[a, b] > 0 and b not in known:
                    score[b] = score.get(b, 0.0) + similarity[a, b]
        best = sorted(score, key=lambda b: (-score[b], b))[:4]
        expected = [i for b in best for i in [i for i in order if author_of[i] == b and i in available][:2]]
        assert got.get(int(user), []) == expected[:6]


def test_channel_quota_and_dedup_against_a_loop():
    rng = set_seed(3)
    outputs = {name: (rng.integers(0, 6, 400), rng.integers(0, 60, 400)) for name in ("a", "b", "c")}
    pipeline = Pipeline({name: (lambda out: lambda users, context: out)(out) for name, out in outputs.items()})
    merged = pipeline.recall(np.arange(6), RequestContext(0, np.arange(60)))
    quotas = {"a": 5, "c": 3}
    kept = ChannelQuota(quotas, total=12)(merged, None)
    expected, used = [], {}
    for code, (users, items) in enumerate(outputs.values()):              # brute force, in order
        for user, item in zip(users.tolist(), items.tolist()):
            if (user, item) in used:
                continue
            used[(user, item)] = code
            name = "abc"[code]
            n_channel = sum(1 for e in expected if e[0] == user and e[2] == code)
            if n_channel < quotas.get(name, 10**9):
                expected.append((user, item, code))
    # total: each user's first 12 kept rows in merged (channel) order
    expected = [e for e in expected if sum(1 for f in expected[: expected.index(e)] if f[0] == e[0]) < 12]
    got = list(zip(kept.user_ids.tolist(), kept.item_ids.tolist(), kept.channels.tolist()))
    assert sorted(got) == sorted(expected)
    assert len(set((u, i) for u, i, _ in got)) == len(got)                # dedup exact
    frame = kept.to_frame()
    assert frame.groupby(["user_id", "channel"]).size().loc[:, "a"].max() <= 5
    with pytest.raises(ValueError, match="unknown channels"):
        ChannelQuota({"zzz": 1})(merged, None)
    with pytest.raises(ValueError):
        ChannelQuota({"a": 0})


def test_exposure_filter_stage_no_false_negatives_and_about_the_fp_rate(world):
    imp = world.impressions
    exposure = ExposureFilter(window_days=30, capacity_per_day=int(imp.groupby("day").size().max()),
                              error_rate=0.02)
    for day, group in imp.groupby("day"):
        exposure.record(group["user_id"].to_numpy(), group["item_id"].to_numpy(), int(day))
    last = int(imp["day"].max())
    rng = set_seed(4)
    shown_pairs = set(zip(imp["user_id"].tolist(), imp["item_id"].tolist()))
    users = rng.integers(0, len(world.users), 60_000)
    items = rng.integers(0, len(world.items), 60_000)
    fresh = np.array([(u, i) not in shown_pairs for u, i in zip(users.tolist(), items.tolist())])
    cand_users = np.r_[imp["user_id"].to_numpy(), users[fresh]]
    cand_items = np.r_[imp["item_id"].to_numpy(), items[fresh]]
    candidates = Candidates(cand_users, cand_items, np.zeros(len(cand_users), np.int16), ("x",))
    kept = ExposureFilterStage(exposure)(candidates, RequestContext(last + 1, np.arange(len(world.items))))
    kept_pairs = set(zip(kept.user_ids.tolist(), kept.item_ids.tolist()))
    assert not kept_pairs & shown_pairs                                    # never lets one through
    dropped = 1 - len(kept) / fresh.sum()
    # a fresh pair is "seen" if any day's filter says so: 1 - prod(1 - fpr_day), with n the
    # day's distinct pairs (a pair shown twice sets no new bit)
    distinct = imp.drop_duplicates(["day", "user_id", "item_id"]).groupby("day").size()
    per_day = [expected_false_positive_rate(f.n_bits, f.n_hashes, distinct[day])
               for day, f in exposure.filters_.items()]
    expected = 1 - np.prod(1 - np.array(per_day))
    assert abs(dropped - expected) < 4 * np.sqrt(expected / fresh.sum()) + 1e-3


def test_cache_channel_and_stage_fill_recall_and_remove():
    items_per_user = {0: [10, 11, 12, 13, 14], 1: [20, 21, 22]}
    channel = lambda users, context: (np.repeat(users, [len(items_per_user[u]) for u in users]),
                                      np.concatenate([items_per_user[u] for u in users]))
    cache = RecallCache(capacity=10, max_recalls=2, max_age_days=5)
    score = lambda candidates, context: -candidates.item_ids.astype(float)   # smaller id = better
    pipeline = Pipeline({"base": channel, "cache": CacheRecall(cache, n=10)},
                        [("ranking", ScoreStage(score, keep=4)),
                         ("reranking", CacheUnshownStage(TopK(2), cache))])
    context = RequestContext(day=0, available_items=np.arange(100))
    first = pipeline.run([0, 1], context)
    assert first.items_for(0).tolist() == [10, 11]
    assert cache.items(0) == [13, 12] and cache.items(1) == [22]          # worst first = oldest
    # next request: the base channel's best were "shown", the cache brings 12 and 13 back
    items_per_user[0] = [12, 30, 31]
    second = pipeline.run([0], RequestContext(1, np.arange(100)))
    frame = second.candidates.to_frame()
    assert second.items_for(0).tolist() == [12, 13]
    assert frame.set_index("item_id").loc[13, "channel"] == "cache"
    assert 12 not in cache.items(0) and 13 not in cache.items(0)          # left on exposure
    assert cache.items(0) == [31, 30]                                      # unshown base notes
    # CacheRecall filters notes that are no longer available
    cache.add(1, [50], day=1)
    users, items = CacheRecall(cache, n=5)(np.array([1]), RequestContext(1, np.array([22])))
    assert items.tolist() == [22]


def test_with_channels_plugs_into_the_baseline_pipeline(world, setup):
    scores, context, users = setup
    base = baseline_pipeline(world.impressions, world.items, n_users=len(world.users))
    exposure = ExposureFilter(window_days=30, capacity_per_day=20_000, error_rate=0.01)
    for day, group in world.impressions.groupby("day"):
        exposure.record(group["user_id"].to_numpy(), group["item_id"].to_numpy(), int(day))
    geo = GeoHashRecall(precision=4, n=50).fit(world.users, world.items)
    cache = RecallCache(capacity=50)
    pipeline = with_channels(base, {"geohash": geo}, quotas={"popular": 100, "geohash": 20},
                             filters=[("exposure filter", ExposureFilterStage(exposure))], cache=cache)
    assert list(pipeline.channels) == ["popular", "category", "geohash"] and len(base.stages) == 4
    day = int(world.impressions["day"].max()) + 1
    context = RequestContext(day, world.items["item_id"].to_numpy())
    merged = pipeline.recall(users, context)
    after_filter = pipeline.stages[0][1](merged, context)
    after_quota = pipeline.stages[1][1](after_filter, context)
    counts = after_quota.to_frame().groupby(["user_id", "channel"]).size()
    assert counts.loc[:, "popular"].max() <= 100 and counts.loc[:, "geohash"].max() <= 20
    result = pipeline.run(users, context)
    assert list(result.trace["stage"])[:5] == ["popular", "category", "geohash", "merge & dedup",
                                              "exposure filter"]
    shown = set(zip(world.impressions["user_id"].tolist(), world.impressions["item_id"].tolist()))
    final = set(zip(result.candidates.user_ids.tolist(), result.candidates.item_ids.tolist()))
    assert not final & shown and len(cache) > 0
    with pytest.raises(ValueError, match="clash"):
        with_channels(base, {"popular": geo})


def test_errors(world):
    with pytest.raises(ValueError, match="not fitted"):
        GeoHashRecall()([0], RequestContext(0, np.arange(3)))
    with pytest.raises(ValueError, match="precision"):
        GeoHashRecall(precision=9).fit(world.users, world.items)
    with pytest.raises((ValueError, TypeError)):
        GeoHashRecall(precision=0).fit(world.users, world.items)
    channel = SameCityRecall(n=5).fit(world.users, world.items)
    with pytest.raises(ValueError, match="user ids"):
        channel([len(world.users)], RequestContext(0, np.arange(3)))
    with pytest.raises(TypeError, match="RequestContext"):
        channel([0], None)
    with pytest.raises(ValueError, match="item author ids"):
        AuthorRecall().fit(sp.csr_matrix((3, 2)), [0, 5], [0, 0])
    with pytest.raises(ValueError, match="items"):
        user_author_matrix(world.follows, len(world.users), len(world.authors), world.impressions)
    with pytest.raises(TypeError):
        CacheRecall(cache=[], n=3)
    with pytest.raises(TypeError):
        ExposureFilterStage(exposure=set())
    bare = Pipeline({"a": lambda users, context: (users, users)})
    with pytest.raises(ValueError, match="reranking"):
        with_channels(bare, {}, cache=RecallCache())
