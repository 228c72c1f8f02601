"""Gated experts for multi-task ranking: MMoE and PLE, with expert dropout and recorded gates.

Wang Shusen's lectures (工业界的推荐系统, ranking, "MMoE"): instead of one shared bottom, n
experts (专家, small MLPs) read the same features x, and each task t has its own gate (门控), a
softmax over the experts, that mixes their outputs before the task's tower::

    e_i = expert_i(x)                         # (B, H), i = 1..n
    g_t = softmax(W_t x)                      # (B, n), one gate per task, sums to 1
    h_t = Σ_i g_t[:, i] · e_i                 # (B, H)
    z_t = tower_t(h_t)                        # one logit (or value) per task

(Ma, Zhao, Yi, Chen, Hong, Chi, "Modeling Task Relationships in Multi-task Learning with
Multi-gate Mixture-of-Experts", KDD 2018, equations 6-8.) When two tasks disagree, their gates
can pick different experts; a shared bottom has to serve both with one vector.

PLE (Tang, Liu, Zhao, Gong, "Progressive Layered Extraction (PLE): A Novel Multi-Task Learning
(MTL) Model for Personalized Recommendations", RecSys 2020) splits the experts into shared ones
and task-specific ones. In one extraction layer (the paper's CGC, customized gate control) task
t's gate mixes only [t's own experts + the shared experts], so another task's loss never
reaches t's experts through it; a shared gate over all experts feeds the shared experts of the
next layer. Stacking layers (the paper's "progressive" part) lets the shared part draw on the
task-specific ones; the last layer has no shared gate.

Polarisation (极化): a softmax gate often drifts to put almost all its weight on one expert,
so the other experts learn nothing for that task. The lectures' remedy is expert dropout:
during training each expert is dropped from a gate's mixture with probability ``rate`` (the
weights of the kept experts are renormalised to sum to 1), so no task can rely on one expert
alone; at evaluation every expert is used. We drop experts per row and per gate, and, unlike
the lectures' sketch, keep all experts in a row where every one would be dropped (a mixture of
no experts is undefined).

Both models return one output per task, shape (B, T), like
:class:`course.ranking.multitask.SharedBottom`, and keep the last forward's gate weights,
detached, in ``last_gate_weights_``.
"""
from __future__ import annotations

import torch
from torch import nn

from course._checks import check_int, check_probability

__all__ = ["MMoE", "PLE", "Experts", "mix_experts"]


def _widths(hidden, name: str, allow_empty: bool = False) -> tuple[int, ...]:
    hidden = (hidden,) if isinstance(hidden, int) and not isinstance(hidden, bool) else tuple(hidden)
    if not hidden and not allow_empty:
        raise ValueError(f"{name} must name at least one layer width, got ()")
    for width in hidden:
        check_int(width, f"{name} widths", minimum=1)
    return hidden


def _tasks(tasks) -> tuple[str, ...]:
    if isinstance(tasks, str) or not all(isinstance(task, str) for task in tasks):
        raise TypeError(f"tasks must be a sequence of str names, got {tasks!r}")
    tasks = tuple(tasks)
    if not tasks or len(set(tasks)) != len(tasks) or "shared" in tasks:
        raise ValueError(f"tasks must be distinct names other than 'shared', at least one, "
                         f"got {tasks!r}")
    return tasks


def _mlp(n_inputs: int, hidden: tuple[int, ...]) -> nn.Sequential:
    layers, width = [], n_inputs
    for h in hidden:
        layers += [nn.Linear(width, h), nn.ReLU()]
        width = h
    return nn.Sequential(*layers)


def _tower(n_inputs: int, hidden: tuple[int, ...]) -> nn.Sequential:
    """An MLP ending in one output; with ``hidden=()`` a plain linear head like SharedBottom's."""
    return nn.Sequential(*_mlp(n_inputs, hidden), nn.Linear(hidden[-1] if hidden else n_inputs, 1))


def mix_experts(gate_logits: torch.Tensor, expert_outputs: torch.Tensor, dropout: float = 0.0,
                training: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """``h = Σ_i g_i · e_i`` with ``g = softmax(gate_logits)``, optionally dropping experts.

    Dropping expert i sets its gate logit to -inf before the softmax, which is the same as
    zeroing its softmax weight and dividing the others by their sum (renormalising).

    Parameters
    ----------
    gate_logits : torch.Tensor of shape (B, E)
    expert_outputs : torch.Tensor of shape (B, E, H)
    dropout : float in [0, 1)
        Probability of dropping each expert in each row; used only when ``training``.
    training : bool
        Whether to drop; a row where every expert is drawn to be dropped keeps them all.

    Returns
    -------
    mixed : torch.Tensor of shape (B, H)
    weights : torch.Tensor of shape (B, E)
        The gate weights used (zeros for dropped experts); each row sums to 1.

    Examples
    --------
    >>> e = torch.tensor([[[1.0], [3.0]]])                 # one row, two experts, H = 1
    >>> h, g = mix_experts(torch.zeros(1, 2), e)
    >>> h.tolist(), g.tolist()
    ([[2.0]], [[0.5, 0.5]])
    """
    if gate_logits.ndim != 2 or expert_outputs.ndim != 3 or \
            expert_outputs.shape[:2] != gate_logits.shape:
        raise ValueError(f"gate_logits (B, E) and expert_outputs (B, E, H) must agree, got "
                         f"{tuple(gate_logits.shape)} and {tuple(expert_outputs.shape)}")
    if training and dropout > 0:
        dropped = torch.rand(gate_logits.shape) < dropout                        # (B, E)
        dropped &= ~dropped.all(dim=1, keepdim=True)  # never drop a whole row's experts
        gate_logits = gate_logits.masked_fill(dropped, float("-inf"))
    weights = torch.softmax(gate_logits, dim=1)                                  # (B, E)
    mixed = torch.einsum("be,beh->bh", weights, expert_outputs)                  # (B, H)
    return mixed, weights


class Experts(nn.Module):
    """``n`` MLPs on the same input, computed together; outputs stacked as (B, n, H).

    Layer l of every expert is one parameter ``weights[l]`` of shape (n, in, out) and one bias
    ``biases[l]`` of shape (n, out), so a layer of all the experts is one batched product
    (``einsum``) instead of n small ones: the same numbers as n separate ``nn.Linear`` + ReLU
    stacks, with a few times fewer kernel calls on small experts. Initialised like
    ``nn.Linear`` (uniform in ±1/√in).

    Examples
    --------
    >>> experts = Experts(3, n_experts=2, hidden=(4,))
    >>> x = torch.ones(5, 3)
    >>> one = torch.relu(x @ experts.weights[0][1] + experts.biases[0][1])   # expert 2 by hand
    >>> bool(torch.allclose(experts(x)[:, 1], one))
    True
    """

    def __init__(self, n_inputs: int, n_experts: int, hidden: tuple[int, ...]):
        super().__init__()
        self.n_experts, self.width = n_experts, hidden[-1]
        self.weights, self.biases = nn.ParameterList(), nn.ParameterList()
        for fan_in, fan_out in zip((n_inputs,) + hidden[:-1], hidden):
            bound = fan_in ** -0.5
            self.weights.append(nn.Parameter(torch.empty(n_experts, fan_in, fan_out).uniform_(-bound, bound)))
            self.biases.append(nn.Parameter(torch.empty(n_experts, fan_out).uniform_(-bound, bound)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.n_experts == 0:  # PLE with no shared (or no task-specific) experts
            return x.new_zeros((len(x), 0, self.width))                          # (B, 0, H)
        h = torch.relu(torch.einsum("bi,eio->beo", x, self.weights[0]) + self.biases[0])  # (B, E, H1)
        for weight, bias in zip(self.weights[1:], self.biases[1:]):
            h = torch.relu(torch.einsum("bei,eio->beo", h, weight) + bias)       # (B, E, Hl)
        return h


def _check_input(x, n_inputs: int) -> None:
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"x must be a torch tensor, got {type(x).__name__}")
    if x.ndim != 2 or x.shape[1] != n_inputs:
        raise ValueError(f"x must have shape (B, {n_inputs}), got {tuple(x.shape)}")


class MMoE(nn.Module):
    """Multi-gate mixture of experts: n shared experts, one softmax gate per task, task towers.

    Parameters
    ----------
    n_inputs : int
        Width of the feature vector x.
    n_experts : int
        Number of experts (the lectures: "a few to a dozen"; the paper 8).
    expert_hidden : int or sequence of int
        Widths of each expert's layers (ReLU after each); H is the last one.
    tasks : sequence of str
        Task names; the output columns follow this order.
    tower_hidden : int or sequence of int, default ()
        Hidden widths of each task's tower before its single output; ``()`` is a linear head.
    expert_dropout : float in [0, 1), default 0
        Probability of dropping an expert from a gate's mixture in training (see the module).

    Attributes
    ----------
    last_gate_weights_ : dict of str to torch.Tensor of shape (B, n_experts)
        Each task's gate weights in the last forward call (detached; after dropout in training).

    Examples
    --------
    >>> model = MMoE(6, n_experts=3, expert_hidden=8, tasks=("click", "like"))
    >>> tuple(model(torch.zeros(4, 6)).shape), tuple(model.last_gate_weights_["like"].shape)
    ((4, 2), (4, 3))
    """

    def __init__(self, n_inputs: int, n_experts: int, expert_hidden, tasks, tower_hidden=(),
                 expert_dropout: float = 0.0):
        super().__init__()
        self.n_inputs = check_int(n_inputs, "n_inputs", minimum=1)
        self.n_experts = check_int(n_experts, "n_experts", minimum=1)
        expert_hidden = _widths(expert_hidden, "expert_hidden")
        tower_hidden = _widths(tower_hidden, "tower_hidden", allow_empty=True)
        self.tasks = _tasks(tasks)
        self.expert_dropout = check_probability(expert_dropout, "expert_dropout", high_open=True)
        self.experts = Experts(n_inputs, n_experts, expert_hidden)
        self.gates = nn.ModuleDict({t: nn.Linear(n_inputs, n_experts) for t in self.tasks})
        self.towers = nn.ModuleDict({t: _tower(expert_hidden[-1], tower_hidden) for t in self.tasks})
        self.last_gate_weights_: dict[str, torch.Tensor] = {}

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Outputs of shape (B, n_tasks) from features ``x`` of shape (B, n_inputs)."""
        _check_input(x, self.n_inputs)
        experts = self.experts(x)                                                # (B, E, H)
        outputs, weights = [], {}
        for task in self.tasks:  # a loop over the few tasks, not over rows
            mixed, weights[task] = mix_experts(self.gates[task](x), experts,
                                               self.expert_dropout, self.training)
            outputs.append(self.towers[task](mixed))                             # (B, 1)
        self.last_gate_weights_ = {task: w.detach() for task, w in weights.items()}
        return torch.cat(outputs, dim=1)                                         # (B, T)


class _ExtractionLayer(nn.Module):
    """One PLE extraction layer (CGC): task-specific and shared experts, their gates."""

    def __init__(self, n_inputs, tasks, n_specific, n_shared, hidden, shared_gate: bool):
        super().__init__()
        self.tasks = tasks
        self.specific = nn.ModuleDict({t: Experts(n_inputs, n_specific, hidden) for t in tasks})
        self.shared = Experts(n_inputs, n_shared, hidden)
        self.gates = nn.ModuleDict({t: nn.Linear(n_inputs, n_specific + n_shared) for t in tasks})
        self.shared_gate = (nn.Linear(n_inputs, len(tasks) * n_specific + n_shared)
                            if shared_gate else None)

    def forward(self, inputs: dict[str, torch.Tensor], dropout: float, training: bool):
        """``inputs`` maps each task and "shared" to its (B, n_inputs) input."""
        specific = {t: self.specific[t](inputs[t]) for t in self.tasks}           # (B, S, H) each
        shared = self.shared(inputs["shared"])                                    # (B, G, H)
        outputs, weights = {}, {}
        for task in self.tasks:
            own = torch.cat([specific[task], shared], dim=1)                      # (B, S+G, H)
            outputs[task], weights[task] = mix_experts(self.gates[task](inputs[task]), own,
                                                       dropout, training)
        if self.shared_gate is not None:
            every = torch.cat([specific[t] for t in self.tasks] + [shared], dim=1)  # (B, T*S+G, H)
            outputs["shared"], weights["shared"] = mix_experts(
                self.shared_gate(inputs["shared"]), every, dropout, training)
        return outputs, weights


class PLE(nn.Module):
    """Progressive layered extraction: stacked layers of task-specific and shared experts.

    Parameters
    ----------
    n_inputs : int
        Width of the feature vector x.
    n_specific, n_shared : int
        Experts per task and shared experts in each layer (``n_specific`` >= 0, ``n_shared``
        >= 0, at least one expert per gate).
    expert_hidden : int or sequence of int
        Widths of each expert's layers (ReLU after each); H is the last one.
    tasks : sequence of str
        Task names; the output columns follow this order.
    n_levels : int, default 1
        Extraction layers; 1 is the paper's CGC. Every layer but the last has a shared gate
        over all its experts, whose output is the next layer's shared input.
    tower_hidden : int or sequence of int, default ()
        Hidden widths of each task's tower; ``()`` is a linear head.
    expert_dropout : float in [0, 1), default 0
        Probability of dropping an expert from each gate's mixture in training.

    Attributes
    ----------
    last_gate_weights_ : list of dict of str to torch.Tensor
        One dict per layer: each task's gate weights, shape (B, n_specific + n_shared), own
        experts first; and, but in the last layer, "shared": (B, T·n_specific + n_shared),
        tasks' experts in task order, then the shared ones.

    Examples
    --------
    >>> model = PLE(6, n_specific=1, n_shared=2, expert_hidden=8, tasks=("a", "b"), n_levels=2)
    >>> tuple(model(torch.zeros(4, 6)).shape)
    (4, 2)
    >>> [sorted(w) for w in model.last_gate_weights_]
    [['a', 'b', 'shared'], ['a', 'b']]
    """

    def __init__(self, n_inputs: int, n_specific: int, n_shared: int, expert_hidden, tasks,
                 n_levels: int = 1, tower_hidden=(), expert_dropout: float = 0.0):
        super().__init__()
        self.n_inputs = check_int(n_inputs, "n_inputs", minimum=1)
        self.n_specific = check_int(n_specific, "n_specific", minimum=0)
        self.n_shared = check_int(n_shared, "n_shared", minimum=0)
        if n_specific + n_shared == 0:
            raise ValueError("a task's gate needs at least one expert: n_specific + n_shared "
                             "must be >= 1, got 0")
        self.n_levels = check_int(n_levels, "n_levels", minimum=1)
        expert_hidden = _widths(expert_hidden, "expert_hidden")
        tower_hidden = _widths(tower_hidden, "tower_hidden", allow_empty=True)
        self.tasks = _tasks(tasks)
        self.expert_dropout = check_probability(expert_dropout, "expert_dropout", high_open=True)
        widths = [n_inputs] + [expert_hidden[-1]] * (n_levels - 1)
        self.levels = nn.ModuleList(
            _ExtractionLayer(width, self.tasks, n_specific, n_shared, expert_hidden,
                             shared_gate=level < n_levels - 1) for level, width in enumerate(widths))
        self.towers = nn.ModuleDict({t: _tower(expert_hidden[-1], tower_hidden) for t in self.tasks})
        self.last_gate_weights_: list[dict[str, torch.Tensor]] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Outputs of shape (B, n_tasks) from features ``x`` of shape (B, n_inputs)."""
        _check_input(x, self.n_inputs)
        inputs = {name: x for name in self.tasks + ("shared",)}
        recorded = []
        for level in self.levels:
            inputs, weights = level(inputs, self.expert_dropout, self.training)
            recorded.append({name: w.detach() for name, w in weights.items()})
        self.last_gate_weights_ = recorded
        return torch.cat([self.towers[t](inputs[t]) for t in self.tasks], dim=1)  # (B, T)
