"""course.evaluation.movielens_multitask against the raw ratings (sets and lookups), the
course's AUC on the masked rows, and a plain count of ratings."""
import numpy as np
import pytest
import torch

from course.datasets import movielens_100k
from course.evaluation.movielens_multitask import (EmbeddedMultitask, funnel_loss, funnel_metrics,
                                                   logistic_regression_scores, movielens_funnel,
                                                   popularity_scores)
from course.metrics import auc
from course.ranking import MMoE


@pytest.fixture(scope="module")
def movielens():
    return movielens_100k()


@pytest.fixture(scope="module")
def funnel(movielens):
    return movielens_funnel(movielens, seed=0)


def test_rows_labels_and_masks_follow_the_ratings(movielens, funnel):
    ratings = movielens.ratings
    rating_of = dict(zip(zip(ratings["user_id"], ratings["item_id"]), ratings["rating"]))
    total = 0
    for rows in (funnel.train, funnel.valid, funnel.test):
        total += len(rows)
        rated = rows.labels[:, 0] == 1
        assert np.array_equal(rows.masks[:, 0], np.ones(len(rows), bool))
        assert np.array_equal(rows.masks[:, 1], rated)
        assert np.isnan(rows.labels[~rated, 1]).all()
        for u, i, r, liked in zip(rows.user_id, rows.item_id, rated, rows.labels[:, 1]):
            if r:
                assert liked == (rating_of[u, i] >= 4)
            else:  # a sampled negative: a film this user never rated
                assert (u, i) not in rating_of
    assert total == 2 * len(ratings)
    assert sum((f.labels[:, 0] == 1).sum() for f in (funnel.train, funnel.valid, funnel.test)) == len(ratings)


def test_split_is_by_time_within_each_user(movielens, funnel):
    ratings = movielens.ratings
    time_of = dict(zip(zip(ratings["user_id"], ratings["item_id"]), ratings["timestamp"]))
    latest, earliest = {}, {}
    for rows, store, pick in ((funnel.train, latest, max), (funnel.test, earliest, min)):
        for u, i, r in zip(rows.user_id, rows.item_id, rows.labels[:, 0]):
            if r:
                store[u] = pick(store.get(u, time_of[u, i]), time_of[u, i])
    assert all(latest[u] <= earliest[u] for u in earliest if u in latest)
    n = len(ratings)
    assert (funnel.train.labels[:, 0] == 1).sum() / n == pytest.approx(0.7, abs=0.01)
    assert (funnel.test.labels[:, 0] == 1).sum() / n == pytest.approx(0.2, abs=0.01)


def test_vocabularies_come_from_the_training_rows(funnel):
    assert funnel.cardinalities[0] == len(np.unique(funnel.train.user_id)) + 1
    assert funnel.cardinalities[1] == len(np.unique(funnel.train.item_id)) + 1
    assert (funnel.train.categorical > 0).all()               # every training code is known
    unknown = ~np.isin(funnel.test.item_id, funnel.train.item_id)
    assert np.array_equal(funnel.test.categorical[:, 1] == 0, unknown)
    assert funnel.train.numeric.shape[1] == len(funnel.numeric_fields) == 20


def test_metrics_popularity_and_the_model_wrapper(funnel):
    rows = funnel.test
    rng = np.random.default_rng(0)
    scores = rng.random((len(rows), 2))
    metrics = funnel_metrics(scores, rows)
    rated = rows.masks[:, 1]
    assert metrics["rated AUC"] == pytest.approx(auc(rows.labels[:, 0], scores[:, 0]))
    assert metrics["liked AUC"] == pytest.approx(auc(rows.labels[rated, 1], scores[rated, 1]))
    popularity = popularity_scores(funnel, rows)
    item = rows.item_id[0]
    expected = ((funnel.train.item_id == item) & (funnel.train.labels[:, 0] == 1)).sum()
    assert popularity[0, 0] == popularity[0, 1] == expected
    width = EmbeddedMultitask.input_width(funnel.cardinalities, 20, 4)
    model = EmbeddedMultitask(funnel.cardinalities, 20, 4, MMoE(width, 2, 8, funnel.tasks))
    batch = tuple(torch.from_numpy(np.ascontiguousarray(a[:64])) for a in rows.tensors())
    assert model(batch[0], batch[1]).shape == (64, 2)
    assert torch.isfinite(funnel_loss(model, batch))
    with pytest.raises(ValueError, match="scores must have shape"):
        funnel_metrics(scores[:, :1], rows)


def test_per_task_auc_uses_each_tasks_rows_and_checks_shapes():
    from course.evaluation.movielens_multitask import per_task_auc
    labels = np.array([[1, 1], [0, np.nan], [1, 0], [0, np.nan]], dtype=float)
    masks = np.array([[True, True], [True, False], [True, True], [True, False]])
    scores = np.array([[0.9, 0.2], [0.1, 5.0], [0.3, 0.8], [0.5, -5.0]])
    out = per_task_auc(scores, labels, masks, np.zeros(4, int), ("click", "like"))
    assert out["click AUC"] == out["click GAUC"] == pytest.approx(0.75)  # by hand: 3 of 4 pairs
    assert out["like AUC"] == out["like GAUC"] == 0.0   # rows 1 and 3 are ignored (masked)
    with pytest.raises(ValueError, match="must have shape"):
        per_task_auc(scores[:, :1], labels, masks, np.arange(4), ("click", "like"))


@pytest.mark.slow
def test_logistic_regression_baseline_beats_chance(funnel):
    metrics = funnel_metrics(logistic_regression_scores(funnel, funnel.valid), funnel.valid)
    assert metrics["rated AUC"] > 0.6 and metrics["liked AUC"] > 0.6


@pytest.mark.parametrize("kwargs", [dict(negatives=0), dict(valid_fraction=0.0),
                                    dict(valid_fraction=0.5, test_fraction=0.5), dict(seed=-1)])
def test_bad_arguments(movielens, kwargs):
    with pytest.raises(ValueError):
        movielens_funnel(movielens, **kwargs)
