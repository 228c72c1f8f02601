"""course.ranking.multitask against a per-task loop over the observed rows, autograd and a
hand-built forward pass."""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from course.ranking import SharedBottom, masked_multitask_loss
from course.training import train


def batch(seed=0, n=40, n_tasks=3):
    g = torch.Generator().manual_seed(seed)
    logits = torch.randn(n, n_tasks, generator=g, dtype=torch.float64)
    labels = (torch.rand(n, n_tasks, generator=g) < 0.4).to(torch.float64)
    clicked = labels[:, 0].bool()
    masks = torch.stack([torch.ones(n, dtype=torch.bool)] + [clicked] * (n_tasks - 1), dim=1)
    return logits, labels, masks


def loop_loss(logits, labels, masks, weights):
    total = 0.0
    for t in range(logits.shape[1]):
        rows = [i for i in range(logits.shape[0]) if masks[i, t]]
        if rows:
            total += weights[t] * F.binary_cross_entropy_with_logits(logits[rows, t],
                                                                     labels[rows, t]).item()
    return total


def test_loss_equals_a_loop_over_each_tasks_observed_rows():
    logits, labels, masks = batch()
    assert masked_multitask_loss(logits, labels, masks).item() == pytest.approx(
        loop_loss(logits, labels, masks, [1, 1, 1]), rel=1e-12)
    weights = [1.0, 0.5, 3.0]
    assert masked_multitask_loss(logits, labels, masks, weights).item() == pytest.approx(
        loop_loss(logits, labels, masks, weights), rel=1e-12)


def test_masked_rows_are_excluded_exactly_and_their_labels_never_read():
    logits, labels, masks = batch(1)
    loss = masked_multitask_loss(logits, labels, masks)
    scrambled = labels.clone()
    scrambled[~masks] = float("nan")  # unobserved likes: anything goes
    assert masked_multitask_loss(logits, scrambled, masks).item() == loss.item()
    changed_logits = logits.clone()
    changed_logits[~masks] = 50.0
    assert masked_multitask_loss(changed_logits, labels, masks).item() == loss.item()


def test_gradient_is_zero_on_masked_rows_and_matches_the_closed_form_elsewhere():
    logits, labels, masks = batch(2)
    labels[~masks] = float("nan")
    logits.requires_grad_(True)
    masked_multitask_loss(logits, labels, masks).backward()
    assert (logits.grad[~masks] == 0).all()
    counts = masks.sum(dim=0).to(torch.float64)
    expected = (torch.sigmoid(logits.detach()) - labels.nan_to_num(0.0)) / counts
    torch.testing.assert_close(logits.grad[masks], expected[masks], rtol=1e-10, atol=1e-12)


def test_a_task_without_rows_adds_zero():
    logits, labels, masks = batch(3)
    masks[:, 2] = False
    assert masked_multitask_loss(logits, labels, masks).item() == pytest.approx(
        loop_loss(logits[:, :2], labels[:, :2], masks[:, :2], [1, 1]), rel=1e-12)


def test_shared_bottom_forward_by_hand():
    model = SharedBottom(4, hidden=3, tasks=("click", "like"))
    x = torch.randn(5, 4, generator=torch.Generator().manual_seed(4))
    layer = model.bottom[0]
    h = torch.relu(x @ layer.weight.T + layer.bias)
    expected = torch.cat([h @ model.heads[t].weight.T + model.heads[t].bias for t in model.tasks], 1)
    torch.testing.assert_close(model(x), expected)


def test_post_click_loss_trains_only_the_bottom_and_its_own_heads():
    torch.manual_seed(0)
    model = SharedBottom(4, hidden=(8,), tasks=("click", "like", "share"))
    x = torch.randn(6, 4)
    labels = torch.tensor([[1.0, 1, 0], [0, 0, 0], [1, 0, 1], [0, 0, 0], [0, 0, 0], [1, 1, 1]])
    masks = torch.tensor([[True, False, True]] * 6)  # the like task is not observed in this batch
    masked_multitask_loss(model(x), labels, masks).backward()
    assert (model.heads["like"].weight.grad == 0).all()
    assert model.heads["share"].weight.grad.abs().sum() > 0
    assert model.bottom[0].weight.grad.abs().sum() > 0


def test_trains_through_the_course_loop_and_learns_the_rates():
    rng = np.random.default_rng(5)
    x = rng.normal(size=(3000, 2)).astype(np.float32)
    p_click = 1 / (1 + np.exp(-2 * x[:, 0]))
    clicked = rng.uniform(size=3000) < p_click
    liked = clicked & (rng.uniform(size=3000) < 1 / (1 + np.exp(-2 * x[:, 1])))
    labels = np.stack([clicked, liked], axis=1).astype(np.float32)
    masks = np.stack([np.ones(3000, dtype=bool), clicked], axis=1)
    torch.manual_seed(0)
    model = SharedBottom(2, hidden=(16,), tasks=("click", "like"))

    def loss_fn(model, batch):
        xb, yb, mb = batch
        return masked_multitask_loss(model(xb), yb, mb)

    history = train(model, loss_fn, (x, labels, masks), epochs=15, batch_size=128,
                    learning_rate=0.02, seed=0)
    assert history.train_loss[-1] < history.train_loss[0]
    with torch.no_grad():
        p = torch.sigmoid(model(torch.tensor([[2.0, 2.0], [-2.0, -2.0]]))).numpy()
    true = 1 / (1 + math.exp(-4))  # both rates at ±2: sigmoid(±4)
    np.testing.assert_allclose(p[0], [true, true], atol=0.08)
    np.testing.assert_allclose(p[1], [1 - true, 1 - true], atol=0.08)


def test_errors():
    with pytest.raises(TypeError, match="tasks"):
        SharedBottom(3, 4, "click")
    with pytest.raises(ValueError, match="distinct"):
        SharedBottom(3, 4, ("click", "click"))
    with pytest.raises(ValueError, match="distinct"):
        SharedBottom(3, 4, ())
    with pytest.raises(ValueError, match="n_inputs"):
        SharedBottom(0, 4, ("click",))
    with pytest.raises(TypeError, match="hidden"):
        SharedBottom(3, (4.0,), ("click",))
    with pytest.raises(ValueError, match="hidden"):
        SharedBottom(3, (), ("click",))
    with pytest.raises(ValueError, match=r"\(B, 3\)"):
        SharedBottom(3, 4, ("click",))(torch.zeros(2, 4))
    logits, labels, masks = batch()
    with pytest.raises(TypeError, match="logits must be a torch.Tensor"):
        masked_multitask_loss(logits.numpy(), labels, masks)
    with pytest.raises(ValueError, match="shape"):
        masked_multitask_loss(logits, labels[:, :2], masks)
    with pytest.raises(TypeError, match="bool"):
        masked_multitask_loss(logits, labels, masks.to(torch.float64))
    with pytest.raises(ValueError, match="weights"):
        masked_multitask_loss(logits, labels, masks, weights=[1.0, 2.0])
    with pytest.raises(ValueError, match="0/1"):
        masked_multitask_loss(logits, labels * 2, masks)
