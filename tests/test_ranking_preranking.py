"""Tests for course.ranking.preranking: the three-tower model's serving path and the cost counts."""
import numpy as np
import pytest
import torch
from torch import nn

from course.ranking.multitask import SharedBottom
from course.ranking.preranking import ThreeTower, multiply_adds, request_cost


def small_model():
    torch.manual_seed(0)
    # D = 4; fields: user 0, 1, 2; item 3, 4; cross 5; field 6 (say, position) unused
    return ThreeTower(4, user_fields=[0, 1, 2], item_fields=[3, 4], cross_fields=[5],
                      user_hidden=(16, 8), item_hidden=(16, 8), cross_hidden=(3,), upper_hidden=(10,), n_tasks=2)


def test_cost_counts_against_the_parameter_shapes_by_hand():
    model = small_model()
    user = 3 * 4 * 16 + 16 * 8          # (F_u·D -> 16 -> 8)
    item = 2 * 4 * 16 + 16 * 8
    cross = 1 * 4 * 3
    upper = (8 + 8 + 3) * 10 + 10 * 2
    cost = request_cost(model, 50, n_uncached=5)
    assert cost["multiply-adds per pass"].iloc[:4].tolist() == [user, item, cross, upper]
    assert cost["forward passes"].tolist() == [1, 5, 50, 50, 106]
    assert cost.loc["total", "multiply-adds"] == user + 5 * item + 50 * (cross + upper)
    # the parameter shapes say the same: a Linear's weight is (out, in)
    for part, tower in (("user tower", model.user_tower), ("upper network", model.upper)):
        from_shapes = sum(p.shape[0] * p.shape[1] for p in tower.parameters() if p.ndim == 2)
        assert cost.loc[part, "multiply-adds per pass"] == from_shapes


def test_ranker_cost_is_per_candidate():
    ranker = SharedBottom(28, hidden=(32, 16), tasks=("click", "like"))
    per_row = 28 * 32 + 32 * 16 + 2 * 16
    assert multiply_adds(ranker) == per_row
    cost = request_cost(ranker, 300)
    assert cost.loc["total", "forward passes"] == 300 and cost.loc["total", "multiply-adds"] == 300 * per_row


def test_serving_path_equals_the_training_forward():
    model = small_model().eval()
    n = 7
    fields = torch.randn(n, 7, 4)
    fields[:, :3] = fields[0, :3]                    # one request: the same user fields on every row
    with torch.no_grad():
        full = model(fields)                                                   # every tower on every row
        user = model.user_vector(fields[:1])                                   # once
        cache = {i: model.item_vector(fields[i:i + 1])[0] for i in range(n)}   # offline, one item at a time
        served = model.combine(user, torch.stack([cache[i] for i in range(n)]), model.cross_vector(fields))
    torch.testing.assert_close(served, full)
    # the unused field 6 changes nothing
    changed = fields.clone()
    changed[:, 6] += 1.0
    with torch.no_grad():
        torch.testing.assert_close(model(changed), full)


def test_three_tower_errors():
    with pytest.raises(ValueError, match="one tower only"):
        ThreeTower(4, [0, 1], [1], [2])
    with pytest.raises(ValueError, match="at least one field"):
        ThreeTower(4, [], [1], [2])
    with pytest.raises(TypeError, match="sequence of field indices"):
        ThreeTower(4, "user", [1], [2])
    with pytest.raises(ValueError, match="at least one layer"):
        ThreeTower(4, [0], [1], [2], upper_hidden=())
    model = small_model()
    with pytest.raises(ValueError, match=r"shape \(B, F >= 6, 4\)"):
        model(torch.zeros(3, 5, 4))
    with pytest.raises(TypeError, match="floating"):
        model(torch.zeros(3, 7, 4, dtype=torch.long))


def test_request_cost_errors():
    model = small_model()
    with pytest.raises(ValueError, match="n_candidates"):
        request_cost(model, 0)
    with pytest.raises(ValueError, match="n_uncached"):
        request_cost(model, 10, n_uncached=11)
    with pytest.raises(ValueError, match="ThreeTower only"):
        request_cost(nn.Linear(3, 1), 10, n_uncached=2)
    with pytest.raises(TypeError, match="nn.Module"):
        request_cost("ranker", 10)
    with pytest.raises(TypeError, match="nn.Module"):
        multiply_adds(np.eye(3))
