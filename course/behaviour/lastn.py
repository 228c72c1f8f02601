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

from course.behaviour._tensors import check_history

__all__ = ["lastn_mean"]


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
