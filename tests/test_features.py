"""The feature builder against a naive per-row loop, a leak test, the embedding, coverage, errors."""
import numpy as np
import pandas as pd
import pytest
import torch

from course import world as world_module
from course._checks import NotFittedError
from course.features import (FeatureBuilder, FeatureEmbedding, FeatureSet, smoothed_rate,
                             window_sums)

WINDOWS = (1, 2)


@pytest.fixture(scope="module")
def tiny():
    return world_module.generate("tiny")


@pytest.fixture(scope="module")
def fitted(tiny):
    logs = tiny.impressions
    return FeatureBuilder(tiny, windows=WINDOWS).fit(logs[logs["day"] < 2])


# ---------------------------------------------------------------- window_sums and smoothed_rate
def test_window_sums_equal_a_loop_over_rows():
    rng = np.random.default_rng(0)
    days, keys = rng.integers(0, 6, 300), rng.integers(0, 7, 300)
    values = rng.random((300, 2))
    q_days, q_keys = rng.integers(0, 7, 50), rng.integers(0, 7, 50)
    out = window_sums(days, keys, values, q_days, q_keys, n_keys=7, windows=(1, 3, 10))
    for r in range(50):
        for j, w in enumerate((1, 3, 10)):
            rows = (keys == q_keys[r]) & (days >= q_days[r] - w) & (days < q_days[r])
            np.testing.assert_allclose(out[r, j], values[rows].sum(axis=0))


def test_window_sums_errors():
    ok = dict(n_keys=2, windows=(1,))
    one = np.array([0])
    with pytest.raises(ValueError, match=r"query days must lie in \[0, 1\]"):
        window_sums(one, one, np.ones((1, 1)), np.array([2]), one, **ok)
    with pytest.raises(ValueError, match="history_keys must lie in"):
        window_sums(one, np.array([2]), np.ones((1, 1)), one, one, **ok)
    with pytest.raises(ValueError, match="windows must be"):
        window_sums(one, one, np.ones((1, 1)), one, one, n_keys=2, windows=(0,))
    with pytest.raises(TypeError, match="history_days must have an integer dtype"):
        window_sums(np.array([0.5]), one, np.ones((1, 1)), one, one, **ok)
    with pytest.raises(ValueError, match="one row each"):
        window_sums(one, one, np.ones((2, 1)), one, one, **ok)


def test_smoothed_rate_is_the_bayesian_average_and_checks_counts():
    assert smoothed_rate(3, 10, prior=0.2, strength=5) == pytest.approx((3 + 1) / 15)
    assert smoothed_rate(0, 0, prior=0.2, strength=5) == pytest.approx(0.2)  # no trials: the prior
    assert smoothed_rate(30, 100, prior=0.2, strength=0) == pytest.approx(0.3)
    with pytest.raises(ValueError, match="successes <= trials"):
        smoothed_rate(3, 2, prior=0.1, strength=1)
    with pytest.raises(ValueError, match="strength 0"):
        smoothed_rate(0, 0, prior=0.1, strength=0)
    with pytest.raises(ValueError, match="prior"):
        smoothed_rate(0, 1, prior=1.5, strength=1)


# ---------------------------------------------------------------- the builder against a naive loop
def naive_row(world, logs, row, builder, prior):
    """Every statistic and cross of one impression by filtering the logs, one row at a time."""
    items = world.items.set_index("item_id")
    item = items.loc[row.item_id]
    out = {}
    for w in WINDOWS:
        past = logs[(logs["day"] >= row.day - w) & (logs["day"] < row.day)]
        for prefix, rows in (("item", past[past["item_id"] == row.item_id]),
                             ("user", past[past["user_id"] == row.user_id])):
            n, k = len(rows), rows["click"].sum()
            out[f"{prefix}_impressions_{w}d"] = np.log1p(n)
            out[f"{prefix}_clicks_{w}d"] = np.log1p(k)
            out[f"{prefix}_ctr_{w}d"] = (k + builder.smoothing * prior["click"]) / (n + builder.smoothing) if n else None
            out[f"{prefix}_like_rate_{w}d"] = ((rows["like"].sum() + builder.smoothing * prior["like"])
                                               / (k + builder.smoothing) if k else None)
        cats = items.loc[past["item_id"], "category_id"].to_numpy()
        same = past[(past["user_id"] == row.user_id).to_numpy() & (cats == item["category_id"])]
        out[f"user_category_impressions_{w}d"] = np.log1p(len(same))
        out[f"user_category_ctr_{w}d"] = ((same["click"].sum() + builder.smoothing * prior["click"])
                                          / (len(same) + builder.smoothing) if len(same) else None)
    out["item_age_days"] = np.log1p(max(row.day - item["publish_day"], 0))
    slate = logs[(logs["day"] == row.day) & (logs["request_id"] == row.request_id)
                 & (logs["position"] < row.position)]
    above = (items.loc[slate["item_id"], "category_id"] == item["category_id"]).sum()
    follows = set(map(tuple, world.follows[["user_id", "author_id"]].to_numpy()))
    user = world.users.loc[row.user_id]
    flags = {"same_category_above": min(above, 3), "followed_author": int((row.user_id, item["author_id"]) in follows),
             "same_city": int(user["city"] == item["city"])}
    return out, flags


def test_features_equal_a_naive_per_row_loop(tiny, fitted):
    logs = tiny.impressions
    rows = logs.sample(120, random_state=0)                 # days 0, 1, 2: empty and full windows
    feats = fitted.transform(logs)                           # whole slates, then pick the rows
    position = {label: r for r, label in enumerate(logs.index)}
    for row in rows.itertuples():
        r = position[row.Index]
        expected, flags = naive_row(tiny, logs, row, fitted, fitted.priors_)
        for name, value in expected.items():
            j = feats.numeric_fields.index(name)
            raw = feats.numeric[r, j] * fitted.stds_[name] + fitted.means_[name]
            if value is None:                                # no trial in the window: the prior
                assert not feats.observed[r, len(feats.categorical_fields) + j]
                value = fitted.fallbacks_[name]
            assert raw == pytest.approx(value, rel=1e-5, abs=1e-5), name
        for name, value in flags.items():                    # codes: 0/1 seen in fit -> 1/2
            raw_code = feats.categorical[r, feats.categorical_fields.index(name)]
            assert raw_code == fitted.vocabularies_[name][value + 1], name


def test_codes_come_from_the_fit_rows_vocabulary(tiny, fitted):
    logs = tiny.impressions
    feats = fitted.transform(logs)
    seen = np.isin(feats.user_id, logs.loc[logs["day"] < 2, "user_id"].unique())
    user_codes = feats.categorical[:, feats.categorical_fields.index("user_id")]
    assert (user_codes[~seen] == 0).all() and (user_codes[seen] > 0).all()
    # codes are ranks of the sorted seen ids: 1 = the smallest user id of the fit rows
    first = logs.loc[logs["day"] < 2, "user_id"].min()
    assert set(user_codes[feats.user_id == first]) == {1}
    assert feats.cardinalities[0] == seen[np.unique(feats.user_id, return_index=True)[1]].sum() + 1
    hour = feats.categorical[:, feats.categorical_fields.index("hour")]
    assert hour.max() < feats.cardinalities[feats.categorical_fields.index("hour")]


# ---------------------------------------------------------------- leakage
def perturbed(logs, from_day, seed=1):
    """Labels of days >= from_day redrawn at random, and their rows shuffled and thinned."""
    rng = np.random.default_rng(seed)
    late = logs["day"] >= from_day
    out = logs.copy()
    for c in ("click", "like", "collect", "share"):
        out.loc[late, c] = rng.integers(0, 2, late.sum()).astype(np.int8)
    for c in ("like", "collect", "share"):                   # post-click actions need a click
        out.loc[late, c] = out.loc[late, c] * out.loc[late, "click"]
    keep = ~late | (rng.random(len(out)) < 0.7)
    return out[keep]


@pytest.mark.parametrize("day", [1, 2])
def test_no_leak_changing_day_d_or_later_leaves_day_d_features_unchanged(tiny, day):
    logs = tiny.impressions
    fit_rows = logs[logs["day"] < 1]
    rows = logs[logs["day"] == day]
    honest = FeatureBuilder(tiny, windows=WINDOWS).fit(fit_rows).transform(rows)
    changed = FeatureBuilder(tiny, windows=WINDOWS, history=perturbed(logs, day)).fit(fit_rows).transform(rows)
    np.testing.assert_array_equal(honest.numeric, changed.numeric)
    np.testing.assert_array_equal(honest.categorical, changed.categorical)
    # the test has power: changing day d - 1 does move day d's statistics
    earlier = FeatureBuilder(tiny, windows=WINDOWS, history=perturbed(logs, day - 1)).fit(fit_rows).transform(rows)
    assert not np.array_equal(honest.numeric, earlier.numeric)


def test_the_leak_test_catches_a_window_that_includes_day_d(tiny, monkeypatch):
    """A builder whose windows end on day d itself (the classic leak) fails the comparison."""
    import course.features.builder as module

    logs = tiny.impressions
    fit_rows, rows = logs[logs["day"] < 1], logs[logs["day"] == 1]

    def leaky(history_days, *args, **kwargs):                # shift history back a day: d counts
        return window_sums(np.maximum(history_days - 1, 0), *args, **kwargs)

    monkeypatch.setattr(module, "window_sums", leaky)
    honest = FeatureBuilder(tiny, windows=WINDOWS).fit(fit_rows).transform(rows)
    changed = FeatureBuilder(tiny, windows=WINDOWS, history=perturbed(logs, 1)).fit(fit_rows).transform(rows)
    assert not np.array_equal(honest.numeric, changed.numeric)


# ---------------------------------------------------------------- coverage, missing profiles
def test_coverage_and_the_seeded_missing_profiles(tiny, fitted):
    feats = fitted.transform(tiny.impressions)
    table = fitted.coverage(feats).set_index("field")
    masked = fitted.profiles_["gender"][feats.user_id] < 0
    assert table.loc["gender", "coverage"] == pytest.approx(1 - masked.mean())
    assert (fitted.profiles_["age_bucket"] < 0).mean() == pytest.approx(0.25, abs=0.05)
    assert table.loc["city", "coverage"] == 1.0
    video = (tiny.items["note_type"] == "video").to_numpy()[feats.user_id * 0 + feats.item_id]
    assert table.loc["video_length", "coverage"] == pytest.approx(video.mean())
    assert table.loc["item_ctr_1d", "coverage"] < 1 and table.loc["item_impressions_1d", "coverage"] == 1
    assert set(table["group"]) == {"user profile", "item profile", "user statistics",
                                   "item statistics", "context", "cross"}
    full = FeatureBuilder(tiny, windows=WINDOWS, missing_profiles={}).fit(tiny.impressions)
    assert full.coverage(full.transform(tiny.impressions)).set_index("field").loc["gender", "coverage"] == 1.0
    other = FeatureBuilder(tiny, windows=WINDOWS, seed=5).fit(tiny.impressions)
    assert not np.array_equal(other.profiles_["gender"], fitted.profiles_["gender"])


def test_transform_is_deterministic_and_subset_keeps_rows_aligned(tiny, fitted):
    a, b = fitted.transform(tiny.impressions), fitted.transform(tiny.impressions)
    np.testing.assert_array_equal(a.numeric, b.numeric)
    assert a.numeric.dtype == np.float32 and a.categorical.dtype == np.int64
    assert a.targets["click"].dtype == np.int8 and a.targets["watch_time"].dtype == np.float32
    part = a.subset(a.targets["click"] == 1)
    assert len(part) == int(tiny.impressions["click"].sum()) and (part.targets["click"] == 1).all()
    np.testing.assert_array_equal(part.user_id, tiny.impressions.loc[part.index, "user_id"])
    assert a.subset(np.array([3, 1])).index.tolist() == a.index[[3, 1]].tolist()
    without = FeatureBuilder(tiny, windows=WINDOWS, position=False).fit(tiny.impressions)
    assert "position" not in without.categorical_fields_


def test_builder_errors(tiny, fitted):
    logs = tiny.impressions
    with pytest.raises(NotFittedError):
        FeatureBuilder(tiny).transform(logs)
    with pytest.raises(TypeError, match="World"):
        FeatureBuilder("tiny").fit(logs)
    with pytest.raises(TypeError, match="DataFrame"):
        fitted.transform(logs.to_numpy())
    with pytest.raises(ValueError, match=r"lacks the columns \['hour'\]"):
        fitted.transform(logs.drop(columns="hour"))
    with pytest.raises(ValueError, match="empty"):
        fitted.transform(logs.iloc[:0])
    with pytest.raises(ValueError, match=r"impression days must lie in \[0, 3\]"):
        fitted.transform(logs.assign(day=logs["day"] + 2))
    with pytest.raises(ValueError, match="item_id must lie in"):
        fitted.transform(logs.assign(item_id=logs["item_id"] + 10_000))
    with pytest.raises(ValueError, match="windows must be"):
        FeatureBuilder(tiny, windows=(0, 3)).fit(logs)
    with pytest.raises(ValueError, match="distinct"):
        FeatureBuilder(tiny, windows=(3, 3)).fit(logs)
    with pytest.raises(TypeError, match="windows"):
        FeatureBuilder(tiny, windows=7).fit(logs)
    with pytest.raises(ValueError, match="missing_profiles names"):
        FeatureBuilder(tiny, missing_profiles={"income": 0.1}).fit(logs)
    with pytest.raises(ValueError, match="missing_profiles"):
        FeatureBuilder(tiny, missing_profiles={"gender": 1.0}).fit(logs)
    with pytest.raises(ValueError, match="smoothing"):
        FeatureBuilder(tiny, smoothing=0).fit(logs)
    with pytest.raises(TypeError, match="FeatureSet"):
        fitted.coverage(logs)
    with pytest.raises(ValueError, match="boolean mask"):
        fitted.transform(logs).subset(np.array([True]))
    with pytest.raises(TypeError, match="rows must be"):
        fitted.transform(logs).subset(np.array([0.5]))


# ---------------------------------------------------------------- FeatureEmbedding
def test_feature_embedding_shapes_lookups_and_fm_scaling():
    torch.manual_seed(0)
    emb = FeatureEmbedding((3, 5, 2), n_numeric=2, dim=4)
    cat = torch.tensor([[0, 4, 1], [2, 0, 0]])
    num = torch.tensor([[1.5, 0.0], [-2.0, 3.0]])
    fields = emb(cat, num)
    assert tuple(fields.shape) == (2, 5, 4) and emb.output_dim == 20
    table = emb.embedding.weight
    assert torch.equal(fields[0, 1], table[3 + 4]) and torch.equal(fields[1, 2], table[3 + 5 + 0])
    assert torch.allclose(fields[:, 3:], num.unsqueeze(2) * emb.numeric_vectors)  # x_j · v_j
    assert torch.equal(fields[0, 4], torch.zeros(4))                                 # value 0 -> 0
    assert torch.allclose(emb(cat, 2 * num)[:, 3:], 2 * fields[:, 3:])              # linear in x
    fields.sum().backward()                                                          # all trainable
    assert emb.numeric_vectors.grad is not None and emb.embedding.weight.grad.abs().sum() > 0


def test_feature_embedding_on_a_feature_set(tiny, fitted):
    feats = fitted.transform(tiny.impressions).subset(np.arange(64))
    emb = FeatureEmbedding(feats.cardinalities, n_numeric=len(feats.numeric_fields), dim=8)
    out = emb(torch.from_numpy(feats.categorical), torch.from_numpy(feats.numeric))
    assert tuple(out.shape) == (64, len(feats.categorical_fields) + len(feats.numeric_fields), 8)
    assert tuple(out.flatten(1).shape) == (64, emb.output_dim)


def test_feature_embedding_errors():
    emb = FeatureEmbedding((3, 5), n_numeric=1, dim=2)
    good_num = torch.zeros(1, 1)
    with pytest.raises(ValueError, match=r"codes of categorical field 1 must lie in \[0, 5\)"):
        emb(torch.tensor([[0, 5]]), good_num)
    with pytest.raises(ValueError, match=r"shape \(B, 2\)"):
        emb(torch.tensor([[0, 1, 2]]), good_num)
    with pytest.raises(TypeError, match="integer codes"):
        emb(torch.tensor([[0.0, 1.0]]), good_num)
    with pytest.raises(ValueError, match=r"numeric must have shape \(1, 1\)"):
        emb(torch.tensor([[0, 1]]), torch.zeros(1, 2))
    with pytest.raises(TypeError, match="floating"):
        emb(torch.tensor([[0, 1]]), torch.zeros(1, 1, dtype=torch.int64))
    with pytest.raises(ValueError, match="numeric is None"):
        emb(torch.tensor([[0, 1]]))
    with pytest.raises(ValueError, match="at least one field"):
        FeatureEmbedding((), n_numeric=0, dim=2)
    with pytest.raises(ValueError, match="cardinalities"):
        FeatureEmbedding((0, 3), n_numeric=0, dim=2)
    with pytest.raises(TypeError, match="cardinalities"):
        FeatureEmbedding(3, n_numeric=0, dim=2)
    assert tuple(FeatureEmbedding((), n_numeric=2, dim=3)(torch.zeros(4, 0, dtype=torch.int64),
                                                            torch.ones(4, 2)).shape) == (4, 2, 3)


@pytest.mark.slow
def test_transform_of_the_small_world_is_fast():
    import time

    small = world_module.load("small")
    logs = small.impressions
    builder = FeatureBuilder(small).fit(logs[logs["day"] < 6])
    start = time.perf_counter()
    feats = builder.transform(logs)
    assert len(feats) == len(logs) and time.perf_counter() - start < 10   # ~1.5 s on a busy machine
    assert isinstance(feats, FeatureSet)
    assert pd.Series(feats.day).nunique() == 8


def test_feature_model_and_same_category_above(tiny):
    from torch import nn

    from course.features import FeatureModel, same_category_above

    emb = FeatureEmbedding((4, 3), n_numeric=1, dim=2)
    flat = FeatureModel(emb, nn.Linear(emb.output_dim, 3))
    stacked = FeatureModel(emb, nn.Flatten(), flatten=False)
    cat, num = torch.tensor([[1, 2]]), torch.tensor([[0.5]])
    assert tuple(flat(cat, num).shape) == (1, 3)
    assert torch.equal(stacked(cat, num), emb(cat, num).flatten(1))
    with pytest.raises(TypeError, match="FeatureEmbedding"):
        FeatureModel(nn.Linear(2, 2), nn.Linear(2, 2))
    # same_category_above against a loop over slates
    logs = tiny.impressions.iloc[:400]
    category = tiny.items["category_id"].to_numpy()
    got = same_category_above(logs.sample(frac=1, random_state=0), category)  # any row order
    shuffled = logs.sample(frac=1, random_state=0)
    for (day, request, position, item), count in zip(shuffled[["day", "request_id", "position", "item_id"]].to_numpy(), got):
        slate = logs[(logs["day"] == day) & (logs["request_id"] == request) & (logs["position"] < position)]
        assert count == (category[slate["item_id"]] == category[item]).sum()
    with pytest.raises(ValueError, match="lacks the columns"):
        same_category_above(logs.drop(columns="request_id"), category)
