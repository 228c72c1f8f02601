"""Tests for course.ranking.video: the cross-entropy watch-time optimum, completion targets,
the length adjustment and the video model."""
import numpy as np
import pytest
import torch

from course._checks import NotFittedError
from course.ranking.video import (LengthAdjustment, VideoModel, completion_targets,
                                  cross_entropy_watch_time)
from course.ranking.watch_time import predict_watch_time, watch_time_loss


# ----------------------------------------------------------------- cross_entropy_watch_time
def test_closed_form_is_the_minimum_found_by_gradient_descent():
    # a plain loop of gradient steps on one constant logit, with course's own loss
    t = np.array([3.0, 10.0, 40.0, 0.0, 7.5])
    z = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.SGD([z], lr=5.0)
    for _ in range(3000):
        optimizer.zero_grad()
        watch_time_loss(z.expand(len(t)), t).backward()
        optimizer.step()
    assert predict_watch_time(z.detach()).item() == pytest.approx(cross_entropy_watch_time(t), rel=1e-6)


def test_closed_form_against_a_loop_and_the_means():
    t = [2.0, 5.0, 20.0]
    w = [1 / (1 + x) for x in t]
    harmonic = len(t) / sum(1 / (1 + x) for x in t)
    assert cross_entropy_watch_time(t) == pytest.approx(harmonic - 1)
    # the 1/(1+t)-weighted mean of t (the form watch_time.py's docstring writes)
    assert cross_entropy_watch_time(t) == pytest.approx(sum(wi * x for wi, x in zip(w, t)) / sum(w))
    assert cross_entropy_watch_time(t) < np.mean(t)                      # AM-HM: strictly below
    assert cross_entropy_watch_time([4.0, 4.0, 4.0]) == pytest.approx(4.0)  # constant: the mean


def test_gap_depends_on_the_unit():
    seconds = np.array([10.0, 60.0, 300.0])
    in_seconds = cross_entropy_watch_time(seconds)
    in_minutes = 60 * cross_entropy_watch_time(seconds / 60)
    in_hours = 3600 * cross_entropy_watch_time(seconds / 3600)
    assert in_seconds < in_minutes < in_hours < seconds.mean()
    assert in_hours == pytest.approx(seconds.mean(), rel=0.05)            # small t: y ≈ t, nearly the mean


@pytest.mark.parametrize("bad, error", [([], ValueError), ([-1.0], ValueError), ([np.nan], ValueError),
                                        ([[1.0]], ValueError), (["a"], TypeError)])
def test_cross_entropy_watch_time_bad_input(bad, error):
    with pytest.raises(error):
        cross_entropy_watch_time(bad)


# ----------------------------------------------------------------- completion_targets
def test_completion_targets_against_a_loop():
    c = np.random.default_rng(0).random(50)
    expected = [1.0 if x >= 0.8 else 0.0 for x in c]
    np.testing.assert_array_equal(completion_targets(c), expected)
    assert completion_targets([0.5, 0.49], threshold=0.5).tolist() == [1.0, 0.0]
    assert completion_targets([0.99, 1.0], threshold=1.0).tolist() == [0.0, 1.0]


@pytest.mark.parametrize("completion, threshold, error", [([1.2], 0.8, ValueError), ([-0.1], 0.8, ValueError),
                                                          ([np.nan], 0.8, ValueError), ([0.5], 0.0, ValueError),
                                                          ([0.5], 1.5, ValueError), ([0.5], "0.8", TypeError)])
def test_completion_targets_bad_input(completion, threshold, error):
    with pytest.raises(error):
        completion_targets(completion, threshold)


# ----------------------------------------------------------------- LengthAdjustment
def test_length_curve_against_a_loop():
    rng = np.random.default_rng(1)
    length = rng.lognormal(np.log(60), 0.7, 400)
    completion = np.clip(1.2 - 0.15 * np.log(length) + rng.normal(0, 0.1, 400), 0.01, 1)
    adj = LengthAdjustment(n_bins=4).fit(length, completion)
    order = np.argsort(length)
    groups = np.array_split(order, 4)                  # 400 distinct lengths: 4 bins of 100 by rank
    assert adj.counts_.tolist() == [100, 100, 100, 100]
    for b, rows in enumerate(groups):
        assert adj.means_[b] == pytest.approx(completion[rows].mean())
        assert adj.log_lengths_[b] == pytest.approx(np.log(length[rows]).mean())
    # at a bin's mean log length the curve is the bin's mean; beyond the ends it is flat
    np.testing.assert_allclose(adj.curve(np.exp(adj.log_lengths_)), adj.means_)
    assert adj.curve([1e-3, 1e6]).tolist() == [adj.means_[0], adj.means_[-1]]
    midpoint = np.exp((adj.log_lengths_[0] + adj.log_lengths_[1]) / 2)
    assert adj.curve([midpoint])[0] == pytest.approx((adj.means_[0] + adj.means_[1]) / 2)
    np.testing.assert_allclose(adj.adjust(completion, length), completion / adj.curve(length))
    assert adj.means_[0] > adj.means_[-1]             # long videos complete less


def test_length_adjustment_drops_empty_bins_and_checks():
    adj = LengthAdjustment(n_bins=5).fit([30.0] * 6 + [90.0] * 2, [0.5] * 6 + [0.25] * 2)
    assert adj.counts_.sum() == 8 and len(adj.means_) <= 5
    assert adj.curve([30.0])[0] == pytest.approx(0.5) and adj.curve([90.0])[0] == pytest.approx(0.25)
    with pytest.raises(NotFittedError):
        LengthAdjustment().curve([10.0])
    with pytest.raises(ValueError, match="length must be > 0"):
        LengthAdjustment().fit([0.0, 10.0], [0.5, 0.5])
    with pytest.raises(ValueError, match="shape"):
        LengthAdjustment().fit([5.0, 10.0], [0.5])
    with pytest.raises(ValueError, match="in \\[0, 1\\]"):
        LengthAdjustment().fit([5.0, 10.0], [0.5, 1.5])
    with pytest.raises(ValueError, match="positive mean"):
        LengthAdjustment(n_bins=1).fit([5.0, 10.0], [0.0, 0.0])
    with pytest.raises(ValueError, match="n_bins"):
        LengthAdjustment(n_bins=0).fit([5.0], [0.5])
    with pytest.raises(ValueError, match="empty"):
        LengthAdjustment().fit([], [])
    with pytest.raises(ValueError, match="shape"):
        adj.adjust([0.5, 0.5], [30.0])


# ----------------------------------------------------------------- VideoModel
def test_video_model_shapes_and_errors():
    torch.manual_seed(0)
    model = VideoModel(5, 6, 3, dim=4, hidden=7)
    users, items, cats = torch.tensor([0, 4]), torch.tensor([5, 1]), torch.tensor([2, 0])
    out = model(users, items, cats, torch.tensor([0.5, -1.0]))
    assert out.shape == (2,)
    # the parameter count from the shapes: three embeddings and two linear layers
    n_params = 5 * 4 + 6 * 4 + 3 * 4 + (3 * 4 + 1) * 7 + 7 + 7 * 1 + 1
    assert sum(p.numel() for p in model.parameters()) == n_params
    with pytest.raises(ValueError, match="share one 1-D shape"):
        model(users, items, cats, torch.zeros(3))
    with pytest.raises(ValueError, match="n_users"):
        VideoModel(0, 6, 3)
