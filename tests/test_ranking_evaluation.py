"""Per-task AUC/GAUC and the oracle's probabilities of logged rows."""
import numpy as np
import pandas as pd
import pytest

from course import world as world_module
from course.metrics import auc, gauc
from course.ranking import oracle_action_probabilities, task_metrics


def test_task_metrics_score_post_click_tasks_on_clicked_rows_only():
    rng = np.random.default_rng(0)
    n = 300
    click = rng.integers(0, 2, n)
    like = click * rng.integers(0, 2, n)
    users = rng.integers(0, 20, n)
    scores = {"click": rng.random(n), "like": rng.random(n)}
    table = task_metrics({"click": click, "like": like}, scores, users)
    on = click == 1
    assert table.loc["click", "AUC"] == auc(click, scores["click"])
    assert table.loc["like", "AUC"] == auc(like[on], scores["like"][on])
    assert table.loc["like", "GAUC"] == gauc(users[on], like[on], scores["like"][on])
    assert table.loc["like", "rows"] == on.sum() and table.loc["click", "rows"] == n
    with pytest.raises(ValueError, match="needs both"):
        task_metrics({"click": click}, scores, users)
    with pytest.raises(ValueError, match="shape"):
        task_metrics({"click": click}, {"click": scores["click"][:5]}, users)
    with pytest.raises(TypeError, match="dicts"):
        task_metrics([click], scores, users)


def test_oracle_probabilities_match_the_simulator_on_logged_rows():
    tiny = world_module.generate("tiny")
    logs = tiny.impressions
    truth = oracle_action_probabilities(tiny, logs)
    assert truth.index.equals(logs.index) and (truth["click"].between(0, 1)).all()
    # the labels were drawn with these probabilities: their mean matches the click rate
    assert abs(truth["click"].mean() - logs["click"].mean()) < 3 * np.sqrt(logs["click"].mean() / len(logs))
    # one row by hand, with its slate's same-category count
    row = logs.iloc[7]
    slate = logs[(logs["day"] == row.day) & (logs["request_id"] == row.request_id) & (logs["position"] < row.position)]
    category = tiny.items["category_id"].to_numpy()
    n_same = (category[slate["item_id"]] == category[int(row.item_id)]).sum()
    expected = tiny.oracle.action_probabilities([int(row.user_id)], [int(row.item_id)], day=int(row.day), hour=[int(row.hour)],
                                                position=[int(row.position)], n_same_category_before=[n_same])
    assert truth.iloc[7]["click"] == pytest.approx(expected["click"][0])
    shuffled = logs.sample(frac=1, random_state=1)
    pd.testing.assert_frame_equal(oracle_action_probabilities(tiny, shuffled), truth.loc[shuffled.index])
    with pytest.raises(ValueError, match="lacks the columns"):
        oracle_action_probabilities(tiny, logs.drop(columns="hour"))
