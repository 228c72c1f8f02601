"""SIM, the search-based interest model (基于搜索的兴趣模型) for long behaviour sequences.

Pi, Zhou, Bian, Yu, Gai et al., "Search-based User Interest Modeling with Lifelong Sequential
Behavior Data for Click-Through Rate Prediction", CIKM 2020, arXiv 2006.05639. (The lecture
notes' "sequential interest model" is a slip for this paper.) DIN's cost grows with the history
length N for every candidate; SIM keeps a long history (thousands of events) and runs in two
stages per candidate:

1. **General search unit** (search stage): keep the K events most relevant to the candidate.
   *Hard search*: the events of the candidate's category, most recent first (the paper's
   production choice, served from a per-user, per-category index). *Soft search*: the top K by
   inner product ``<e, v_j>`` (the paper uses embeddings trained on an auxiliary task and a
   maximum-inner-product index; here the ranker's own embeddings and an exact top K).
2. **Exact search unit**: target attention (DIN, :mod:`course.behaviour.din`) on the K
   retrieved events, each event's embedding joined with an embedding of the time since it
   happened (Δt, bucketed on a log scale): long histories mix old and new interests, and Δt
   lets the attention discount the old ones.

The searches work on padded, most-recent-first histories; the positions they return index the
long history, ``-1`` for an empty slot.
"""
from __future__ import annotations

import torch
from torch import nn

from course._checks import check_positive_int
from course.behaviour._tensors import check_history, check_tensor
from course.behaviour.din import TargetAttention

__all__ = ["hard_search", "soft_search", "gather_positions", "time_buckets",
           "SearchBasedInterest", "SEARCH_MODES", "TIME_EDGES"]

SEARCH_MODES = ("hard", "soft")
# Δt bucket edges in hours: < 1 h, < 2 h, …, < 1 day, < 2 days, … (log2 scale)
TIME_EDGES = (1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0)


def _take_first_k(selected: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Positions of the first k True entries of each row, left to right; -1 padded."""
    b, n = selected.shape
    rank = torch.cumsum(selected.long(), dim=1) - 1                              # (B, L)
    keep = selected & (rank < k)
    positions = torch.full((b, k), -1, dtype=torch.long)
    rows, cols = keep.nonzero(as_tuple=True)
    positions[rows, rank[rows, cols]] = cols
    return positions, positions >= 0


def hard_search(candidate_category: torch.Tensor, history_category: torch.Tensor,
                mask: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The first ``k`` real events of the candidate's category (most recent first if the
    history is).

    Parameters
    ----------
    candidate_category : int Tensor of shape (B,)
    history_category : int Tensor of shape (B, L)
    mask : bool Tensor of shape (B, L)
    k : int

    Returns
    -------
    positions : int64 Tensor of shape (B, k), -1 in empty slots
    found : bool Tensor of shape (B, k)

    Examples
    --------
    >>> pos, found = hard_search(torch.tensor([3]), torch.tensor([[3, 1, 3, 3]]),
    ...                          torch.tensor([[True, True, True, False]]), k=3)
    >>> pos.tolist(), found.tolist()
    ([[0, 2, -1]], [[True, True, False]])
    """
    k = check_positive_int(k, "k")
    check_tensor(candidate_category, "candidate_category", 1, kind="int")
    check_tensor(history_category, "history_category", 2, kind="int")
    check_tensor(mask, "mask", 2, kind="bool")
    if mask.shape != history_category.shape or candidate_category.shape[0] != mask.shape[0]:
        raise ValueError(f"history_category and mask must have the same shape (B, L) and "
                         f"candidate_category shape (B,); got {tuple(history_category.shape)}, "
                         f"{tuple(mask.shape)}, {tuple(candidate_category.shape)}")
    return _take_first_k(mask & (history_category == candidate_category.unsqueeze(1)), k)


def soft_search(candidate: torch.Tensor, history: torch.Tensor, mask: torch.Tensor,
                k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The ``k`` real events with the largest ``<candidate, v_j>``, best first, ties to the
    smaller position; -1 padded when fewer than k are real. Same returns as :func:`hard_search`.

    Examples
    --------
    >>> h = torch.tensor([[[1.0, 0.0], [0.0, 1.0], [2.0, 0.0]]])
    >>> soft_search(torch.tensor([[1.0, 0.0]]), h, torch.tensor([[True, True, True]]), k=2)[0]
    tensor([[2, 0]])
    """
    k = check_positive_int(k, "k")
    check_history(history, mask, candidate)
    scores = (history @ candidate.unsqueeze(2)).squeeze(2)                      # (B, L)
    scores = scores.masked_fill(~mask, float("-inf"))
    order = torch.sort(scores, dim=1, descending=True, stable=True).indices[:, :k]  # (B, <=k)
    found = torch.gather(mask, 1, order)
    positions = torch.where(found, order, torch.full_like(order, -1))
    if positions.shape[1] < k:                                                  # L < k
        pad = torch.full((positions.shape[0], k - positions.shape[1]), -1, dtype=torch.long)
        positions = torch.cat([positions, pad], dim=1)
    return positions, positions >= 0


def gather_positions(values: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
    """``values[b, positions[b, j]]`` for values (B, L, ...) and positions (B, k); the rows of
    empty slots (-1) hold ``values[b, 0]`` and must be masked by the caller."""
    index = positions.clamp(min=0)
    if values.ndim == 2:
        return torch.gather(values, 1, index)
    index = index.reshape(*index.shape, *([1] * (values.ndim - 2))).expand(
        -1, -1, *values.shape[2:])                                              # (B, k, ...)
    return torch.gather(values, 1, index)


def time_buckets(hours_ago: torch.Tensor, edges=TIME_EDGES) -> torch.Tensor:
    """Bucket index of Δt (hours) on a log scale: 0 for Δt < edges[0], len(edges) past the last."""
    check_tensor(hours_ago, "hours_ago", hours_ago.ndim)
    return torch.bucketize(hours_ago, torch.tensor(edges, dtype=hours_ago.dtype), right=True)


class SearchBasedInterest(nn.Module):
    """SIM's long-term interest: search the long history, then DIN with Δt on what it found.

    Parameters
    ----------
    dim : int
        d, width of candidate and history embeddings.
    k : int
        K, events kept by the search.
    mode : {"hard", "soft"}
        Same-category search or top-K inner product.
    time_dim : int
        Width of the Δt bucket embedding (0: no time feature).
    hidden : tuple of int
        The activation unit's hidden widths.

    Examples
    --------
    >>> sim = SearchBasedInterest(4, k=2, hidden=(8,))
    >>> out = sim(torch.ones(1, 4), torch.ones(1, 5, 4), torch.ones(1, 5, dtype=torch.bool),
    ...           torch.zeros(1, 5), torch.tensor([0]), torch.tensor([[0, 1, 0, 1, 1]]))
    >>> out.shape
    torch.Size([1, 4])
    """

    def __init__(self, dim: int, k: int = 20, mode: str = "hard", time_dim: int = 4,
                 hidden=(36,)):
        super().__init__()
        if mode not in SEARCH_MODES:
            raise ValueError(f"mode must be one of {SEARCH_MODES}, got {mode!r}")
        self.dim, self.k, self.mode = check_positive_int(dim, "dim"), check_positive_int(k, "k"), mode
        self.time_dim = int(time_dim) if time_dim else 0
        self.time_embedding = nn.Embedding(len(TIME_EDGES) + 1, self.time_dim) if self.time_dim else None
        self.attention = TargetAttention(self.dim, hidden=hidden, kind="din", extra_dim=self.time_dim)

    def search(self, candidate, history, mask, candidate_category=None, history_category=None):
        """Positions (B, K) of the retrieved events and their mask (the general search unit)."""
        if self.mode == "hard":
            if candidate_category is None or history_category is None:
                raise ValueError("hard search needs candidate_category and history_category")
            return hard_search(candidate_category, history_category, mask, self.k)
        return soft_search(candidate.detach(), history.detach(), mask, self.k)

    def attend(self, candidate, retrieved, found, hours_ago) -> torch.Tensor:
        """The exact search unit: DIN with Δt on the retrieved events, (B, d).

        ``retrieved`` (B, K, d), ``found`` (B, K) bool, ``hours_ago`` (B, K) of those events."""
        extra = None
        if self.time_embedding is not None:
            extra = self.time_embedding(time_buckets(hours_ago))                     # (B, K, t)
        return self.attention(candidate, retrieved, found, extra)

    def forward(self, candidate, history, mask, hours_ago, candidate_category=None,
                history_category=None) -> torch.Tensor:
        """Long-term interest (B, d) from a long history (B, L, d), mask (B, L), Δt (B, L)."""
        check_history(history, mask, candidate, self.dim)
        check_tensor(hours_ago, "hours_ago", 2)
        if hours_ago.shape != mask.shape:
            raise ValueError(f"hours_ago must have shape {tuple(mask.shape)}, got {tuple(hours_ago.shape)}")
        positions, found = self.search(candidate, history, mask, candidate_category, history_category)
        return self.attend(candidate, gather_positions(history, positions), found,
                           gather_positions(hours_ago, positions))                 # (B, d)
