"""course.world.report: the per-user figures behind interest_balance, against naive twins."""
import numpy as np
import pandas as pd
import pytest

from course.world import interest_balance
from course.world.report import most_clicked, overlap_per_user


def test_means_are_interest_balance_figures(tiny_world):
    per_user = overlap_per_user(tiny_world, day=1, n_users=30, k=5, seed=3)
    b = interest_balance(tiny_world, day=1, n_users=30, k=5, seed=3)
    assert len(per_user) == 30 and per_user["user_id"].is_monotonic_increasing
    assert per_user["best_list"].mean() == pytest.approx(b.best_list_share, abs=1e-12)
    assert per_user["most_clicked"].mean() == pytest.approx(b.most_clicked_share, abs=1e-12)
    assert per_user[["best_list", "most_clicked"]].isin(np.arange(6) / 5).all().all()


def test_per_user_overlap_equals_python_sets(tiny_world):
    day, n, k = 2, 12, 4
    per_user = overlap_per_user(tiny_world, day=day, n_users=n, k=k, seed=5)
    items = tiny_world.environment().available_items(day)
    logit = np.array([tiny_world.oracle.click_logit(np.full(len(items), u), items, day=day)
                      for u in per_user["user_id"]])                        # (n, I)
    best = set(items[np.argsort(-(1 / (1 + np.exp(-logit))).mean(0), kind="stable")[:k]])
    popular = set(most_clicked(tiny_world, day, k))
    for row, scores in zip(per_user.itertuples(), logit):
        truth = set(items[np.argsort(-scores)[:k]])
        assert row.best_list == len(truth & best) / k
        assert row.most_clicked == len(truth & popular) / k


def test_most_clicked_equals_a_pandas_groupby(tiny_world):
    day, k = 1, 7
    logged = tiny_world.impressions.query("day <= @day and click == 1")
    items = tiny_world.environment().available_items(day)
    counts = logged.groupby("item_id").size().reindex(items, fill_value=0)
    expected = counts.sort_values(ascending=False, kind="stable").index[:k].to_numpy()
    np.testing.assert_array_equal(most_clicked(tiny_world, day, k), expected)
    last = tiny_world.config.n_days - 1
    np.testing.assert_array_equal(most_clicked(tiny_world, k=k), most_clicked(tiny_world, last, k))


def test_bad_inputs(tiny_world):
    with pytest.raises(ValueError, match="logged day"):
        most_clicked(tiny_world, day=tiny_world.config.n_days)
    with pytest.raises(ValueError, match="k=100000"):
        most_clicked(tiny_world, k=100_000)
    with pytest.raises(ValueError, match="exceeds"):
        overlap_per_user(tiny_world, n_users=len(tiny_world.users) + 1)
    with pytest.raises(TypeError, match="World"):
        overlap_per_user("small")
    with pytest.raises(TypeError, match="k"):
        overlap_per_user(tiny_world, k=2.5)
    assert isinstance(overlap_per_user(tiny_world, n_users=3, k=2), pd.DataFrame)
