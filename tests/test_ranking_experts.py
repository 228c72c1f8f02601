"""course.ranking.experts and course.ranking.synthetic against a shared bottom with the same
weights, a hand-built softmax mixture, autograd (which experts a task's loss reaches) and the
closed-form correlation of the synthetic tasks' linear parts."""
import numpy as np
import pytest
import torch

from course.ranking import MMoE, PLE, Experts, SharedBottom, mix_experts, mmoe_synthetic

TASKS = ("click", "like")


def inputs(n=16, d=6, seed=0):
    return torch.randn(n, d, generator=torch.Generator().manual_seed(seed))


def test_mmoe_with_one_expert_is_a_shared_bottom_with_the_same_weights():
    torch.manual_seed(0)
    bottom = SharedBottom(6, hidden=(8, 5), tasks=TASKS)
    mmoe = MMoE(6, n_experts=1, expert_hidden=(8, 5), tasks=TASKS)
    with torch.no_grad():  # expert 1's layers are the bottom's Linear layers, transposed
        for layer in range(2):
            mmoe.experts.weights[layer][0] = bottom.bottom[2 * layer].weight.T
            mmoe.experts.biases[layer][0] = bottom.bottom[2 * layer].bias
    for task in TASKS:
        mmoe.towers[task][-1].load_state_dict(bottom.heads[task].state_dict())
    x = inputs()
    torch.testing.assert_close(mmoe(x), bottom(x))
    for task in TASKS:  # a softmax over one expert is 1 whatever the gate's weights
        assert torch.equal(mmoe.last_gate_weights_[task], torch.ones(16, 1))


def test_mmoe_equals_a_hand_built_mixture_and_its_gates_sum_to_one():
    torch.manual_seed(1)
    model = MMoE(6, n_experts=3, expert_hidden=4, tasks=TASKS, tower_hidden=(3,))
    x = inputs(seed=2)
    out = model(x)
    experts = [torch.relu(x @ model.experts.weights[0][i] + model.experts.biases[0][i])
               for i in range(3)]                                  # each expert by hand
    for t, task in enumerate(TASKS):
        g = torch.softmax(x @ model.gates[task].weight.T + model.gates[task].bias, dim=1)
        mixed = sum(g[:, i:i + 1] * experts[i] for i in range(3))
        torch.testing.assert_close(out[:, t:t + 1], model.towers[task](mixed))
        torch.testing.assert_close(model.last_gate_weights_[task], g)
        torch.testing.assert_close(g.sum(dim=1), torch.ones(16))


def test_batched_experts_equal_separate_linear_layers():
    torch.manual_seed(3)
    experts = Experts(6, n_experts=3, hidden=(5, 4))
    x = inputs()
    out = experts(x)
    assert out.shape == (16, 3, 4)
    for i in range(3):
        first, second = torch.nn.Linear(6, 5), torch.nn.Linear(5, 4)
        with torch.no_grad():
            first.weight.copy_(experts.weights[0][i].T); first.bias.copy_(experts.biases[0][i])
            second.weight.copy_(experts.weights[1][i].T); second.bias.copy_(experts.biases[1][i])
        torch.testing.assert_close(out[:, i], torch.relu(second(torch.relu(first(x)))))
    assert Experts(6, 0, (4,))(x).shape == (16, 0, 4)


def test_mix_experts_by_hand():
    e = torch.tensor([[[1.0, 0.0], [0.0, 2.0], [4.0, 4.0]]])              # (1, 3, 2)
    logits = torch.log(torch.tensor([[0.2, 0.3, 0.5]]))
    h, g = mix_experts(logits, e)
    torch.testing.assert_close(h, torch.tensor([[0.2 + 2.0, 0.6 + 2.0]]))
    torch.testing.assert_close(g, torch.tensor([[0.2, 0.3, 0.5]]))


def test_expert_dropout_renormalises_in_training_and_is_off_in_eval():
    logits = torch.log(torch.tensor([[0.2, 0.3, 0.5]])).repeat(2000, 1)
    e = torch.randn(2000, 3, 4, generator=torch.Generator().manual_seed(0))
    torch.manual_seed(0)
    _, g = mix_experts(logits, e, dropout=0.5, training=True)
    torch.testing.assert_close(g.sum(dim=1), torch.ones(2000))
    kept = g > 0
    assert kept.any(dim=1).all()                           # never a row with no expert
    base = torch.tensor([0.2, 0.3, 0.5])
    for row in range(50):  # kept experts keep their ratios: w_i / Σ_kept w_j
        k = kept[row]
        torch.testing.assert_close(g[row, k], base[k] / base[k].sum())
    # each expert dropped with 0.5, all-dropped rows (1/8) kept whole: P(kept) = 1/2 + 1/8
    assert kept.float().mean(dim=0).tolist() == pytest.approx([0.625] * 3, abs=0.04)
    _, g_eval = mix_experts(logits, e, dropout=0.5, training=False)
    torch.testing.assert_close(g_eval, base.repeat(2000, 1))
    model = MMoE(6, 3, 4, TASKS, expert_dropout=0.5).eval()
    x = inputs()
    torch.testing.assert_close(model(x), model(x), rtol=0, atol=0)        # deterministic in eval
    assert all((w > 0).all() for w in model.last_gate_weights_.values())
    model.train()
    model(x)
    assert any((w == 0).any() for w in model.last_gate_weights_.values())


def test_ple_shapes_and_gate_widths():
    model = PLE(6, n_specific=2, n_shared=3, expert_hidden=(5, 4), tasks=("a", "b", "c"),
                n_levels=3, tower_hidden=2)
    out = model(inputs())
    assert out.shape == (16, 3)
    assert len(model.last_gate_weights_) == 3
    for level, weights in enumerate(model.last_gate_weights_):
        assert sorted(weights) == (["a", "b", "c", "shared"] if level < 2 else ["a", "b", "c"])
        for name, w in weights.items():
            assert w.shape == (16, 3 * 2 + 3 if name == "shared" else 2 + 3)
            torch.testing.assert_close(w.sum(dim=1), torch.ones(16))


def _grad_norms(model, task_index):
    model.zero_grad()
    model(inputs(seed=3))[:, task_index].sum().backward()
    return {name: (p.grad.abs().sum().item() if p.grad is not None else 0.0)
            for name, p in model.named_parameters()}


def test_ple_task_experts_get_no_gradient_from_other_tasks_where_the_architecture_says_so():
    torch.manual_seed(0)
    cgc = PLE(6, n_specific=2, n_shared=1, expert_hidden=4, tasks=TASKS, n_levels=1)
    grads = _grad_norms(cgc, task_index=1)              # the loss of "like" only
    assert all(g == 0 for n, g in grads.items() if ".specific.click." in n)
    assert all(g > 0 for n, g in grads.items() if ".specific.like." in n and "weight" in n)
    assert all(g > 0 for n, g in grads.items() if ".shared." in n and "weight" in n)
    # two levels: the first level's shared gate mixes every expert into the next shared
    # experts, so "click"'s first-level experts do hear from "like"; the last level's do not
    two = PLE(6, n_specific=2, n_shared=1, expert_hidden=4, tasks=TASKS, n_levels=2)
    grads = _grad_norms(two, task_index=1)
    assert all(g == 0 for n, g in grads.items() if n.startswith("levels.1.specific.click."))
    assert all(g > 0 for n, g in grads.items()
               if n.startswith("levels.0.specific.click.") and "weight" in n)
    assert all(g == 0 for n, g in grads.items() if n.startswith("towers.click."))


def test_ple_without_shared_or_specific_experts():
    only_own = PLE(6, n_specific=2, n_shared=0, expert_hidden=4, tasks=TASKS, n_levels=2)
    assert only_own(inputs()).shape == (16, 2)
    only_shared = PLE(6, n_specific=0, n_shared=3, expert_hidden=4, tasks=TASKS)
    assert only_shared(inputs()).shape == (16, 2)


def test_models_train_through_the_one_loop():
    from course.training import train
    data = mmoe_synthetic(600, 0.5, d=6, m=2, seed=0)
    x, y = data.x.astype(np.float32), data.y.astype(np.float32)
    mse = lambda model, batch: ((model(batch[0]) - batch[1]) ** 2).mean()
    for model in (MMoE(6, 3, 8, TASKS, expert_dropout=0.2), PLE(6, 1, 1, 8, TASKS, n_levels=2)):
        history = train(model, mse, (x, y), epochs=15, batch_size=64, learning_rate=0.01)
        assert history.train_loss[-1] < 0.5 * history.train_loss[0]


@pytest.mark.parametrize("p", [1.0, 0.9, 0.5, 0.1, -0.3])
def test_synthetic_linear_parts_have_pearson_correlation_p(p):
    data = mmoe_synthetic(20000, p, seed=1)
    w1, w2 = data.w
    assert np.linalg.norm(w1) == pytest.approx(1.0) and np.linalg.norm(w2) == pytest.approx(1.0)
    assert w1 @ w2 == pytest.approx(p, abs=1e-12)                          # population value
    linear = data.x @ data.w.T
    assert np.corrcoef(linear.T)[0, 1] == pytest.approx(p, abs=4 / np.sqrt(20000))


def test_synthetic_labels_by_hand_and_shared_parts_across_p():
    a = mmoe_synthetic(50, 0.9, d=5, c=2.0, m=3, noise_std=0.0, seed=4)
    b = mmoe_synthetic(50, 0.1, d=5, c=2.0, m=3, noise_std=0.0, seed=4)
    assert np.array_equal(a.x, b.x) and np.array_equal(a.w[0], b.w[0])
    assert np.array_equal(a.alpha, b.alpha) and np.array_equal(a.y[:, 0], b.y[:, 0])
    for i in range(2):
        for row in range(50):
            z = a.w[i] @ a.x[row]
            expected = z + sum(np.sin(a.alpha[j] * z + a.beta[j]) for j in range(3))
            assert a.y[row, i] == pytest.approx(expected, abs=1e-12)
    assert np.linalg.norm(a.w[1]) == pytest.approx(2.0)
    # p = 1: both tasks are one task (same sines, noise aside)
    same = mmoe_synthetic(30, 1.0, noise_std=0.0, seed=5)
    np.testing.assert_allclose(same.y[:, 0], same.y[:, 1], atol=1e-12)
    # the noise: standard deviation 0.1 by default
    noisy, clean = mmoe_synthetic(20000, 0.5, seed=6), mmoe_synthetic(20000, 0.5, noise_std=0.0, seed=6)
    assert np.std(noisy.y - clean.y) == pytest.approx(0.1, abs=0.003)


def test_synthetic_label_correlation_falls_with_p():
    corr = [np.corrcoef(mmoe_synthetic(20000, p, seed=2).y.T)[0, 1] for p in (1.0, 0.9, 0.5, 0.1)]
    assert corr[0] == pytest.approx(1.0, abs=0.01)
    assert corr == sorted(corr, reverse=True)


@pytest.mark.parametrize("call, error", [
    (lambda: MMoE(6, 0, 4, TASKS), ValueError),
    (lambda: MMoE(6, 2, (), TASKS), ValueError),
    (lambda: MMoE(6, 2, 4, "click"), TypeError),
    (lambda: MMoE(6, 2, 4, ("a", "a")), ValueError),
    (lambda: MMoE(6, 2, 4, ("a", "shared")), ValueError),
    (lambda: MMoE(6, 2, 4, TASKS, expert_dropout=1.0), ValueError),
    (lambda: MMoE(6, 2, 4, TASKS, expert_dropout=True), TypeError),
    (lambda: MMoE(6, 2, 4.0, TASKS), TypeError),
    (lambda: MMoE(6, 2, 4, TASKS)(torch.zeros(3, 5)), ValueError),
    (lambda: MMoE(6, 2, 4, TASKS)(np.zeros((3, 6))), TypeError),
    (lambda: PLE(6, 0, 0, 4, TASKS), ValueError),
    (lambda: PLE(6, 1, 1, 4, TASKS, n_levels=0), ValueError),
    (lambda: PLE(6, -1, 1, 4, TASKS), ValueError),
    (lambda: PLE(6, 1, 1, 4, TASKS)(torch.zeros(3)), ValueError),
    (lambda: mix_experts(torch.zeros(2, 3), torch.zeros(2, 4, 5)), ValueError),
    (lambda: mmoe_synthetic(0, 0.5), ValueError),
    (lambda: mmoe_synthetic(10, 1.5), ValueError),
    (lambda: mmoe_synthetic(10, "0.5"), TypeError),
    (lambda: mmoe_synthetic(10, 0.5, d=1), ValueError),
    (lambda: mmoe_synthetic(10, 0.5, c=0.0), ValueError),
    (lambda: mmoe_synthetic(10, 0.5, m=-1), ValueError),
    (lambda: mmoe_synthetic(10, 0.5, noise_std=-0.1), ValueError),
    (lambda: mmoe_synthetic(10, 0.5, seed=-1), ValueError),
])
def test_clear_errors(call, error):
    with pytest.raises(error):
        call()
