"""DIN's target attention (目标注意力): weigh each past item by its relevance to the candidate.

Deep Interest Network (Zhou, Zhu, Song, Fan, Zhu, Ma, Yan, Jin, Li and Gai, "Deep Interest
Network for Click-Through Rate Prediction", KDD 2018, arXiv 1706.06978). With e the candidate's
embedding and v_1 … v_N the history's, an activation unit (a small MLP) scores each pair and the
user's interest *in this candidate* is the weighted sum::

    w_j = a([e, v_j, e − v_j, e ⊙ v_j])          a: Linear → PReLU → … → Linear(1)
    u(e) = Σ_{j real} w_j v_j

The paper does not normalise the w_j by a softmax, "to reserve the intensity of user
interests": a user with many relevant items gets a larger vector than one with a single one.
The lectures' simpler form is the softmax of a similarity, here the scaled dot product of
Vaswani et al. (NeurIPS 2017, arXiv 1706.03762)::

    w = softmax_j( (W e) · v_j / √d ),  W initialised to the identity

Differences from the paper, and why: the paper's activation unit feeds the out product of e and
v; we feed e ⊙ v and e − v as DeepCTR and the authors' later code do (same information, d numbers
instead of d²); PReLU stands in for Dice (Dice adapts the rectifier's point to batch statistics,
which would make a row's output depend on its batch). ``extra`` features per item (e.g. the
embedding of the time since the event, as SIM adds) enter the activation unit only.

Padding: padded slots are replaced by zeros before anything reads them and their weights are
exactly 0, so what a padded slot holds never changes the output; an empty history gives the
zero vector (in both variants).
"""
from __future__ import annotations

import math

import torch
from torch import nn

from course._checks import check_nonnegative_int, check_positive_int
from course.behaviour._tensors import check_history, check_tensor

__all__ = ["TargetAttention", "ATTENTION_KINDS"]

ATTENTION_KINDS = ("din", "softmax")


class TargetAttention(nn.Module):
    """Candidate-dependent pooling of a history: ``u(e) = Σ_j w_j(e, v_j) v_j``.

    Parameters
    ----------
    dim : int
        d, the width of candidate and history embeddings.
    hidden : tuple of int
        Widths of the activation unit's hidden layers (``kind="din"``); the paper uses (80, 40)
        on 4d-wide inputs.
    kind : {"din", "softmax"}
        ``"din"``: the activation unit, weights not normalised (the paper). ``"softmax"``:
        scaled dot-product weights that sum to 1 over the real items.
    extra_dim : int
        Width of per-item extra features given to ``forward(..., extra=)`` (``"din"`` only).

    Examples
    --------
    >>> att = TargetAttention(4, hidden=(8,))
    >>> e, h = torch.ones(2, 4), torch.ones(2, 3, 4)
    >>> att(e, h, torch.tensor([[True, True, False], [False] * 3])).shape
    torch.Size([2, 4])
    """

    def __init__(self, dim: int, hidden=(36,), kind: str = "din", extra_dim: int = 0):
        super().__init__()
        self.dim = check_positive_int(dim, "dim")
        self.extra_dim = check_nonnegative_int(extra_dim, "extra_dim")
        if kind not in ATTENTION_KINDS:
            raise ValueError(f"kind must be one of {ATTENTION_KINDS}, got {kind!r}")
        self.kind = kind
        if isinstance(hidden, int) or not all(isinstance(h, int) and not isinstance(h, bool)
                                              and h >= 1 for h in hidden):
            raise ValueError(f"hidden must be a tuple of positive ints, got {hidden!r}")
        self.hidden = tuple(hidden)
        if kind == "din":
            layers, width = [], 4 * self.dim + self.extra_dim
            for h in self.hidden:
                layers += [nn.Linear(width, h), nn.PReLU(h)]
                width = h
            layers.append(nn.Linear(width, 1))
            self.unit = nn.Sequential(*layers)
        else:
            if self.extra_dim:
                raise ValueError("extra features need kind='din' (the softmax variant has none)")
            self.query = nn.Linear(self.dim, self.dim, bias=False)
            with torch.no_grad():
                self.query.weight.copy_(torch.eye(self.dim))

    def weights(self, candidate: torch.Tensor, history: torch.Tensor, mask: torch.Tensor,
                extra: torch.Tensor | None = None) -> torch.Tensor:
        """The attention weights w of shape (B, N); exactly 0 at padded slots."""
        check_history(history, mask, candidate, self.dim)
        if (extra is None) != (self.extra_dim == 0):
            raise ValueError(f"extra must be given exactly when extra_dim > 0 "
                             f"(extra_dim={self.extra_dim}, extra is {'None' if extra is None else 'given'})")
        zero = torch.zeros((), dtype=history.dtype)
        history = torch.where(mask.unsqueeze(2), history, zero)             # (B, N, d)
        if self.kind == "softmax":
            scores = (history @ self.query(candidate).unsqueeze(2)).squeeze(2)  # (B, N)
            scores = scores / math.sqrt(self.dim)
            scores = scores.masked_fill(~mask, float("-inf"))
            # an empty row would be softmax of all -inf (NaN): give it zeros, then mask
            scores = torch.where(mask.any(1, keepdim=True), scores, zero)
            return torch.softmax(scores, dim=1) * mask                       # (B, N)
        e = candidate.unsqueeze(1).expand_as(history)                        # (B, N, d)
        parts = [e, history, e - history, e * history]
        if extra is not None:
            check_tensor(extra, "extra", 3)
            if tuple(extra.shape) != (*mask.shape, self.extra_dim):
                raise ValueError(f"extra must have shape {(*mask.shape, self.extra_dim)}, "
                                 f"got {tuple(extra.shape)}")
            parts.append(torch.where(mask.unsqueeze(2), extra, zero))
        x = torch.cat(parts, dim=2)                                          # (B, N, 4d + extra)
        # (B·N, F): PReLU's per-unit slopes read axis 1 as the unit axis
        w = self.unit(x.reshape(-1, x.shape[2])).reshape(mask.shape)         # (B, N)
        return torch.where(mask, w, zero)

    def forward(self, candidate: torch.Tensor, history: torch.Tensor, mask: torch.Tensor,
                extra: torch.Tensor | None = None) -> torch.Tensor:
        """The candidate-weighted interest of shape (B, d).

        Parameters
        ----------
        candidate : Tensor of shape (B, d)
        history : Tensor of shape (B, N, d)
        mask : bool Tensor of shape (B, N), True for real items
        extra : Tensor of shape (B, N, extra_dim) or None
        """
        w = self.weights(candidate, history, mask, extra)                     # (B, N)
        history = torch.where(mask.unsqueeze(2), history, torch.zeros((), dtype=history.dtype))
        return (w.unsqueeze(2) * history).sum(dim=1)                          # (B, d)
