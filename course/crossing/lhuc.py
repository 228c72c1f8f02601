"""LHUC (learning hidden unit contributions): personalise a network by gating its hidden units.

Each hidden layer of the item-side network is multiplied element-wise by a gate computed from
the user's features (Wang Shusen's lecture on feature crossing, the LHUC / PPNet part)::

    h_{l+1} = ReLU(W_l h_l + b_l) ⊙ g_l(u),      g_l(u) = 2 · sigmoid(MLP_l(u))  ∈ (0, 2)^m

The factor 2 centres the gate at 1 (sigmoid(0) = ½): a neutral user leaves the units as they
are, and each unit can be switched down to 0 or amplified up to twice. LHUC comes from speech
recognition, adapting an acoustic model to a speaker (Swietojanski and Renals, "Learning Hidden
Unit Contributions for Unsupervised Speaker Adaptation of Neural Network Acoustic Models", IEEE
SLT 2014; Swietojanski, Li and Renals, IEEE/ACM TASLP 2016, arXiv 1601.02828); Kuaishou's PPNet
(Parameter Personalized Net, 2021, described in talks and Kuaishou's technical blog, no paper)
applied it to ranking, and PEPNet (Chang et al., KDD 2023, arXiv 2302.01115) describes the
gate's inputs in detail, including the stop-gradient used by ``stop_gradient=True`` here.
"""
from __future__ import annotations

import torch
from torch import nn

from course._checks import check_int, check_positive_int, check_tensor, check_width

__all__ = ["LHUCGate", "LHUCTower"]


class LHUCGate(nn.Module):
    """One LHUC gate: ``hidden ⊙ 2·sigmoid(MLP([u, p]))``, u the user features, p optional.

    ``stop_gradient=True`` is the PPNet form: the gate reads the shared feature embeddings
    ``u`` through ``u.detach()``. Why: those embeddings are shared with the main network, which
    learns them for the prediction; the gate network is a second, strong path of gradient into
    them (it multiplies every hidden unit), and would pull them toward what makes a good gate
    instead of a good feature. Detached, the gate still learns from them, but only the main
    network shapes them. The gate-only personal inputs ``p`` (in PPNet, embeddings of the user
    id, item id and author id owned by the gate network) are never detached: they exist for it.

    Parameters
    ----------
    user_dim : int
        Width of ``u`` (the shared user-side features, e.g. concatenated embeddings).
    hidden_dim : int
        m, the width of the item-side hidden layer being gated.
    gate_hidden_dims : tuple of int
        The gate MLP's ReLU layers before its last linear map to m.
    stop_gradient : bool
        Detach ``u`` inside the gate (PPNet), see above.
    personal_dim : int
        Width of the gate-only inputs ``p`` (0: none).

    Examples
    --------
    >>> gate = LHUCGate(user_dim=4, hidden_dim=3)
    >>> out = gate(torch.ones(2, 3), torch.ones(2, 4))  # hidden (B, m), user (B, user_dim)
    >>> tuple(out.shape), bool(((out > 0) & (out < 2)).all())
    ((2, 3), True)
    """

    def __init__(self, user_dim: int, hidden_dim: int, gate_hidden_dims=(32,),
                 stop_gradient: bool = False, personal_dim: int = 0):
        super().__init__()
        if not isinstance(stop_gradient, bool):
            raise TypeError(f"stop_gradient must be a bool, got {stop_gradient!r}")
        self.user_dim = check_positive_int(user_dim, "user_dim")
        self.hidden_dim = check_positive_int(hidden_dim, "hidden_dim")
        self.personal_dim = check_int(personal_dim, "personal_dim", minimum=0)
        self.stop_gradient = stop_gradient
        layers, width = [], self.user_dim + self.personal_dim
        for size in gate_hidden_dims:
            layers += [nn.Linear(width, check_positive_int(size, "gate_hidden_dims entry")), nn.ReLU()]
            width = size
        layers.append(nn.Linear(width, self.hidden_dim))
        self.mlp = nn.Sequential(*layers)

    def gate(self, user: torch.Tensor, personal: torch.Tensor | None = None) -> torch.Tensor:
        """The gate ``2·sigmoid(MLP([u, p]))`` of shape (B, m), each entry in (0, 2)."""
        check_tensor(user, "user", 2)
        check_width(user, "user", 1, self.user_dim, "features")
        inputs = user.detach() if self.stop_gradient else user
        if self.personal_dim:
            if personal is None:
                raise ValueError(f"this gate takes personal inputs of width {self.personal_dim}, got None")
            check_tensor(personal, "personal", 2)
            check_width(personal, "personal", 1, self.personal_dim, "features")
            if len(personal) != len(user):
                raise ValueError(f"user and personal must have the same batch size, got user "
                                 f"{tuple(user.shape)} and personal {tuple(personal.shape)}")
            inputs = torch.cat([inputs, personal], dim=1)  # (B, user_dim + personal_dim)
        elif personal is not None:
            raise ValueError(f"this gate has personal_dim=0, got personal of shape {tuple(personal.shape)}")
        return 2 * torch.sigmoid(self.mlp(inputs))  # (B, m)

    def forward(self, hidden: torch.Tensor, user: torch.Tensor,
                personal: torch.Tensor | None = None) -> torch.Tensor:
        """``hidden ⊙ gate(user, personal)``: hidden of shape (B, m), returns (B, m)."""
        check_tensor(hidden, "hidden", 2)
        check_width(hidden, "hidden", 1, self.hidden_dim, "units")
        gate = self.gate(user, personal)  # (B, m)
        if len(hidden) != len(gate):
            raise ValueError(f"user and hidden must have the same batch size, got user "
                             f"{tuple(user.shape)} and hidden {tuple(hidden.shape)}")
        return hidden * gate


class LHUCTower(nn.Module):
    """An item-side MLP with an LHUC gate after every layer: ``h_{l+1} = ReLU(W_l h_l + b_l) ⊙ g_l(u)``.

    Parameters
    ----------
    item_dim : int
        Width of the item-side input ``h_0``.
    user_dim : int
        Width of the user features ``u`` every gate reads.
    hidden_dims : tuple of int
        The tower's layers (one gate each); the output has width ``hidden_dims[-1]``.
    gate_hidden_dims, stop_gradient, personal_dim
        As in :class:`LHUCGate`, for every gate.

    Examples
    --------
    >>> tower = LHUCTower(item_dim=5, user_dim=3, hidden_dims=(8, 4))
    >>> tower(torch.zeros(2, 5), torch.zeros(2, 3)).shape
    torch.Size([2, 4])
    """

    def __init__(self, item_dim: int, user_dim: int, hidden_dims=(64, 32), gate_hidden_dims=(32,),
                 stop_gradient: bool = False, personal_dim: int = 0):
        super().__init__()
        hidden_dims = tuple(check_positive_int(h, "hidden_dims entry") for h in hidden_dims)
        if not hidden_dims:
            raise ValueError("hidden_dims must name at least one layer, got ()")
        self.item_dim = check_positive_int(item_dim, "item_dim")
        widths = (self.item_dim,) + hidden_dims
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(widths[:-1], widths[1:]))
        self.gates = nn.ModuleList(LHUCGate(user_dim, h, gate_hidden_dims, stop_gradient, personal_dim)
                                   for h in hidden_dims)

    def forward(self, item: torch.Tensor, user: torch.Tensor,
                personal: torch.Tensor | None = None) -> torch.Tensor:
        """Gated item representation of shape (B, hidden_dims[-1]) from item (B, item_dim)."""
        check_tensor(item, "item", 2)
        check_width(item, "item", 1, self.item_dim, "features")
        hidden = item
        for layer, gate in zip(self.layers, self.gates):
            hidden = gate(torch.relu(layer(hidden)), user, personal)  # (B, h_l)
        return hidden
