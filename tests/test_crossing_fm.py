"""FM against the naive pair loop, its cost against counted loops, FM's model against its formula."""
import itertools

import numpy as np
import pytest
import torch

from course.crossing import FM, fm_cost, fm_interaction


def naive_pairs(embeddings):
    """Σ_{i<j} <v_i, v_j> by the pair loop, in float64 numpy."""
    v = np.asarray(embeddings, dtype=np.float64)
    out = np.zeros(len(v))
    for b in range(len(v)):
        for i, j in itertools.combinations(range(v.shape[1]), 2):
            out[b] += v[b, i] @ v[b, j]
    return out


@pytest.mark.parametrize("n_fields, k", [(1, 3), (2, 1), (5, 4), (13, 7)])
def test_identity_equals_the_pair_loop(n_fields, k):
    v = torch.from_numpy(np.random.default_rng(n_fields).normal(size=(6, n_fields, k)))
    np.testing.assert_allclose(fm_interaction(v).numpy(), naive_pairs(v), rtol=1e-12, atol=1e-12)


def test_one_field_has_no_pairs_and_two_fields_give_their_inner_product():
    assert fm_interaction(torch.randn(3, 1, 4, dtype=torch.float64)).abs().max() < 1e-12
    v = torch.tensor([[[1.0, -2.0], [3.0, 0.5]]])
    assert fm_interaction(v).item() == pytest.approx(3.0 - 1.0)


def counted_naive(n, k):
    """Multiply-adds of the pair loop, counted one by one."""
    count = 0
    for _i, _j in itertools.combinations(range(n), 2):
        for _d in range(k):
            count += 1  # acc += v[i, d] * v[j, d]
    return count


def counted_identity(n, k):
    count = 0
    for _d in range(k):
        count += n  # s += v[f, d]
        count += n  # q += v[f, d] * v[f, d]
        count += 1  # s * s - q
    return count


@pytest.mark.parametrize("n, k", [(1, 1), (2, 3), (10, 8), (39, 16)])
def test_cost_matches_counted_loops_and_the_formulas(n, k):
    cost = fm_cost(n, k)
    assert cost == {"naive": counted_naive(n, k), "identity": counted_identity(n, k)}
    assert cost["naive"] == n * (n - 1) // 2 * k and cost["identity"] == 2 * n * k + k


def test_identity_wins_from_six_fields_on():
    # n(n-1)/2 k < (2n+1) k  <=>  n² - 5n - 2 < 0  <=>  n <= 5
    assert [n for n in range(1, 50) if fm_cost(n, 4)["naive"] > fm_cost(n, 4)["identity"]] == list(range(6, 50))


def test_shape_and_type_errors():
    with pytest.raises(ValueError, match=r"3-D tensor, got shape \(4, 5\)"):
        fm_interaction(torch.zeros(4, 5))
    with pytest.raises(TypeError, match="torch.Tensor"):
        fm_interaction(np.zeros((2, 3, 4)))
    with pytest.raises(TypeError, match="floating"):
        fm_interaction(torch.zeros(2, 3, 4, dtype=torch.int64))
    with pytest.raises(ValueError, match="n_fields must be a positive int"):
        fm_cost(0, 3)
    with pytest.raises(TypeError, match="embedding_dim"):
        fm_cost(3, 2.0)


def test_fm_model_equals_its_formula_by_hand():
    fm = FM([4, 3], embedding_dim=2).double()
    with torch.no_grad():
        fm.embedding.weight.copy_(torch.arange(14, dtype=torch.float64).reshape(7, 2) / 10)
        fm.linear.weight.copy_(torch.arange(7, dtype=torch.float64).reshape(7, 1))
        fm.bias.fill_(0.5)
    ids, values = torch.tensor([[1, 2], [3, 0]]), torch.tensor([[1.0, 2.0], [0.5, 1.0]], dtype=torch.float64)
    v, w = fm.embedding.weight.detach().numpy(), fm.linear.weight.detach().numpy()[:, 0]
    expected = []
    for (a, b), (xa, xb) in zip(ids.tolist(), values.tolist()):
        ra, rb = a, 4 + b  # field 1 starts after field 0's 4 rows
        expected.append(0.5 + w[ra] * xa + w[rb] * xb + v[ra] @ v[rb] * xa * xb)
    np.testing.assert_allclose(fm(ids, values).detach().numpy(), expected, rtol=1e-12)
    np.testing.assert_allclose(fm(ids).detach().numpy(), fm(ids, torch.ones(2, 2, dtype=torch.float64)).detach())


def test_fm_input_errors():
    fm = FM([4, 3])
    with pytest.raises(ValueError, match=r"2 fields.*got shape \(2, 3\)"):
        fm(torch.zeros(2, 3, dtype=torch.int64))
    with pytest.raises(ValueError, match="cardinality"):
        fm(torch.tensor([[0, 3]]))
    with pytest.raises(ValueError, match="cardinality"):
        fm(torch.tensor([[-1, 0]]))
    with pytest.raises(TypeError, match="integer dtype"):
        fm(torch.zeros(2, 2))
    with pytest.raises(ValueError, match="values must have the shape"):
        fm(torch.zeros(2, 2, dtype=torch.int64), torch.ones(2, 3))
    with pytest.raises(ValueError, match="at least one field"):
        FM([])
    with pytest.raises(ValueError, match="cardinality"):
        FM([3, 0])
    with pytest.raises(TypeError, match="embedding_dim"):
        FM([3], embedding_dim=True)
