"""course.ranking.calibration against the odds argument, a simulation with known rates and
scikit-learn's logistic regression fitted on down-sampled rows."""
import numpy as np
import pytest
import torch
from scipy.special import expit
from sklearn.linear_model import LogisticRegression

from course.ranking import calibrate_downsampled, downsample_negatives


def test_closed_form_by_hand_and_through_the_odds():
    # p = 0.5 after sampling at α = 0.25: odds' = 1, true odds 0.25, true rate 0.2
    assert calibrate_downsampled(0.5, 0.25) == pytest.approx(0.2, abs=1e-15)
    p = np.random.default_rng(0).uniform(0.001, 0.999, size=200)
    for alpha in (0.01, 0.3, 0.9):
        odds = alpha * p / (1 - p)  # odds' = odds / α, so the true odds are α · odds'
        np.testing.assert_allclose(calibrate_downsampled(p, alpha), odds / (1 + odds), rtol=1e-12)


def test_alpha_one_is_the_identity_and_the_ends_are_fixed():
    p = np.linspace(0, 1, 11)
    np.testing.assert_array_equal(calibrate_downsampled(p, 1.0), p)
    np.testing.assert_array_equal(calibrate_downsampled(np.array([0.0, 1.0]), 0.05), [0.0, 1.0])


def test_monotone_increasing_and_never_above_p():
    p = np.sort(np.random.default_rng(1).uniform(size=500))
    q = calibrate_downsampled(p, 0.1)
    assert (np.diff(q) > 0).all()
    assert (q <= p).all()  # down-sampling only inflates the rate


def test_types_float_array_shape_and_torch():
    assert isinstance(calibrate_downsampled(0.3, 0.5), float)
    assert calibrate_downsampled(np.zeros((2, 3)), 0.5).shape == (2, 3)
    assert calibrate_downsampled(np.array([0, 1]), 0.5).tolist() == [0.0, 1.0]  # int 0/1 arrays too
    p = torch.tensor([0.2, 0.5], dtype=torch.float64, requires_grad=True)
    q = calibrate_downsampled(p, 0.25)
    assert isinstance(q, torch.Tensor)
    np.testing.assert_allclose(q.detach().numpy(), calibrate_downsampled(p.detach().numpy(), 0.25))
    q.sum().backward()  # differentiable: usable inside a loss
    # d/dp α p / (1 - p + α p) = α / (1 - p + α p)^2
    np.testing.assert_allclose(p.grad.numpy(), 0.25 / (1 - 0.75 * np.array([0.2, 0.5])) ** 2)


def test_errors():
    for alpha in (0.0, -0.1, 1.5, float("nan")):
        with pytest.raises(ValueError, match="alpha"):
            calibrate_downsampled(0.5, alpha)
    with pytest.raises(TypeError, match="alpha"):
        calibrate_downsampled(0.5, "0.1")
    for p in (-0.1, 1.1, float("nan")):
        with pytest.raises(ValueError, match="p"):
            calibrate_downsampled(p, 0.5)
    with pytest.raises(ValueError, match="p must hold"):
        calibrate_downsampled(np.array([0.2, 1.5]), 0.5)
    with pytest.raises(ValueError, match="p must hold"):
        calibrate_downsampled(np.array([0.2, np.nan]), 0.5)
    with pytest.raises(ValueError, match="p must hold"):
        calibrate_downsampled(torch.tensor([0.2, -0.5]), 0.5)
    with pytest.raises(TypeError):
        calibrate_downsampled(torch.tensor([0, 1]), 0.5)  # an integer tensor
    with pytest.raises(TypeError):
        calibrate_downsampled(np.array(["a"]), 0.5)
    with pytest.raises(TypeError):
        calibrate_downsampled(True, 0.5)


def test_downsample_keeps_every_positive_and_a_share_alpha_of_negatives():
    labels = (np.random.default_rng(2).uniform(size=100_000) < 0.05).astype(np.int64)
    mask = downsample_negatives(labels, 0.2, seed=3)
    assert mask.dtype == bool and mask.shape == labels.shape
    assert mask[labels == 1].all()
    n_negatives = (labels == 0).sum()
    kept = mask[labels == 0].sum()
    # binomial(n, 0.2): within 4 standard deviations
    assert abs(kept - 0.2 * n_negatives) < 4 * np.sqrt(n_negatives * 0.2 * 0.8)
    np.testing.assert_array_equal(mask, downsample_negatives(labels, 0.2, seed=3))  # seeded
    np.testing.assert_array_equal(mask, downsample_negatives(labels.astype(bool), 0.2,
                                                             seed=np.random.default_rng(3)))
    assert downsample_negatives(labels, 1.0, seed=0).all()
    assert downsample_negatives(np.array([], dtype=np.int64), 0.5, seed=0).shape == (0,)


def test_downsample_errors():
    with pytest.raises(ValueError, match="0/1"):
        downsample_negatives([0, 2], 0.5, seed=0)
    with pytest.raises(TypeError, match="labels"):
        downsample_negatives([0.0, 1.0], 0.5, seed=0)
    with pytest.raises(ValueError, match="1-D"):
        downsample_negatives([[0, 1]], 0.5, seed=0)
    with pytest.raises(ValueError, match="alpha"):
        downsample_negatives([0, 1], 0.0, seed=0)
    with pytest.raises(ValueError, match="seed"):
        downsample_negatives([0, 1], 0.5, seed=-1)
    with pytest.raises(TypeError, match="seed"):
        downsample_negatives([0, 1], 0.5, seed=0.5)


def _logistic_world(n, seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    p = expit(-3.0 + 1.0 * x)  # true rates, mean about 0.07
    return x, p, (rng.uniform(size=n) < p).astype(np.int64)


def test_empirical_ctr_of_the_downsampled_set_corrects_to_the_full_ctr():
    _, _, labels = _logistic_world(200_000, seed=4)
    alpha = 0.1
    mask = downsample_negatives(labels, alpha, seed=5)
    inflated = labels[mask].mean()  # the CTR a constant model learns on the kept rows
    true_ctr = labels.mean()
    corrected = calibrate_downsampled(inflated, alpha)
    assert inflated > 3 * true_ctr  # about 0.43 against 0.07: far off before the correction
    # the only noise left is the binomial number of kept negatives: about 0.3 % of the rate
    n_neg = (labels == 0).sum()
    relative_sd = np.sqrt((1 - alpha) / (alpha * n_neg))
    assert corrected == pytest.approx(true_ctr, rel=4 * relative_sd)


def test_logistic_regression_on_downsampled_rows_recovers_the_true_rates():
    x, p, labels = _logistic_world(200_000, seed=6)
    alpha = 0.1
    mask = downsample_negatives(labels, alpha, seed=7)
    model = LogisticRegression(C=1e6).fit(x[mask, None], labels[mask])
    # down-sampling shifts only the intercept, by log(1/α): the slope stays 1
    assert model.coef_[0, 0] == pytest.approx(1.0, abs=0.05)
    assert model.intercept_[0] == pytest.approx(-3.0 - np.log(alpha), abs=0.07)
    predicted = model.predict_proba(x[:, None])[:, 1]
    corrected = calibrate_downsampled(predicted, alpha)
    # sampling error of the fitted rate ~ 1/sqrt(#positives) ≈ 0.9 % relative; allow 4 %
    assert corrected.mean() == pytest.approx(p.mean(), rel=0.04)
    assert corrected.mean() == pytest.approx(labels.mean(), rel=0.04)
    assert predicted.mean() > 3 * p.mean()
    assert np.abs(corrected - p).max() < 0.03
