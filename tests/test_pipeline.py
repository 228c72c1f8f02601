"""Tests for course.pipeline against brute-force twins (Python loops, pandas groupby, sorting)."""
import numpy as np
import pandas as pd
import pytest

from course.pipeline import (Candidates, CategoryRecall, DislikeFilter, FeedStatistics, Pipeline,
                             PopularRecall, PreRankScorer, RankScorer, RequestContext, ScoreStage,
                             TopK, as_policy, baseline_pipeline, disliked_pairs, fusion_score,
                             top_k_per_user)
from course.seed import set_seed


@pytest.fixture(scope="module")
def stats(tiny_world):
    return FeedStatistics().fit(tiny_world.impressions, tiny_world.items, len(tiny_world.users))


@pytest.fixture(scope="module")
def context(tiny_world):
    return RequestContext(day=3, available_items=tiny_world.items["item_id"].to_numpy())


def make_candidates(users, items, channels=None, **scores):
    users, items = np.asarray(users), np.asarray(items)
    channels = np.zeros(len(users), np.int16) if channels is None else np.asarray(channels, np.int16)
    return Candidates(users, items, channels, ("a", "b"), {k: np.asarray(v, float) for k, v in scores.items()})


@pytest.mark.parametrize("lists", ["similar lengths", "one long list"])
def test_top_k_per_user_equals_sorting_with_stable_ties(lists):
    rng = set_seed(0)
    users = rng.integers(0, 30, 2000)
    if lists == "one long list":                                # exercises the two-sort branch
        users = np.where(rng.random(2000) < 0.95, 7, users)
    scores = rng.integers(0, 5, 2000).astype(float)            # many ties
    for k in (1, 3, 100):
        got = top_k_per_user(users, scores, k)
        expected = []
        for user in sorted(set(users)):                         # brute force: per user, sorted()
            rows = [i for i in range(len(users)) if users[i] == user]
            expected += sorted(rows, key=lambda i: (-scores[i], i))[:k]
        assert got.tolist() == expected
    with pytest.raises(ValueError):
        top_k_per_user(users, scores, 0)
    with pytest.raises(ValueError):
        top_k_per_user(users[:2], np.array([0.5, np.nan]), 1)
    assert top_k_per_user(users[:0], scores[:0], 3).size == 0


def test_merge_dedups_and_keeps_the_first_channels_attribution():
    rng = set_seed(1)
    outputs = {name: (rng.integers(0, 5, 300), rng.integers(0, 40, 300)) for name in ("x", "y", "z")}
    pipeline = Pipeline({name: (lambda out: lambda users, context: out)(out)
                         for name, out in outputs.items()})
    merged = pipeline.recall(np.arange(5), RequestContext(0, np.arange(40)))
    # brute force: walk the channels in order and keep the first sighting of each pair
    first_seen = {}
    for code, (users, items) in enumerate(outputs.values()):
        for pair in zip(users.tolist(), items.tolist()):
            first_seen.setdefault(pair, code)
    pairs = list(zip(merged.user_ids.tolist(), merged.item_ids.tolist()))
    assert len(pairs) == len(set(pairs)) == len(first_seen)
    assert pairs == list(first_seen)                            # channel order, then channel's own
    assert merged.channels.tolist() == list(first_seen.values())
    assert merged.channel_names == ("x", "y", "z")


def test_dislike_filter_removes_exactly_the_disliked_pairs(tiny_world, stats, context):
    disliked = disliked_pairs(tiny_world.impressions, tiny_world.items, "author_id", 2)
    # brute force: count per (user, author) with Python dicts
    author = tiny_world.items["author_id"].to_numpy()
    shown, clicked = {}, {}
    for user, item, click in tiny_world.impressions[["user_id", "item_id", "click"]].itertuples(index=False):
        key = (user, author[item])
        shown[key] = shown.get(key, 0) + 1
        clicked[key] = clicked.get(key, 0) + click
    expected = {key for key in shown if shown[key] >= 2 and clicked[key] == 0}
    assert set(zip(disliked["user_id"], disliked["author_id"])) == expected and expected

    candidates = Pipeline({"popular": PopularRecall(stats, 200)}).recall(np.arange(400), context)
    kept = DislikeFilter(disliked, author)(candidates, context)
    removed = [(u, i) for u, i in zip(candidates.user_ids, candidates.item_ids) if (u, author[i]) in expected]
    assert len(removed) > 0 and len(kept) == len(candidates) - len(removed)
    assert not {(u, author[i]) for u, i in zip(kept.user_ids, kept.item_ids)} & expected


def test_statistics_match_pandas(tiny_world, stats):
    impressions, m = tiny_world.impressions, stats.prior_strength
    p0 = impressions["click"].mean()
    per_item = impressions.groupby("item_id")["click"].agg(["sum", "size"])
    expected = (per_item["sum"] + m * p0) / (per_item["size"] + m)
    assert np.allclose(stats.item_ctr_[per_item.index], expected)
    unseen = np.setdiff1d(np.arange(len(tiny_world.items)), per_item.index)
    assert np.allclose(stats.item_ctr_[unseen], p0)
    with_category = impressions.assign(category=tiny_world.items["category_id"].to_numpy()[impressions["item_id"]])
    per_cell = with_category.groupby(["user_id", "category"])["click"].agg(["sum", "size"])
    users, categories = (per_cell.index.get_level_values(i) for i in (0, 1))
    assert np.allclose(stats.user_category_ctr_[users, categories],
                       (per_cell["sum"] + m * p0) / (per_cell["size"] + m))
    with_author = impressions.assign(author=tiny_world.items["author_id"].to_numpy()[impressions["item_id"]])
    per_pair = with_author.groupby(["user_id", "author"])["click"].agg(["sum", "size"]).head(50)
    users, authors = (per_pair.index.get_level_values(i).to_numpy() for i in (0, 1))
    assert np.allclose(stats.user_author_ctr(users, authors), (per_pair["sum"] + m * p0) / (per_pair["size"] + m))
    never = stats.n_authors_ - 1 + 0 * users[:3]
    fresh = ~np.isin(users[:3] * stats.n_authors_ + never, stats._author_pairs)
    assert np.allclose(stats.user_author_ctr(users[:3], never)[fresh], p0)


def test_recall_channels(tiny_world, stats, context):
    users, items = PopularRecall(stats, 25)(np.array([3, 9]), context)
    recent = tiny_world.impressions[tiny_world.impressions["day"] > stats.last_day_ - stats.recent_days]
    clicks = recent.groupby("item_id")["click"].sum().reindex(range(len(tiny_world.items)), fill_value=0)
    ranked = pd.DataFrame({"clicks": clicks, "ctr": stats.item_ctr_}).sort_values(
        ["clicks", "ctr"], ascending=False, kind="stable")
    assert items[:25].tolist() == ranked.index[:25].tolist() and users.tolist() == [3] * 25 + [9] * 25

    channel = CategoryRecall(stats, n_categories=2, per_category=7)
    users, items = channel(np.arange(400), context)
    top = channel.top_categories(np.arange(400))
    clicks = stats.user_category_clicks_
    assert np.all(clicks[np.arange(400), top[:, 0]] == clicks.max(axis=1))
    category = stats.item_category_[items]
    assert np.all((category == top[users, 0]) | (category == top[users, 1]))
    per_user_category = pd.Series(1, index=pd.MultiIndex.from_arrays([users, category])).groupby(level=[0, 1]).size()
    assert per_user_category.max() == 7
    with pytest.raises(ValueError):
        channel(np.array([400]), context)
    _, newest = CategoryRecall(stats, n_categories=1, per_category=5, order="newest")(np.array([0]), context)
    days = stats.item_publish_day_[newest]
    same_category = stats.item_category_ == stats.item_category_[newest[0]]
    assert days.tolist() == sorted(stats.item_publish_day_[same_category], reverse=True)[:5]


def test_fusion_forms_equal_hand_computation(stats, context):
    p_click, like, collect = np.array([0.2, 0.05]), np.array([0.3, 0.9]), np.array([0.1, 0.5])
    weights = {"like": 2.0, "collect": 4.0}
    assert fusion_score(p_click, {"like": like, "collect": collect}, weights).tolist() == \
        pytest.approx([0.2 + 0.6 + 0.4, 0.05 + 1.8 + 2.0])
    assert fusion_score(p_click, {"like": like, "collect": collect}, weights, "multiplicative").tolist() == \
        pytest.approx([0.2 * 2.0, 0.05 * 4.8])
    with pytest.raises(ValueError):
        fusion_score(p_click, {"like": like}, {"share": 1.0})
    candidates = make_candidates([1, 1, 2], [4, 8, 15])
    weights = {"like": 0.5, "collect": 1.0, "share": 2.0}
    for form in ("additive", "multiplicative"):
        out = RankScorer(stats, weights, form)(candidates, context)
        bonus = 0.5 * out["p_like"] + out["p_collect"] + 2.0 * out["p_share"]
        expected = out["p_click"] + bonus if form == "additive" else out["p_click"] * (1 + bonus)
        assert np.allclose(out["score"], expected)
    assert np.allclose(out["p_like"], stats.item_action_rate_["like"][[4, 8, 15]])
    prerank = PreRankScorer(stats)(candidates, context)
    category = stats.item_category_[[4, 8, 15]]
    assert np.allclose(prerank, stats.item_ctr_[[4, 8, 15]] * stats.user_category_ctr_[[1, 1, 2], category]
                       / stats.global_ctr_)


def test_trace_counts_equal_stage_outputs(tiny_world, stats, context):
    seen = []

    def recording(stage):
        def run(candidates, ctx):
            out = stage(candidates, ctx)
            seen.append((len(candidates), len(out)))
            return out
        return run

    pipeline = baseline_pipeline(tiny_world.impressions, tiny_world.items, 400, min_impressions=2,
                                 prerank_keep=60, rank_keep=20, k=5)
    pipeline.stages = [(name, recording(stage)) for name, stage in pipeline.stages]
    users = np.array([0, 5, 77, 300])
    result = pipeline.run(users, context)
    trace = result.trace
    assert trace["stage"].tolist() == ["popular", "category", "merge & dedup", "disliked categories",
                                       "pre-ranking", "ranking", "reranking"]
    stages = trace[trace["kind"] == "stage"]
    assert list(zip(stages["candidates_in"], stages["candidates_out"])) == seen
    merge = trace.set_index("stage").loc["merge & dedup"]
    assert merge["candidates_in"] == trace.loc[trace["kind"] == "recall", "candidates_out"].sum()
    assert merge["candidates_out"] == seen[0][0]
    assert trace["candidates_out"].iloc[-1] == len(result.candidates) == 4 * 5
    assert np.allclose(trace["per_user_out"], trace["candidates_out"] / 4)
    assert (trace.loc[trace["kind"] == "recall", "candidates_in"] == 4 * len(context.available_items)).all()
    # the final list of each user is the ranking's top 5 by fused score
    for user in users:
        final = result.candidates.take(result.candidates.user_ids == user)
        assert np.all(np.diff(final.scores["score"]) <= 0) and len(set(final.item_ids)) == 5


def test_pipeline_beats_random_on_the_truth(tiny_world, context):
    pipeline = baseline_pipeline(tiny_world.impressions, tiny_world.items, 400, n_popular=100,
                                 per_category=40, prerank_keep=60, rank_keep=20)
    users = np.arange(0, 400, 4)
    final = pipeline.run(users, context).candidates
    truth = tiny_world.oracle.click_probability(final.user_ids, final.item_ids, day=3)
    rng = set_seed(2)
    random_items = rng.choice(context.available_items, len(final))
    baseline = tiny_world.oracle.click_probability(final.user_ids, random_items, day=3)
    assert truth.mean() > 1.5 * baseline.mean()


def test_as_policy_serves_the_pipeline_lists(tiny_world):
    env = tiny_world.environment(seed=0)
    requests = env.make_requests()
    pipeline = baseline_pipeline(tiny_world.impressions, tiny_world.items, 400, k=20)
    slates = as_policy(pipeline)(requests)
    assert slates.shape == (len(requests), requests.slate_size)
    assert np.isin(slates, requests.available_items).all()
    assert all(len(set(row)) == len(row) for row in slates)
    final = pipeline.run(requests.user_ids, RequestContext(requests.day, requests.available_items))
    for user in np.unique(requests.user_ids)[:20]:
        ranked = final.items_for(user)
        rows = np.flatnonzero(requests.user_ids == user)
        for j, row in enumerate(rows):                          # request j gets block j (wraps)
            assert slates[row].tolist() == [ranked[(j * 10 + s) % 20] for s in range(10)]
    result = env.step(as_policy(pipeline))                      # the environment accepts it
    assert len(result.impressions) == len(requests) * 10


def test_short_lists_are_padded_and_inputs_validated(tiny_world, stats, context):
    pipeline = Pipeline({"tiny": lambda users, ctx: (users, np.full(len(users), 3))})
    env = tiny_world.environment(seed=0)
    requests = env.make_requests()
    slates = as_policy(pipeline)(requests)
    assert (slates[:, 0] == 3).all() and all(len(set(row)) == 10 for row in slates)
    with pytest.raises(TypeError):
        Pipeline({"bad": 3})
    with pytest.raises(ValueError):
        Pipeline({"a": PopularRecall(stats)}, [("a", TopK(3))])
    with pytest.raises(ValueError):
        pipeline.run([], context)
    with pytest.raises(ValueError):
        ScoreStage(lambda c, ctx: np.zeros(1), keep=2)(make_candidates([1, 2], [3, 4]), context)
    with pytest.raises(ValueError):
        TopK(2)(make_candidates([1, 2], [3, 4]), context)
    with pytest.raises(ValueError):
        DislikeFilter(pd.DataFrame({"user_id": [1]}), np.arange(5))
