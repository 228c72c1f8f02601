"""The world click models built from the crossing blocks, the cross probes and the SENet tower."""
import numpy as np
import pytest
import torch

from course.crossing import (FM, BilinearInteraction, FiBiNET, FieldFM, FieldLinear, LHUCRanker, SENet,
                             SENetTower, code_to_truth, count_parameters, cross_agreement, cross_dependence,
                             deep_ranker, double_centre, fm_cost, fm_interaction, multiply_adds)
from course.crossing.cross import DCN

CARDS, N_NUM = (4, 3, 5), 2


def batch(n=6, seed=0):
    g = torch.Generator().manual_seed(seed)
    cat = torch.stack([torch.randint(c, (n,), generator=g) for c in CARDS], dim=1)
    return cat, torch.randn(n, N_NUM, generator=g)


def test_field_linear_is_a_sum_of_one_weight_per_value():
    torch.manual_seed(0)
    model = FieldLinear(CARDS, N_NUM)
    torch.nn.init.normal_(model.weights.embedding.weight)
    torch.nn.init.normal_(model.weights.numeric_vectors)
    cat, num = batch()
    table, offsets = model.weights.embedding.weight[:, 0], (0, 4, 7)
    by_hand = torch.stack([sum(table[offsets[f] + cat[r, f]] for f in range(3))
                           + (num[r] * model.weights.numeric_vectors[:, 0]).sum() for r in range(6)])
    torch.testing.assert_close(model(cat, num), model.bias + by_hand)
    assert multiply_adds(model, cat, num) == 5


def test_field_fm_is_linear_plus_the_pair_loop_and_reads_its_pair_weights():
    torch.manual_seed(1)
    model = FieldFM(CARDS, N_NUM, dim=3)
    cat, num = batch()
    vectors = model.embedding(cat, num)
    pairs = torch.stack([sum(vectors[r, f] @ vectors[r, g] for f in range(5) for g in range(f + 1, 5))
                         for r in range(6)])
    torch.testing.assert_close(model(cat, num), model.linear(cat, num) + pairs)
    weights = model.pair_weights(0, 2)
    assert weights.shape == (4, 5)
    v = model.embedding.embedding.weight.detach()
    assert weights[1, 3] == pytest.approx(float(v[1] @ v[7 + 3]), rel=1e-6)
    with pytest.raises(ValueError, match="itself"):
        model.pair_weights(1, 1)
    assert multiply_adds(model, cat, num) == 5 + fm_cost(5, 3)["identity"]


def test_deep_rankers_wrap_an_mlp_or_a_dcn():
    cat, num = batch()
    for kind in ("dnn", "dcn_stacked", "dcn_parallel"):
        model = deep_ranker(kind, CARDS, N_NUM, dim=2, hidden_dims=(4,))
        assert model(cat, num).shape == (6,)
        assert isinstance(model.model, DCN) == (kind != "dnn")
    dnn = deep_ranker("dnn", CARDS, N_NUM, dim=2, hidden_dims=(4,))
    assert multiply_adds(dnn, cat, num) == 10 * 4 + 4
    assert count_parameters(dnn) == (12 + N_NUM) * 2 + 10 * 4 + 4 + 4 + 1
    with pytest.raises(ValueError, match="kind"):
        deep_ranker("wide", CARDS, N_NUM)


def test_lhuc_ranker_gates_the_other_fields_by_the_user_fields():
    torch.manual_seed(2)
    model = LHUCRanker(CARDS, N_NUM, dim=2, user_fields=(0,), hidden_dims=(4,), gate_hidden_dims=(3,))
    cat, num = batch()
    fields = model.embedding(cat, num)
    expected = model.head(model.tower(fields[:, 1:].flatten(1), fields[:, :1].flatten(1))).squeeze(1)
    torch.testing.assert_close(model(cat, num), expected)
    # Changing only the user field changes the output through the gates alone.
    other = cat.clone(); other[:, 0] = (cat[:, 0] + 1) % 4
    assert not torch.allclose(model(cat, num), model(other, num))
    with pytest.raises(ValueError, match="some but not all"):
        LHUCRanker(CARDS, N_NUM, user_fields=range(5))
    with pytest.raises(ValueError):
        LHUCRanker(CARDS, N_NUM, user_fields=(9,))


def test_fibinet_is_senet_and_two_bilinear_layers_into_an_mlp():
    torch.manual_seed(3)
    model = FiBiNET(CARDS, N_NUM, dim=2, hidden_dims=(4,), reduction_ratio=2)
    cat, num = batch()
    v = model.embedding(cat, num)
    concat = torch.cat([model.bilinear(v).flatten(1), model.bilinear_senet(model.senet(v)).flatten(1)], 1)
    torch.testing.assert_close(model(cat, num), model.head(model.deep(concat)).squeeze(1))
    assert concat.shape == (6, 2 * 10 * 2)
    F, D, P = 5, 2, 10
    expected = (2 * F * D + F * 2 + 2 * F) + 2 * (F * D * D + P * D) + 2 * P * D * 4 + 4
    assert multiply_adds(model, cat, num) == expected


def test_double_centre_and_agreement():
    rng = np.random.default_rng(0)
    table = rng.normal(size=(4, 6))
    centred = double_centre(table)
    np.testing.assert_allclose(centred.sum(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(centred.sum(axis=1), 0, atol=1e-12)
    additive = np.add.outer(rng.normal(size=4), rng.normal(size=6))
    np.testing.assert_allclose(double_centre(table + additive), centred, atol=1e-12)
    assert cross_agreement(table + additive, table) == pytest.approx(1.0)
    assert cross_agreement(-table, table) == pytest.approx(-1.0)
    assert cross_agreement(additive, table) == 0.0
    with pytest.raises(ValueError, match="2 rows"):
        double_centre(np.ones(3))
    with pytest.raises(ValueError, match="same shape"):
        cross_agreement(np.ones((2, 3)), np.ones((3, 2)))


def test_cross_dependence_recovers_a_planted_cross_and_an_additive_model_has_none():
    cross = torch.tensor([[1.0, -1.0, 0.0], [0.0, 2.0, -2.0], [0.5, 0.5, -1.0], [0.0, 0.0, 0.0]])

    class Planted(torch.nn.Module):
        def forward(self, cat, num):
            return cross[cat[:, 0], cat[:, 1]] + 0.3 * cat[:, 2] + num[:, 0]

    cat, num = batch(200)
    table = cross_dependence(Planted(), cat.numpy(), num.numpy(), 0, [0, 1, 2, 3], 1, [0, 1, 2])
    np.testing.assert_allclose(double_centre(table), double_centre(cross.numpy()), atol=1e-5)
    linear = FieldLinear(CARDS, N_NUM)
    torch.nn.init.normal_(linear.weights.embedding.weight)
    flat = cross_dependence(linear, cat.numpy(), num.numpy(), 0, [0, 1, 2, 3], 1, [0, 1, 2])
    np.testing.assert_allclose(double_centre(flat), 0, atol=1e-5)
    with pytest.raises(ValueError, match="differ"):
        cross_dependence(linear, cat.numpy(), num.numpy(), 1, [0], 1, [0])
    with pytest.raises(ValueError, match="no row"):
        cross_dependence(linear, cat.numpy(), num.numpy(), 0, [0], 1, [0, 7])


def test_code_to_truth():
    assert code_to_truth(np.array([2, 1, 0, 2]), np.array([5, 3, 9, 5])) == {1: 3, 2: 5}
    with pytest.raises(ValueError, match="several"):
        code_to_truth([1, 1], [0, 1])


def test_senet_tower_equals_senet_then_the_tower_mlp():
    torch.manual_seed(4)
    tower = SENetTower((5, 3), n_numeric=1, embedding_dim=2, hidden_dims=(4,), output_dim=3, normalize=False)
    cat, num = torch.tensor([[1, 2], [4, 0]]), torch.randn(2, 1)
    fields = tower.embedding(cat + tower.offsets)
    expected = tower.mlp(torch.cat([tower.senet(fields).flatten(1), num], 1))
    torch.testing.assert_close(tower(cat, num), expected)
    with pytest.raises(ValueError, match="categorical"):
        tower(torch.tensor([[1]]), num[:1])
    with pytest.raises(ValueError, match="cardinality"):
        tower(torch.tensor([[5, 0]]), num[:1])
