"""SENet and FiBiNET's bilinear crossing against plain Python loops over fields and pairs."""
import itertools
import math

import numpy as np
import pytest
import torch

from course.crossing import BILINEAR_KINDS, BilinearInteraction, SENet


def field_embeddings(batch=3, n_fields=5, dim=4, seed=0):
    return torch.from_numpy(np.random.default_rng(seed).normal(size=(batch, n_fields, dim)))


# ------------------------------------------------------------------ SENet
@pytest.mark.parametrize("activation", ["sigmoid", "relu"])
def test_senet_equals_the_loop_over_fields(activation):
    torch.manual_seed(0)
    senet = SENet(n_fields=5, reduction_ratio=2, activation=activation).double()
    V = field_embeddings()
    W1 = senet.squeeze_to_bottleneck.weight.detach().numpy()  # (2, 5)
    W2 = senet.bottleneck_to_fields.weight.detach().numpy()  # (5, 2)
    last = (lambda t: 1 / (1 + math.exp(-t))) if activation == "sigmoid" else (lambda t: max(t, 0.0))
    expected = np.zeros(V.shape)
    for b in range(V.shape[0]):
        z = [sum(V[b, f].tolist()) / V.shape[2] for f in range(5)]
        hidden = [max(0.0, sum(W1[h, f] * z[f] for f in range(5))) for h in range(2)]
        a = [last(sum(W2[f, h] * hidden[h] for h in range(2))) for f in range(5)]
        for f in range(5):
            expected[b, f] = a[f] * V[b, f].numpy()
    np.testing.assert_allclose(senet(V).detach().numpy(), expected, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("n_fields, ratio, bottleneck", [(6, 3, 2), (7, 3, 2), (2, 3, 1), (9, 1, 9)])
def test_senet_parameter_count_is_two_f_times_f_over_r(n_fields, ratio, bottleneck):
    senet = SENet(n_fields, ratio)
    assert senet.squeeze_to_bottleneck.out_features == bottleneck == max(1, n_fields // ratio)
    assert sum(p.numel() for p in senet.parameters()) == 2 * n_fields * bottleneck


def test_senet_sigmoid_weights_lie_in_zero_one_and_scale_whole_fields():
    torch.manual_seed(1)
    senet = SENet(4, 2)
    V = 5 * torch.randn(50, 4, 3)
    a = senet.weights(V)
    assert ((a > 0) & (a < 1)).all()
    torch.testing.assert_close(senet(V), V * a[:, :, None])


def test_senet_errors():
    with pytest.raises(ValueError, match=r"5 fields .*got shape \(2, 4, 3\)"):
        SENet(5)(torch.zeros(2, 4, 3))
    with pytest.raises(ValueError, match="3-D tensor"):
        SENet(5)(torch.zeros(2, 5))
    with pytest.raises(ValueError, match="activation"):
        SENet(5, activation="tanh")
    with pytest.raises(ValueError, match="reduction_ratio"):
        SENet(5, reduction_ratio=0)
    with pytest.raises(TypeError, match="n_fields"):
        SENet(5.0)


# ------------------------------------------------------------------ bilinear
def loop_bilinear(layer, V):
    """p_ij = (v_i W) ⊙ v_j by loops over pairs, with the W each form assigns to (i, j)."""
    W = layer.weight.detach().numpy()
    V = V.numpy()
    out = []
    for b in range(len(V)):
        row = []
        for p, (i, j) in enumerate(itertools.combinations(range(V.shape[1]), 2)):
            if layer.kind == "field_all":
                matrix = W
            elif layer.kind == "field_each":
                matrix = W[i]
            else:
                matrix = W[p]
            row.append((V[b, i] @ matrix) * V[b, j])
        out.append(row)
    return np.array(out)


@pytest.mark.parametrize("kind", BILINEAR_KINDS)
@pytest.mark.parametrize("n_fields", [2, 5])
def test_bilinear_equals_the_pair_loop(kind, n_fields):
    torch.manual_seed(2)
    layer = BilinearInteraction(n_fields, 4, kind).double()
    V = field_embeddings(n_fields=n_fields)
    out = layer(V).detach().numpy()
    assert out.shape == (3, n_fields * (n_fields - 1) // 2, 4)
    np.testing.assert_allclose(out, loop_bilinear(layer, V), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("kind, formula", [
    ("field_all", lambda F, D: D * D),
    ("field_each", lambda F, D: (F - 1) * D * D),
    ("field_interaction", lambda F, D: F * (F - 1) // 2 * D * D)])
@pytest.mark.parametrize("n_fields, dim", [(2, 3), (6, 4), (10, 8)])
def test_bilinear_parameter_counts(kind, formula, n_fields, dim):
    layer = BilinearInteraction(n_fields, dim, kind)
    assert sum(p.numel() for p in layer.parameters()) == formula(n_fields, dim)


def test_identity_w_gives_the_hadamard_products_every_form_alike():
    V = field_embeddings(n_fields=4, dim=3)
    pairs = list(itertools.combinations(range(4), 2))
    hadamard = torch.stack([V[:, i] * V[:, j] for i, j in pairs], dim=1)
    for kind in BILINEAR_KINDS:
        layer = BilinearInteraction(4, 3, kind).double()
        with torch.no_grad():
            layer.weight.copy_(torch.eye(3, dtype=torch.float64).expand_as(layer.weight))
        torch.testing.assert_close(layer(V), hadamard)
        # and the sum over D of each pair vector is FM's <v_i, v_j>
        torch.testing.assert_close(layer(V).sum(2).sum(1), 0.5 * (V.sum(1) ** 2 - (V ** 2).sum(1)).sum(1))


def test_bilinear_errors():
    layer = BilinearInteraction(4, 3)
    with pytest.raises(ValueError, match=r"4 fields .*got shape \(2, 5, 3\)"):
        layer(torch.zeros(2, 5, 3))
    with pytest.raises(ValueError, match=r"3 embedding dimensions .*got shape \(2, 4, 2\)"):
        layer(torch.zeros(2, 4, 2))
    with pytest.raises(ValueError, match="3-D tensor"):
        layer(torch.zeros(4, 3))
    with pytest.raises(ValueError, match="n_fields must be an int >= 2"):
        BilinearInteraction(1, 3)
    with pytest.raises(ValueError, match="kind must be one of"):
        BilinearInteraction(4, 3, "field_pair")
    with pytest.raises(TypeError, match="embedding_dim"):
        BilinearInteraction(4, "3")
