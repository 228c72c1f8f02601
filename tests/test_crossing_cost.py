"""Multiply-add counts against hand counts, and the polynomial helpers against numpy."""
import numpy as np
import pytest
import torch
from torch import nn

from course.crossing import (FM, BilinearInteraction, CrossLayer, CrossLayerV1, CrossNetwork, DCN,
                             LHUCTower, SENet, fm_cost)
from course.crossing.cost import count_parameters, multiply_adds
from course.crossing.polynomial import (POLYNOMIAL_CROSSES, POLYNOMIAL_LINEAR, CrossRegressor,
                                        DeepRegressor, polynomial_data, quadratic_coefficients, rmse)


def test_linear_and_mlp_counts_are_in_times_out():
    net = nn.Sequential(nn.Linear(7, 5), nn.ReLU(), nn.Linear(5, 2))
    assert multiply_adds(net, torch.zeros(3, 7)) == 7 * 5 + 5 * 2
    assert count_parameters(net) == 7 * 5 + 5 + 5 * 2 + 2


def test_cross_layers_full_low_rank_and_v1():
    d = 6
    assert multiply_adds(CrossNetwork(d, 1), torch.zeros(2, d)) == d * d + d
    assert multiply_adds(CrossNetwork(d, 3, rank=2), torch.zeros(2, d)) == 3 * (d * 2 + 2 * d + d)
    assert multiply_adds(CrossNetwork(d, 2, version=1), torch.zeros(2, d)) == 2 * 3 * d
    assert count_parameters(CrossLayer(d)) == d * d + d
    assert count_parameters(CrossLayer(d, rank=2)) == 2 * d * 2 + d
    assert count_parameters(CrossLayerV1(d)) == 2 * d
    # A DCN: the cross net, the MLP and the head, each counted once.
    dcn = DCN(d, n_cross_layers=2, hidden_dims=(4,), structure="parallel")
    assert multiply_adds(dcn, torch.zeros(1, d)) == 2 * (d * d + d) + d * 4 + (d + 4)


def test_fm_senet_bilinear_lhuc():
    fm = FM([5, 3, 4, 2], embedding_dim=8)
    assert multiply_adds(fm, torch.zeros(2, 4, dtype=torch.long)) == 4 + fm_cost(4, 8)["identity"]
    F, D = 5, 4
    senet = SENet(F, reduction_ratio=2)  # bottleneck 2
    assert multiply_adds(senet, torch.zeros(3, F, D)) == 2 * F * D + F * 2 + 2 * F
    pairs = F * (F - 1) // 2
    for kind, matrices in (("field_all", F), ("field_each", F - 1), ("field_interaction", pairs)):
        layer = BilinearInteraction(F, D, kind=kind)
        assert multiply_adds(layer, torch.zeros(2, F, D)) == matrices * D * D + pairs * D
    tower = LHUCTower(item_dim=3, user_dim=2, hidden_dims=(4,), gate_hidden_dims=(5,))
    assert multiply_adds(tower, torch.zeros(2, 3), torch.zeros(2, 2)) == 3 * 4 + (2 * 5 + 5 * 4) + 4


def test_counts_do_not_depend_on_batch_or_mode_and_bad_inputs_raise():
    net = DCN(4, 1, (3,))
    net.train()
    assert multiply_adds(net, torch.zeros(1, 4)) == multiply_adds(net, torch.zeros(9, 4))
    assert net.training  # the mode is restored
    with pytest.raises(TypeError, match="nn.Module"):
        multiply_adds("net", torch.zeros(1, 4))
    with pytest.raises(TypeError, match="example input"):
        multiply_adds(net)
    with pytest.raises(ValueError, match="at least one row"):
        multiply_adds(net, torch.zeros(0, 4))
    with pytest.raises(TypeError, match="nn.Module"):
        count_parameters(3)


def test_polynomial_data_follow_the_formula_and_are_seeded():
    x, y = polynomial_data(50, seed=3, cubic=2.0)
    x1, x2, x3 = x.astype(np.float64).T
    expected = (0.1 * x1 + 0.4 * x2 + 0.7 * x3 + 0.1 * x1 * x2 + 3.1 * x2 * x3 + 0.1 * x3 ** 2
                + 2.0 * x1 * x2 * x3)
    np.testing.assert_allclose(y, expected, rtol=1e-6)
    np.testing.assert_array_equal(x, polynomial_data(50, seed=3)[0])
    assert set(np.unique(x[:, 2] * 6).round().astype(int)) <= set(range(6))
    with pytest.raises(ValueError, match="n_rows"):
        polynomial_data(0)


def test_quadratic_coefficients_match_the_model_output():
    torch.manual_seed(1)
    model = CrossRegressor(3)
    linear, crosses = quadratic_coefficients(model)
    x = torch.rand(20, 3)
    c = model.head.bias.item()
    xs = x.double().numpy()
    by_hand = c + xs @ linear + np.einsum("ni,ij,nj->n", xs, np.triu(crosses), xs)
    np.testing.assert_allclose(model(x).detach().numpy(), by_hand, atol=1e-5)
    # The truth, laid out the same way, reproduces the target.
    xd, yd = polynomial_data(10, seed=0)
    truth = xd @ POLYNOMIAL_LINEAR + np.einsum("ni,ij,nj->n", xd, np.triu(POLYNOMIAL_CROSSES), xd)
    np.testing.assert_allclose(yd, truth, rtol=1e-5)
    with pytest.raises(ValueError, match="one full-rank"):
        quadratic_coefficients(CrossRegressor(3, n_layers=2))
    with pytest.raises(TypeError):
        quadratic_coefficients(DeepRegressor(3, (4,)))


def test_rmse_and_tutorial_sizes():
    assert count_parameters(CrossRegressor(3)) == 16
    assert count_parameters(DeepRegressor(3, (512, 256, 128))) == 166_401
    model = nn.Linear(3, 1)
    x = np.ones((4, 3), np.float32)
    with pytest.raises(ValueError, match="do not match"):
        rmse(model, x, np.zeros(4))
    flat = nn.Sequential(model, nn.Flatten(0))
    out = flat(torch.ones(4, 3)).detach().numpy()
    assert rmse(flat, x, np.zeros(4)) == pytest.approx(float(np.sqrt(np.mean(out.astype(np.float64) ** 2))))
