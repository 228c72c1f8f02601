"""Tests for course.training: the loop must find the closed-form least-squares and the
scikit-learn logistic-regression solutions, stop early on a validation curve built to turn
upwards, and be exactly reproducible."""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.linear_model import LogisticRegression
from torch import nn

from course import training
from course.training import TrainingHistory, batches, predict, train


def squared_error(model, batch):
    features, target = batch
    return ((model(features).squeeze(1) - target) ** 2).mean()


def logistic_loss(model, batch):
    features, label = batch
    return nn.functional.binary_cross_entropy_with_logits(model(features).squeeze(1), label)


@pytest.fixture
def logistic_data():
    rng = np.random.default_rng(0)
    features = rng.normal(size=(2000, 4))
    logits = features @ rng.normal(size=4) - 0.5
    labels = (rng.random(2000) < 1 / (1 + np.exp(-logits))).astype(float)
    return features, labels


def parameters_of(model: nn.Linear) -> np.ndarray:
    bias = [] if model.bias is None else [model.bias.item()]
    return np.r_[model.weight.detach().numpy().ravel(), bias]


# ---------------------------------------------------------------- batches
def test_shuffled_batches_cover_every_row_once_and_stay_aligned():
    rows = np.arange(103)
    seen = []
    for index, doubled, tensor in batches(rows, rows * 2, torch.arange(103), batch_size=10, shuffle=True, seed=1):
        assert len(index) <= 10
        np.testing.assert_array_equal(doubled, index * 2)
        np.testing.assert_array_equal(tensor.numpy(), index)
        seen.append(index)
    order = np.concatenate(seen)
    assert sorted(order.tolist()) == rows.tolist()
    assert not np.array_equal(order, rows)  # actually shuffled
    assert [len(batch) for batch in seen] == [10] * 10 + [3]


def test_batches_order_depends_only_on_the_seed():
    def order(seed):
        return np.concatenate([b for (b,) in batches(np.arange(50), batch_size=7, shuffle=True, seed=seed)])

    np.testing.assert_array_equal(order(3), order(3))
    assert not np.array_equal(order(3), order(4))
    unshuffled = np.concatenate([b for (b,) in batches(np.arange(50), batch_size=7)])
    np.testing.assert_array_equal(unshuffled, np.arange(50))


def test_batches_validates_its_inputs():
    with pytest.raises(ValueError, match="same number of rows"):
        batches(np.zeros(3), np.zeros(4), batch_size=2)  # raised at call time, not on iteration
    with pytest.raises(ValueError, match="batch_size"):
        batches(np.zeros(3), batch_size=0)
    with pytest.raises(ValueError, match="at least one"):
        batches(batch_size=2)
    with pytest.raises(TypeError):
        batches([1, 2, 3], batch_size=2)


# ---------------------------------------------------------------- reaching known optima
def test_linear_regression_reaches_the_least_squares_solution():
    rng = np.random.default_rng(0)
    features = rng.normal(size=(1000, 5))
    target = features @ rng.normal(size=5) + 0.5 + 0.3 * rng.normal(size=1000)
    design = np.c_[features, np.ones(1000)]
    closed_form = np.linalg.solve(design.T @ design, design.T @ target)  # normal equations
    torch.manual_seed(0)
    model = nn.Linear(5, 1)
    history = train(model, squared_error, (features, target), epochs=50, batch_size=1000,
                    optimizer="sgd", learning_rate=0.4)
    np.testing.assert_allclose(parameters_of(model), closed_form, atol=1e-4)
    residual = target - design @ closed_form
    assert history.train_loss[-1] == pytest.approx(np.mean(residual**2), rel=1e-3)


def test_shuffled_mini_batches_reach_an_exact_fit():
    # Without noise every mini-batch gradient vanishes at the solution, so mini-batch SGD
    # converges to it exactly instead of hovering around it.
    rng = np.random.default_rng(1)
    features, true_weights = rng.normal(size=(512, 3)), np.array([1.5, -2.0, 0.25])
    torch.manual_seed(0)
    model = nn.Linear(3, 1, bias=False)
    train(model, squared_error, (features, features @ true_weights), epochs=40, batch_size=32,
          optimizer="sgd", learning_rate=0.1)
    np.testing.assert_allclose(parameters_of(model), true_weights, atol=1e-4)


def test_logistic_regression_matches_scikit_learn(logistic_data):
    features, labels = logistic_data
    reference = LogisticRegression(C=np.inf, tol=1e-10, max_iter=1000).fit(features, labels)
    torch.manual_seed(0)
    model = nn.Linear(4, 1)
    train(model, logistic_loss, (features, labels), epochs=200, batch_size=len(labels), learning_rate=0.1)
    np.testing.assert_allclose(parameters_of(model), np.r_[reference.coef_.ravel(), reference.intercept_], atol=1e-3)


def test_weight_decay_is_the_l2_penalty_of_scikit_learn(logistic_data):
    # weight_decay adds lambda * w to the gradient of the mean loss, i.e. minimises
    # mean_loss + lambda/2 ||w||^2; scikit-learn minimises C * sum_loss + 1/2 ||w||^2,
    # the same objective when C = 1 / (n lambda). No bias: scikit-learn does not penalise it.
    features, labels = logistic_data
    decay = 0.05
    reference = LogisticRegression(C=1 / (len(labels) * decay), fit_intercept=False, tol=1e-10).fit(features, labels)
    torch.manual_seed(0)
    model = nn.Linear(4, 1, bias=False)
    train(model, logistic_loss, (features, labels), epochs=60, batch_size=len(labels),
          optimizer="sgd", learning_rate=4.0, weight_decay=decay)
    np.testing.assert_allclose(parameters_of(model), reference.coef_.ravel(), atol=1e-4)
    unpenalised = LogisticRegression(C=np.inf, fit_intercept=False, tol=1e-10).fit(features, labels)
    assert np.linalg.norm(model.weight.detach().numpy()) < np.linalg.norm(unpenalised.coef_)


# ---------------------------------------------------------------- early stopping
def overfitting_setup():
    """Train on y = 2x, validate on y = x: from w = 0 the weight climbs to 2, so the
    validation loss (w - 1)^2 E[x^2] falls until w passes 1 and then rises."""
    x = np.linspace(-1, 1, 200)[:, None]
    model = nn.Linear(1, 1, bias=False)
    nn.init.zeros_(model.weight)
    return model, (x, 2 * x[:, 0]), (x, x[:, 0])


def test_early_stopping_stops_and_restores_the_best_weights():
    model, train_data, valid_data = overfitting_setup()
    history = train(model, squared_error, train_data, valid_data, epochs=100, batch_size=50,
                    optimizer="sgd", learning_rate=0.05, patience=3)
    valid = np.array(history.valid_loss)
    best = int(np.argmin(valid))
    assert history.stopped_early and history.best_epoch == best and 0 < best
    assert len(history.train_loss) == best + 1 + 3
    assert np.all(np.diff(valid[: best + 1]) < 0) and np.all(np.diff(valid[best:]) > 0)
    assert history.train_loss == sorted(history.train_loss, reverse=True)
    # The kept weights are those after epoch `best`: rerun the same seed for best + 1 epochs.
    replay, _, _ = overfitting_setup()
    train(replay, squared_error, train_data, epochs=best + 1, batch_size=50, optimizer="sgd", learning_rate=0.05)
    assert model.weight.item() == replay.weight.item()
    assert squared_error(model, training._as_tensors(valid_data, "v")).item() == pytest.approx(valid.min())


def test_metric_decides_the_best_epoch_and_restore_best_can_be_off():
    def closeness_to_one(model, data):  # higher is better; peaks where w crosses 1
        return -abs(model.weight.item() - 1.0)

    model, train_data, valid_data = overfitting_setup()
    history = train(model, squared_error, train_data, valid_data, epochs=60, batch_size=50, optimizer="sgd",
                    learning_rate=0.05, metric=closeness_to_one, restore_best=False)
    assert not history.stopped_early and len(history.valid_metric) == 60
    assert history.best_epoch == int(np.argmax(history.valid_metric)) < 59
    assert model.weight.item() == pytest.approx(2.0, abs=1e-3)  # last weights kept


# ---------------------------------------------------------------- determinism and modes
class DropoutNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Dropout(0.3), nn.Linear(16, 1))
        self.modes = []

    def forward(self, features):
        self.modes.append((self.training, torch.is_grad_enabled()))
        return self.layers(features)


def run_dropout_net(seed, logistic_data):
    torch.manual_seed(0)  # same initial weights; `seed` only drives shuffling and dropout
    model = DropoutNet()
    features, labels = logistic_data
    history = train(model, logistic_loss, (features[:1500], labels[:1500]), (features[1500:], labels[1500:]),
                    epochs=3, batch_size=128, seed=seed)
    return model, history


def test_same_seed_gives_identical_losses(logistic_data):
    first_model, first = run_dropout_net(5, logistic_data)
    second_model, second = run_dropout_net(5, logistic_data)
    assert first.train_loss == second.train_loss and first.valid_loss == second.valid_loss
    for a, b in zip(first_model.state_dict().values(), second_model.state_dict().values()):
        assert torch.equal(a, b)
    _, other = run_dropout_net(6, logistic_data)
    assert other.train_loss != first.train_loss


def test_train_and_eval_modes_and_no_grad(logistic_data):
    model, history = run_dropout_net(0, logistic_data)
    steps_per_epoch, valid_batches = -(-1500 // 128), -(-500 // 128)
    expected = ([(True, True)] * steps_per_epoch + [(False, False)] * valid_batches) * 3
    assert model.modes == expected
    assert not model.training and isinstance(history, TrainingHistory)


def test_predict_matches_a_full_forward_pass_and_restores_the_mode():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 8), nn.Dropout(0.5), nn.Linear(8, 2))
    features = np.random.default_rng(0).normal(size=(37, 3))
    model.train()
    scores = predict(model, None, features, batch_size=10)
    assert model.training and isinstance(scores, np.ndarray) and scores.shape == (37, 2)
    model.eval()
    with torch.no_grad():
        np.testing.assert_allclose(scores, model(torch.tensor(features, dtype=torch.float32)).numpy(), rtol=1e-6)
    pair_sum = predict(model, lambda m, batch: m(batch[0]).sum(1) + batch[1], (features, np.ones(37)), batch_size=8)
    np.testing.assert_allclose(pair_sum, scores.sum(1) + 1, rtol=1e-5)



def test_read_only_arrays_train_without_warning_and_give_the_same_result(logistic_data):
    # pandas 3's DataFrame.to_numpy() returns read-only views; torch.from_numpy on one warns
    # ("not writable"). The conversion copies them: no warning, and the same model as with
    # writable arrays.
    features, labels = logistic_data
    frame = pd.DataFrame(features, columns=list("abcd")).assign(label=labels)
    read_only = (frame[list("abcd")].to_numpy(), frame["label"].to_numpy())
    for array in read_only:
        array.flags.writeable = False  # whatever the pandas version: the case under test
    writable = tuple(array.copy() for array in read_only)

    def fit(data):
        torch.manual_seed(0)
        model = nn.Linear(4, 1)
        history = train(model, logistic_loss, data, epochs=3, batch_size=256, learning_rate=0.05)
        return model, history

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any warning fails the test
        model, history = fit(read_only)
        scores = predict(model, None, read_only[0])
    expected_model, expected_history = fit(writable)
    assert history.train_loss == expected_history.train_loss
    np.testing.assert_array_equal(parameters_of(model), parameters_of(expected_model))
    np.testing.assert_array_equal(scores, predict(expected_model, None, writable[0]))
    # torch warns only once per process, so also check the mechanism: a read-only array is
    # copied (a tensor sharing its memory could be written through), a writable one is shared.
    ids = np.arange(10)
    shared, = training._as_tensors((ids,), "data")
    ids.flags.writeable = False
    copied, = training._as_tensors((ids,), "data")
    assert np.shares_memory(shared.numpy(), ids) and not np.shares_memory(copied.numpy(), ids)
    assert torch.equal(shared, copied)


# ---------------------------------------------------------------- progress bar and errors
def test_progress_bar_is_silent_unless_asked(capsys, monkeypatch, logistic_data):
    data = (logistic_data[0][:200], logistic_data[1][:200])
    train(nn.Linear(4, 1), logistic_loss, data, epochs=2)  # auto: off under pytest
    assert capsys.readouterr() == ("", "")
    train(nn.Linear(4, 1), logistic_loss, data, epochs=2, progress=True)
    assert "epochs" in capsys.readouterr().err
    monkeypatch.delenv("PYTEST_CURRENT_TEST")
    monkeypatch.delenv("COURSE_QUIET", raising=False)
    assert training._progress_enabled(None)
    monkeypatch.setenv("COURSE_QUIET", "1")
    assert not training._progress_enabled(None) and training._progress_enabled(True)


@pytest.mark.parametrize(
    "kwargs, error",
    [
        ({"epochs": 0}, ValueError),
        ({"batch_size": 2.5}, TypeError),  # a wrong type is a TypeError
        ({"learning_rate": -1.0}, ValueError),
        ({"weight_decay": -0.1}, ValueError),
        ({"optimizer": "rmsprop"}, ValueError),
        ({"patience": 2}, ValueError),  # patience without valid_data
        ({"metric": lambda model, data: 0.0}, ValueError),
        ({"patience": 0, "valid_data": (np.zeros((4, 4)), np.zeros(4))}, ValueError),
    ],
)
def test_train_rejects_bad_parameters(kwargs, error):
    data = (np.zeros((4, 4)), np.zeros(4))
    with pytest.raises(error):
        train(nn.Linear(4, 1), logistic_loss, data, **kwargs)


def test_train_rejects_bad_data_and_losses():
    model = nn.Linear(4, 1)
    with pytest.raises(ValueError, match="same, non-zero number of rows"):
        train(model, logistic_loss, (np.zeros((4, 4)), np.zeros(5)))
    with pytest.raises(ValueError, match="non-zero"):
        train(model, logistic_loss, (np.zeros((0, 4)), np.zeros(0)))
    with pytest.raises(TypeError, match="Module"):
        train("not a model", logistic_loss, (np.zeros((4, 4)), np.zeros(4)))
    with pytest.raises(ValueError, match="scalar"):
        train(model, lambda m, batch: m(batch[0]), (np.zeros((4, 4)), np.zeros(4)))
    with pytest.raises(FloatingPointError, match="epoch 0"):
        train(model, lambda m, batch: m(batch[0]).sum() * float("nan"), (np.zeros((4, 4)), np.zeros(4)))
