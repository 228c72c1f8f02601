"""DCN cross layers against their formulas in numpy, low rank against full, and the degree property."""
import numpy as np
import pytest
import torch

from course.crossing import CrossLayer, CrossLayerV1, CrossNetwork, DCN


def random_inputs(batch=5, dim=4, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(batch, dim)), rng.normal(size=(batch, dim))


def as_torch(*arrays):
    return [torch.from_numpy(a) for a in arrays]


def test_full_cross_layer_equals_the_formula_in_numpy():
    torch.manual_seed(0)
    layer = CrossLayer(4).double()
    x0, x = random_inputs()
    W, b = layer.w.weight.detach().numpy(), layer.w.bias.detach().numpy()
    expected = x0 * (x @ W.T + b) + x
    np.testing.assert_allclose(layer(*as_torch(x0, x)).detach().numpy(), expected, rtol=1e-12)


def test_low_rank_layer_equals_the_formula_and_the_full_layer_with_w_equal_u_v_transpose():
    torch.manual_seed(1)
    low = CrossLayer(6, rank=2).double()
    x0, x = random_inputs(dim=6, seed=1)
    U, V = low.u.weight.detach().numpy(), low.v.weight.detach().numpy().T  # both (d, r)
    b = low.u.bias.detach().numpy()
    expected = x0 * (x @ (U @ V.T).T + b) + x
    out = low(*as_torch(x0, x)).detach().numpy()
    np.testing.assert_allclose(out, expected, rtol=1e-12)
    full = CrossLayer(6).double()
    with torch.no_grad():
        full.w.weight.copy_(torch.from_numpy(U @ V.T))
        full.w.bias.copy_(torch.from_numpy(b))
    np.testing.assert_allclose(full(*as_torch(x0, x)).detach().numpy(), out, rtol=1e-12)
    assert sum(p.numel() for p in low.parameters()) == 2 * 6 * 2 + 6  # 2dr + d
    assert sum(p.numel() for p in full.parameters()) == 6 * 6 + 6


def test_v1_layer_equals_its_formula():
    torch.manual_seed(2)
    layer = CrossLayerV1(4).double()
    with torch.no_grad():
        layer.b.normal_()
    x0, x = random_inputs(seed=2)
    w, b = layer.w.detach().numpy(), layer.b.detach().numpy()
    expected = np.stack([x0[r] * (x[r] @ w) + b + x[r] for r in range(len(x0))])
    np.testing.assert_allclose(layer(*as_torch(x0, x)).detach().numpy(), expected, rtol=1e-12)


def test_v1_layer_is_the_v2_layer_with_w_equal_one_w_transpose_and_no_bias():
    torch.manual_seed(7)
    v1, v2 = CrossLayerV1(4).double(), CrossLayer(4).double()
    with torch.no_grad():
        v2.w.weight.copy_(torch.ones(4, 1, dtype=torch.float64) * v1.w[None, :])  # W = 1 wᵀ
        v2.w.bias.zero_()  # V1's b is added outside the product; with b = 0 both agree
    x0, x = as_torch(*random_inputs(seed=7))
    torch.testing.assert_close(v1(x0, x), v2(x0, x))


def test_network_chains_layers_on_the_same_x0():
    torch.manual_seed(3)
    net = CrossNetwork(3, n_layers=3, rank=2).double()
    x0 = torch.from_numpy(random_inputs(dim=3, seed=3)[0])
    x = x0
    for layer in net.layers:
        x = layer(x0, x)
    torch.testing.assert_close(net(x0), x)


@pytest.mark.parametrize("version, n_layers", [(2, 1), (2, 2), (2, 4), (1, 3)])
def test_scalar_input_gives_exactly_the_product_polynomial_of_degree_l_plus_one(version, n_layers):
    # d = 1, b = 0: x_{l+1} = x_l (1 + w_l x0), so x_L = x0 Π_l (1 + w_l x0), degree L + 1.
    torch.manual_seed(4)
    net = CrossNetwork(1, n_layers, version=version).double()
    weights = []
    for layer in net.layers:
        with torch.no_grad():
            (layer.w.bias if version == 2 else layer.b).zero_()
        weights.append((layer.w.weight if version == 2 else layer.w).detach().item())
    polynomial = np.polynomial.Polynomial([0.0, 1.0])
    for w in weights:
        polynomial *= np.polynomial.Polynomial([1.0, w])
    assert polynomial.degree() == n_layers + 1
    t = np.linspace(-2, 2, 11)
    out = net(torch.from_numpy(t).reshape(-1, 1)).detach().numpy()[:, 0]
    np.testing.assert_allclose(out, polynomial(t), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("n_layers", [1, 2, 3])
def test_scaling_x0_gives_a_polynomial_of_degree_l_plus_one_in_the_scale(n_layers):
    # With b = 0 each coordinate of x_L(c x0) is a polynomial in c with no constant term and
    # degree exactly L + 1: fitting degree L + 1 leaves no residual, degree L does.
    torch.manual_seed(5)
    net = CrossNetwork(4, n_layers).double()
    for layer in net.layers:
        with torch.no_grad():
            layer.w.bias.zero_()
    x0 = torch.from_numpy(random_inputs(batch=1, dim=4, seed=5)[0])
    scales = np.linspace(-1.5, 1.5, 3 * n_layers + 6)
    outputs = np.stack([net(c * x0).detach().numpy()[0] for c in scales])  # (n_scales, d)
    for coordinate in outputs.T:
        exact = np.polynomial.Polynomial.fit(scales, coordinate, n_layers + 1).convert()
        np.testing.assert_allclose(exact(scales), coordinate, atol=1e-10)
        assert abs(exact.coef[0]) < 1e-10 and abs(exact.coef[-1]) > 1e-3
        lower = np.polynomial.Polynomial.fit(scales, coordinate, n_layers).convert()
        assert np.abs(lower(scales) - coordinate).max() > 1e-4


@pytest.mark.parametrize("structure, hidden_dims, head_width", [
    ("stacked", (8, 4), 4), ("parallel", (8, 4), 7 + 4), ("stacked", (), 7), ("parallel", (), 14)])
def test_dcn_shapes_stacked_and_parallel(structure, hidden_dims, head_width):
    model = DCN(7, n_cross_layers=2, hidden_dims=hidden_dims, structure=structure, rank=3)
    assert model(torch.zeros(5, 7)).shape == (5,)
    assert model.head.in_features == head_width


def test_dcn_stacked_and_parallel_compose_their_parts():
    torch.manual_seed(6)
    x0 = torch.randn(4, 5)
    stacked = DCN(5, 2, (6,), "stacked")
    torch.testing.assert_close(stacked(x0), stacked.head(stacked.deep(stacked.cross(x0))).squeeze(1))
    parallel = DCN(5, 2, (6,), "parallel")
    hidden = torch.cat([parallel.cross(x0), parallel.deep(x0)], dim=1)
    torch.testing.assert_close(parallel(x0), parallel.head(hidden).squeeze(1))


def test_errors_name_both_shapes():
    layer = CrossLayer(4)
    with pytest.raises(ValueError, match=r"x0 \(2, 4\) and x \(2, 3\)"):
        layer(torch.zeros(2, 4), torch.zeros(2, 3))
    with pytest.raises(ValueError, match=r"x0 \(2, 3\) and x \(2, 4\)"):
        CrossLayerV1(4)(torch.zeros(2, 3), torch.zeros(2, 4))
    with pytest.raises(ValueError, match=r"4 features .*got shape \(2, 3\)"):
        layer(torch.zeros(2, 3), torch.zeros(2, 3))
    with pytest.raises(ValueError, match="2-D tensor"):
        layer(torch.zeros(4), torch.zeros(4))
    with pytest.raises(TypeError, match="torch.Tensor"):
        layer(np.zeros((2, 4)), torch.zeros(2, 4))
    with pytest.raises(ValueError, match="rank must be an int in"):
        CrossLayer(4, rank=5)
    with pytest.raises(TypeError, match="dim"):
        CrossLayer(4.0)
    with pytest.raises(ValueError, match="rank must be None"):
        CrossNetwork(4, 2, rank=2, version=1)
    with pytest.raises(ValueError, match="version must be 1 or 2"):
        CrossNetwork(4, 2, version=3)
    with pytest.raises(ValueError, match="n_layers"):
        CrossNetwork(4, 0)
    with pytest.raises(ValueError, match="structure must be"):
        DCN(4, structure="serial")
    with pytest.raises(ValueError, match="hidden_dims entry"):
        DCN(4, hidden_dims=(0,))
