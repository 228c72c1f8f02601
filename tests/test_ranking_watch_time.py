"""course.ranking.watch_time against the written formulas (autograd), scipy's numeric minimiser
of the losses and the closed forms of what they estimate."""
import numpy as np
import pytest
import torch
from scipy.optimize import minimize_scalar
from scipy.special import expit

from course.ranking import (predict_watch_time, watch_time_loss, watch_time_targets,
                            weighted_logistic_loss, weighted_logistic_odds)


def written_loss(z, t):
    """The lecture's CE(y, p) with p = sigmoid(z), y = t / (1 + t), written out (numpy)."""
    y, p = t / (1 + t), expit(z)
    return -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))


def best_constant_logit(loss, t):
    return minimize_scalar(lambda z: loss(z, t), bounds=(-20, 20), method="bounded",
                           options={"xatol": 1e-10}).x


def test_targets_by_hand_and_types():
    np.testing.assert_allclose(watch_time_targets(np.array([0.0, 1.0, 9.0])).numpy(), [0, 0.5, 0.9])
    assert watch_time_targets(3).item() == 0.75
    y = watch_time_targets(torch.tensor([[1.0, 3.0]]))
    assert y.dtype == torch.float32 and y.shape == (1, 2)
    assert watch_time_targets(torch.tensor([1, 3])).tolist() == [0.5, 0.75]  # int tensors too


def test_loss_equals_the_written_formula_and_its_gradient():
    rng = np.random.default_rng(0)
    t = rng.exponential(20.0, size=50)
    z = torch.tensor(rng.normal(size=50), dtype=torch.float64, requires_grad=True)
    loss = watch_time_loss(z, t)
    assert loss.item() == pytest.approx(written_loss(z.detach().numpy(), t), rel=1e-12)
    (grad,) = torch.autograd.grad(loss, z)
    # the written formula through autograd, and its closed form (sigmoid(z) - y) / n
    zz = z.detach().clone().requires_grad_(True)
    y = torch.as_tensor(t / (1 + t))
    written = -(y * torch.log(torch.sigmoid(zz)) + (1 - y) * torch.log(1 - torch.sigmoid(zz))).mean()
    (grad_written,) = torch.autograd.grad(written, zz)
    torch.testing.assert_close(grad, grad_written, rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(grad, (torch.sigmoid(z) - y).detach() / 50, rtol=1e-10, atol=1e-12)


def test_constant_logit_minimiser_is_the_logit_of_the_mean_label():
    t = np.random.default_rng(1).exponential(5.0, size=1000)
    z_star = best_constant_logit(written_loss, t)
    y_bar = np.mean(t / (1 + t))
    assert z_star == pytest.approx(np.log(y_bar / (1 - y_bar)), abs=1e-6)
    # also through the package's torch loss
    z_torch = best_constant_logit(
        lambda z, t: watch_time_loss(torch.full((len(t),), z, dtype=torch.float64), t).item(), t)
    assert z_torch == pytest.approx(z_star, abs=1e-6)
    # exp(z*) is the mean of t weighted by 1/(1 + t), below E[t] by -Cov(w, t) / E[w]
    w = 1 / (1 + t)
    assert np.exp(z_star) == pytest.approx(np.sum(w * t) / np.sum(w), rel=1e-5)
    gap = -np.cov(w, t, bias=True)[0, 1] / w.mean()
    assert t.mean() - np.exp(z_star) == pytest.approx(gap, rel=1e-4)
    assert np.exp(z_star) < 0.5 * t.mean()  # here E[t] ≈ 5.04 and exp(z*) ≈ 2.36: far from it


def test_exp_logit_recovers_the_mean_exactly_for_constant_t_and_nearly_for_small_t():
    # a constant t: exp(z*) = t exactly
    assert np.exp(best_constant_logit(written_loss, np.full(10, 7.0))) == pytest.approx(7.0, rel=1e-6)
    # t small against 1: the weights 1/(1 + t) are nearly equal, the bias is second order
    t = np.random.default_rng(2).exponential(0.01, size=1000)
    estimate = np.exp(best_constant_logit(written_loss, t))
    assert estimate == pytest.approx(t.mean(), rel=0.03)
    assert estimate < t.mean()


def test_predict_watch_time_inverts_the_target():
    t = torch.tensor([0.5, 3.0, 60.0], dtype=torch.float64)
    y = watch_time_targets(t)
    torch.testing.assert_close(predict_watch_time(torch.logit(y)), t)


def test_weighted_logistic_odds_minimise_the_weighted_loss():
    rng = np.random.default_rng(3)
    clicked = (rng.uniform(size=2000) < 0.1).astype(np.int64)
    t = np.where(clicked == 1, rng.exponential(30.0, size=2000), 0.0)

    def loss(z, _):
        return weighted_logistic_loss(torch.full((2000,), z, dtype=torch.float64), clicked, t).item()

    odds = weighted_logistic_odds(clicked, t)
    assert np.exp(best_constant_logit(loss, t)) == pytest.approx(odds, rel=1e-5)
    # = E[T] / (1 - P) exactly; Covington et al.'s E[T](1 + P) is its first-order form
    mean_t, click_rate = t.mean(), clicked.mean()
    assert odds == pytest.approx(mean_t / (1 - click_rate), rel=1e-12)
    assert odds == pytest.approx(mean_t * (1 + click_rate), rel=2 * click_rate**2)


def test_weighted_logistic_loss_by_the_written_formula():
    z = torch.tensor([0.3, -1.0, 2.0], dtype=torch.float64)
    clicked, t = np.array([1, 0, 1]), np.array([4.0, 9.0, 0.5])
    s = torch.sigmoid(z)
    written = -(4.0 * torch.log(s[0]) + torch.log(1 - s[1]) + 0.5 * torch.log(s[2]))
    assert weighted_logistic_loss(z, clicked, t).item() == pytest.approx(written.item(), rel=1e-12)


def test_errors():
    with pytest.raises(ValueError, match="t must be finite and >= 0"):
        watch_time_targets([1.0, -0.5])
    with pytest.raises(ValueError, match="t must be finite"):
        watch_time_targets(torch.tensor([np.nan]))
    with pytest.raises(TypeError, match="t must be"):
        watch_time_targets("3")
    with pytest.raises(TypeError, match="t must be"):
        watch_time_targets(True)
    with pytest.raises(TypeError, match="logits"):
        watch_time_loss(np.zeros(2), [1.0, 2.0])
    with pytest.raises(TypeError, match="logits"):
        watch_time_loss(torch.zeros(2, dtype=torch.int64), [1.0, 2.0])
    with pytest.raises(ValueError, match="shape of logits"):
        watch_time_loss(torch.zeros(3), [1.0, 2.0])
    with pytest.raises(ValueError, match=">= 0"):
        watch_time_loss(torch.zeros(2), [1.0, -2.0])
    with pytest.raises(TypeError, match="logits"):
        predict_watch_time([0.0])
    with pytest.raises(ValueError, match="clicked must be 0/1"):
        weighted_logistic_odds([0, 2], [1.0, 1.0])
    with pytest.raises(ValueError, match="at least one 0"):
        weighted_logistic_odds([1, 1], [1.0, 1.0])
    with pytest.raises(ValueError, match="shape of clicked"):
        weighted_logistic_odds([1, 0], [1.0])
    with pytest.raises(ValueError, match="logits must have shape"):
        weighted_logistic_loss(torch.zeros(3), [1, 0], [1.0, 0.0])
    with pytest.raises(TypeError, match="logits"):
        weighted_logistic_loss([0.0, 0.0], [1, 0], [1.0, 0.0])
