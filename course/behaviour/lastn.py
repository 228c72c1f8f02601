"""LastN: the mean of the embeddings of the user's last N items (the lectures' simplest
behaviour-sequence feature, as in YouTube's "watch vector": Covington, Adams and Sargin,
"Deep Neural Networks for YouTube Recommendations", RecSys 2016)::

    u = (1 / |S|) Σ_{j ∈ S} v_j        S = the real (unpadded) items of the history

One vector per behaviour type (clicks, likes, collects), concatenated, goes into the user tower
of a two-tower model or into the ranker. The mean forgets *which* item was seen when, and
weighs every past interest the same whatever the candidate: what DIN
(:mod:`course.behaviour.din`) changes.
"""
from __future__ import annotations

import torch
from torch import nn

from course._checks import check_positive_int
from course.behaviour._tensors import check_history

__all__ = ["lastn_mean", "LastNUserTower"]


def lastn_mean(history: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean of the valid history embeddings; a zero vector for an empty history.

    Parameters
    ----------
    history : Tensor of shape (B, N, d)
        Embeddings of the last N items; padded slots may hold anything.
    mask : bool Tensor of shape (B, N)
        True for a real item.

    Returns
    -------
    Tensor of shape (B, d)

    Examples
    --------
    >>> h = torch.tensor([[[1.0, 0.0], [3.0, 2.0], [99.0, 99.0]], [[5.0, 5.0]] * 3])
    >>> lastn_mean(h, torch.tensor([[True, True, False], [False, False, False]]))
    tensor([[2., 1.],
            [0., 0.]])
    """
    check_history(history, mask)
    weights = mask.to(history.dtype)                                    # (B, N)
    # where(), not a product: a padded NaN or inf must not leak into the sum (0 * inf = nan)
    total = torch.where(mask.unsqueeze(2), history, torch.zeros((), dtype=history.dtype)).sum(1)
    count = weights.sum(dim=1, keepdim=True).clamp(min=1.0)             # (B, 1); empty -> 0 / 1
    return total / count                                                # (B, d)


class LastNUserTower(nn.Module):
    """Chapter 2's user tower with LastN features: ``tower(categorical, [numeric, u_1, …, u_T])``
    where ``u_t = lastn_mean(item_embedding[history_t], mask_t)`` for each behaviour type t
    (clicks, likes, collects), concatenated, as the lecture puts LastN into the user tower.

    Parameters
    ----------
    tower : nn.Module
        A user tower ``(categorical, numeric) -> (B, D)`` (``course.recall.two_tower.Tower``)
        built with ``n_numeric = (own numeric columns) + n_types · d``.
    item_embedding : nn.Embedding
        d-wide item vectors, shared with the item tower or learned here.
    n_types : int
        T, the behaviour types given to ``forward``.

    Examples
    --------
    >>> from course.recall.two_tower import Tower
    >>> tower = Tower([5], n_numeric=2 * 3, embedding_dim=4, hidden_dims=(8,), output_dim=6)
    >>> user = LastNUserTower(tower, nn.Embedding(10, 3), n_types=2)
    >>> h = torch.tensor([[1, 2, -1]]); m = h >= 0
    >>> user(torch.tensor([[0]]), torch.zeros(1, 0), [(h, m), (h, m)]).shape
    torch.Size([1, 6])
    """

    def __init__(self, tower: nn.Module, item_embedding: nn.Embedding, n_types: int = 3):
        super().__init__()
        self.tower, self.item_embedding = tower, item_embedding
        self.n_types = check_positive_int(n_types, "n_types")

    def forward(self, categorical, numeric, histories) -> torch.Tensor:
        """User vectors (B, D); ``histories``: T pairs (items (B, N) with -1 padding, mask (B, N))."""
        if len(histories) != self.n_types:
            raise ValueError(f"expected {self.n_types} (items, mask) histories, got {len(histories)}")
        means = [lastn_mean(self.item_embedding(items.clamp(min=0)), mask)          # (B, d) each
                 for items, mask in histories]
        return self.tower(categorical, torch.cat([numeric, *means], dim=1))
