"""LHUC gates: the range of 2·sigmoid, the formula layer by layer, and the stop-gradient by autograd."""
import pytest
import torch

from course.crossing import LHUCGate, LHUCTower


def test_gate_lies_in_zero_two_and_equals_two_sigmoid_of_the_mlp():
    torch.manual_seed(0)
    gate = LHUCGate(user_dim=4, hidden_dim=6, gate_hidden_dims=(5,)).double()
    user = 10 * torch.randn(200, 4, dtype=torch.float64)  # large inputs push toward the ends
    g = gate.gate(user)
    assert g.shape == (200, 6) and (g > 0).all() and (g < 2).all()
    assert g.min() < 0.1 and g.max() > 1.9  # the whole range is reached
    first, last = gate.mlp[0], gate.mlp[2]
    by_hand = 2 / (1 + torch.exp(-(torch.relu(user @ first.weight.T + first.bias) @ last.weight.T + last.bias)))
    torch.testing.assert_close(g, by_hand)
    hidden = torch.randn(200, 6, dtype=torch.float64)
    torch.testing.assert_close(gate(hidden, user), hidden * by_hand)


def test_a_zero_gate_network_is_the_identity():
    gate = LHUCGate(3, 4, gate_hidden_dims=())
    torch.nn.init.zeros_(gate.mlp[0].weight), torch.nn.init.zeros_(gate.mlp[0].bias)
    hidden = torch.randn(5, 4)
    torch.testing.assert_close(gate(hidden, torch.randn(5, 3)), hidden)  # 2 sigmoid(0) = 1


def gradient_of_user(stop_gradient, personal_dim=0):
    torch.manual_seed(1)
    tower = LHUCTower(item_dim=3, user_dim=4, hidden_dims=(5, 2), stop_gradient=stop_gradient,
                      personal_dim=personal_dim)
    user = torch.randn(6, 4, requires_grad=True)
    personal = torch.randn(6, personal_dim, requires_grad=True) if personal_dim else None
    tower(torch.randn(6, 3), user, personal).sum().backward()
    gate_grads = [p.grad for p in tower.gates.parameters()]
    assert all(g is not None and g.abs().sum() > 0 for g in gate_grads)  # the gates learn either way
    return user.grad, personal


def test_stop_gradient_keeps_the_gate_from_reaching_its_user_input():
    assert gradient_of_user(stop_gradient=True)[0] is None
    grad = gradient_of_user(stop_gradient=False)[0]
    assert grad is not None and grad.abs().sum() > 0


def test_personal_inputs_are_never_detached():
    user_grad, personal = gradient_of_user(stop_gradient=True, personal_dim=2)
    assert user_grad is None and personal.grad is not None and personal.grad.abs().sum() > 0


def test_stop_gradient_leaves_the_forward_value_unchanged():
    torch.manual_seed(2)
    plain = LHUCTower(3, 4, (5,))
    detached = LHUCTower(3, 4, (5,), stop_gradient=True)
    detached.load_state_dict(plain.state_dict())
    item, user = torch.randn(4, 3), torch.randn(4, 4)
    torch.testing.assert_close(plain(item, user), detached(item, user))


def test_tower_equals_the_layer_by_layer_formula():
    torch.manual_seed(3)
    tower = LHUCTower(item_dim=3, user_dim=2, hidden_dims=(4, 5, 2))
    item, user = torch.randn(7, 3), torch.randn(7, 2)
    h = item
    for layer, gate in zip(tower.layers, tower.gates):
        h = torch.relu(h @ layer.weight.T + layer.bias) * gate.gate(user)
    torch.testing.assert_close(tower(item, user), h)


def test_errors():
    gate = LHUCGate(4, 3)
    with pytest.raises(ValueError, match=r"4 features .*got shape \(2, 5\)"):
        gate(torch.zeros(2, 3), torch.zeros(2, 5))
    with pytest.raises(ValueError, match=r"3 units .*got shape \(2, 2\)"):
        gate(torch.zeros(2, 2), torch.zeros(2, 4))
    with pytest.raises(ValueError, match="same batch size"):
        gate(torch.zeros(3, 3), torch.zeros(2, 4))
    with pytest.raises(ValueError, match="personal_dim=0"):
        gate(torch.zeros(2, 3), torch.zeros(2, 4), torch.zeros(2, 1))
    with pytest.raises(ValueError, match="personal inputs of width 2, got None"):
        LHUCGate(4, 3, personal_dim=2)(torch.zeros(2, 3), torch.zeros(2, 4))
    with pytest.raises(ValueError, match="user and personal must have the same batch size"):
        LHUCGate(4, 3, personal_dim=2)(torch.zeros(2, 3), torch.zeros(2, 4), torch.zeros(3, 2))
    with pytest.raises(TypeError, match="torch.Tensor"):
        gate(torch.zeros(1, 3), [[0.0] * 4])
    with pytest.raises(TypeError, match="stop_gradient must be a bool"):
        LHUCGate(4, 3, stop_gradient=1)
    with pytest.raises(ValueError, match="hidden_dim"):
        LHUCGate(4, 0)
    with pytest.raises(ValueError, match="at least one layer"):
        LHUCTower(3, 4, hidden_dims=())
    with pytest.raises(ValueError, match=r"3 features .*got shape \(2, 4\)"):
        LHUCTower(3, 4, (5,))(torch.zeros(2, 4), torch.zeros(2, 4))
