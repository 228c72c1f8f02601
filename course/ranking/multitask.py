"""The shared-bottom multi-task ranking model (多目标模型) and its masked loss.

Wang Shusen's lectures (工业界的推荐系统, ranking, "multi-objective models"): one network reads
the user, item and context features, a shared bottom (共享底层) turns them into one hidden
vector, and one head per target (click, like, collect, share …) outputs that target's logit::

    h = f_bottom(x)                      # (B, H), shared by every task
    z_t = head_t(h),  p_t = sigmoid(z_t) # one per task

The loss is the sum of the tasks' cross-entropies. The targets are not measured on the same
rows: a click is observed on every impression, but a like, collect or share only after a
click, so those tasks (post-click, 点击后的目标) count only on clicked rows. Their rates are then
per click, which is what :func:`course.ranking.fusion.multiplicative_fusion` multiplies by
``p_click``. Ranking n candidates costs n forward passes (one per item), unlike the two-tower
recall whose item side is precomputed.

Caruana, "Multitask learning", Machine Learning 28 (1997) introduced the shared bottom; MMoE
and PLE (Ma et al., KDD 2018; Tang et al., RecSys 2020) replace it with gated experts.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from course._checks import check_int, check_tensor

__all__ = ["SharedBottom", "masked_multitask_loss"]


class SharedBottom(nn.Module):
    """A shared MLP bottom and one linear head per task; returns one logit per task.

    Parameters
    ----------
    n_inputs : int
        Width of the (already embedded and concatenated) feature vector x.
    hidden : int or sequence of int
        Widths of the shared bottom's layers (ReLU after each).
    tasks : sequence of str
        The task names, e.g. ``("click", "like", "collect", "share")``; the output columns
        follow this order.

    Examples
    --------
    >>> model = SharedBottom(6, hidden=(16, 8), tasks=("click", "like"))
    >>> tuple(model(torch.zeros(3, 6)).shape)
    (3, 2)
    >>> model.tasks
    ('click', 'like')
    """

    def __init__(self, n_inputs: int, hidden, tasks):
        super().__init__()
        check_int(n_inputs, "n_inputs", minimum=1)
        hidden = (hidden,) if isinstance(hidden, int) else tuple(hidden)
        if not hidden:
            raise ValueError("hidden must name at least one layer width, got ()")
        for width in hidden:
            check_int(width, "hidden widths", minimum=1)
        if isinstance(tasks, str) or not all(isinstance(task, str) for task in tasks):
            raise TypeError(f"tasks must be a sequence of str names, got {tasks!r}")
        tasks = tuple(tasks)
        if not tasks or len(set(tasks)) != len(tasks):
            raise ValueError(f"tasks must be distinct names, at least one, got {tasks!r}")
        self.n_inputs, self.tasks = n_inputs, tasks
        layers, width = [], n_inputs
        for h in hidden:
            layers += [nn.Linear(width, h), nn.ReLU()]
            width = h
        self.bottom = nn.Sequential(*layers)
        # separate heads (not one Linear(width, T)) so each task's parameters are visible by name
        self.heads = nn.ModuleDict({task: nn.Linear(width, 1) for task in tasks})

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits of shape (B, n_tasks) from features ``x`` of shape (B, n_inputs)."""
        check_tensor(x, "x", 2)
        if x.shape[1] != self.n_inputs:
            raise ValueError(f"x must have shape (B, {self.n_inputs}), got {tuple(x.shape)}")
        h = self.bottom(x)                                                    # (B, H)
        return torch.cat([self.heads[task](h) for task in self.tasks], dim=1)  # (B, T)


def masked_multitask_loss(logits: torch.Tensor, labels: torch.Tensor, masks: torch.Tensor,
                          weights=None) -> torch.Tensor:
    """``Σ_t w_t · mean_{i: mask[i, t]} BCE(z[i, t], y[i, t])``: each task on its own rows.

    A row with ``masks[i, t] = False`` contributes nothing to task t, not even a gradient, and
    its label is never read (it may be nan: a like not observed without a click). Each task is
    averaged over its own rows, so a post-click task on few clicked rows is not diluted by the
    impressions it never saw; a task with no row in the batch adds 0.

    Parameters
    ----------
    logits : torch.Tensor of shape (B, T)
    labels : torch.Tensor of shape (B, T)
        0/1 labels (floats; anything where the mask is False).
    masks : torch.Tensor of bool of shape (B, T)
        Where each task is observed: all True for click, ``clicked`` for post-click tasks,
        e.g. ``torch.stack([ones, clicked, clicked], dim=1)``.
    weights : sequence of float of length T, optional
        ``w_t``; 1 for every task by default.

    Returns
    -------
    torch.Tensor, a scalar

    Examples
    --------
    >>> logits = torch.zeros(2, 2)
    >>> labels = torch.tensor([[1.0, 1.0], [0.0, float("nan")]])   # row 1: no click, no like
    >>> masks = torch.tensor([[True, True], [True, False]])
    >>> round(masked_multitask_loss(logits, labels, masks).item(), 4)   # 2 log 2
    1.3863
    """
    check_tensor(logits, "logits", 2)
    check_tensor(labels, "labels", None)
    if not isinstance(masks, torch.Tensor):
        raise TypeError(f"masks must be a torch.Tensor, got {type(masks).__name__}")
    if labels.shape != logits.shape or masks.shape != logits.shape:
        raise ValueError(f"logits, labels and masks must share one (B, T) shape, got "
                         f"{tuple(logits.shape)}, {tuple(labels.shape)}, {tuple(masks.shape)}")
    if masks.dtype != torch.bool:
        raise TypeError(f"masks must be a bool tensor, got {masks.dtype}")
    n_tasks = logits.shape[1]
    weights = torch.ones(n_tasks, dtype=logits.dtype) if weights is None else \
        torch.as_tensor(weights, dtype=logits.dtype)
    if weights.shape != (n_tasks,) or not bool(torch.isfinite(weights).all()):
        raise ValueError(f"weights must be {n_tasks} finite numbers, got {weights.tolist()}")
    observed = labels.masked_fill(~masks, 0.0)  # never read the masked labels: nan * 0 is nan
    if not bool(((observed == 0) | (observed == 1)).all()):
        raise ValueError("labels must be 0/1 where masks is True")
    per_row = F.binary_cross_entropy_with_logits(logits, observed.to(logits.dtype),
                                                 reduction="none")            # (B, T)
    per_row = per_row.masked_fill(~masks, 0.0)  # masked_fill, not * mask: its gradient there is 0
    counts = masks.sum(dim=0).clamp(min=1)                                    # (T,)
    return (weights * per_row.sum(dim=0) / counts).sum()
