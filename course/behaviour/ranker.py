"""A small click ranker (精排) with a pluggable behaviour-sequence block, for the chapter 5
experiments: the same ranker with no history, the LastN mean, DIN (or its softmax variant) or
DIN on the recent history plus SIM on the long one, so that only the pooling differs.

Item representation in the sequence: ``x_i = item_embedding[i] + category_embedding[c_i]`` (d
wide), or the category embedding alone (``item_ids_in_sequence=False``: fewer parameters to
learn from short histories), shared by the candidate and the history as in DIN (the paper
shares goods-id and category embeddings between the ad and the behaviours). User interest u
(one or two d-vectors), then an MLP on ``[item_embedding[cand], user_embedding, x_cand, u,
x_cand ⊙ u]`` → the click logit. With ``features`` (the shared feature builder's
:class:`course.features.FeatureEmbedding`), the flattened field vectors of every other feature
(profile, context, windowed statistics) join the MLP's input: the chapter 3 ranker with a
behaviour-sequence block added.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from course._checks import check_positive_int
from course.behaviour._tensors import check_tensor
from course.behaviour.din import TargetAttention
from course.behaviour.lastn import lastn_mean
from course.behaviour.sim import SearchBasedInterest, gather_positions, hard_search, soft_search

__all__ = ["BehaviourRanker", "POOLINGS"]

POOLINGS = ("none", "mean", "din", "softmax", "sim")


class BehaviourRanker(nn.Module):
    """Click logit from (user, candidate, history) with ``pooling`` as the only variable part.

    Parameters
    ----------
    item_category : array of int, shape (n_items,)
        Category id of every item (a buffer: the model looks categories up itself).
    n_users : int
        Users with an id embedding (0 disables it: the history is the only user feature).
    dim : int
        d.
    pooling : {"none", "mean", "din", "softmax", "sim"}
        How the history becomes the user's interest. ``"sim"``: DIN on the ``short`` most
        recent events (short-term interest) and SIM's hard or soft search + DIN with Δt on the
        whole history (long-term interest), two separate features.
    hidden : tuple of int
        The MLP's hidden widths.
    attention_hidden : tuple of int
        The activation unit's hidden widths.
    short, k, search : int, int, str
        For ``"sim"``: recent events in the short-term block, K retrieved, ``"hard"`` or ``"soft"``.
    item_ids_in_sequence : bool
        Represent sequence items (and the candidate, for the attention) by item + category
        embeddings (True) or by their category embedding alone (False).
    features : nn.Module or None
        Maps ``(categorical, numeric)`` to field vectors (B, F, D'), e.g.
        ``course.features.FeatureEmbedding``; then ``forward`` needs those two tensors.

    Examples
    --------
    >>> m = BehaviourRanker(np.array([0, 1, 1]), n_users=2, dim=4, pooling="din")
    >>> m(torch.tensor([0]), torch.tensor([2]), torch.tensor([[1, -1]]),
    ...   torch.tensor([[True, False]])).shape
    torch.Size([1])
    """

    def __init__(self, item_category, n_users: int, dim: int = 16, pooling: str = "din",
                 hidden=(64,), attention_hidden=(36,), short: int = 20, k: int = 20,
                 search: str = "hard", item_ids_in_sequence: bool = True, features=None):
        super().__init__()
        if pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {POOLINGS}, got {pooling!r}")
        item_category = np.asarray(item_category)
        if item_category.ndim != 1 or not np.issubdtype(item_category.dtype, np.integer):
            raise TypeError("item_category must be a 1-D integer array")
        self.pooling, self.dim = pooling, check_positive_int(dim, "dim")
        self.item_ids_in_sequence = bool(item_ids_in_sequence)
        self.pair_table = True      # set False to run the generic DIN path (same numbers)
        self.register_buffer("item_category", torch.tensor(item_category, dtype=torch.long))
        self.item_embedding = nn.Embedding(len(item_category), dim)
        self.category_embedding = nn.Embedding(int(item_category.max()) + 1, dim)
        self.user_embedding = nn.Embedding(n_users, dim) if n_users else None
        self.short = check_positive_int(short, "short")
        if pooling in ("din", "softmax"):
            self.attention = TargetAttention(dim, attention_hidden, kind=pooling)
        if pooling == "sim":
            self.attention = TargetAttention(dim, attention_hidden, kind="din")
            self.long_term = SearchBasedInterest(dim, k=k, mode=search, hidden=attention_hidden)
        n_interest = {"none": 0, "sim": 2}.get(pooling, 1)
        self.features = features
        width = dim * (2 + (n_users > 0) + 2 * n_interest)
        if features is not None:
            width += features.n_fields * features.dim
        layers = []
        for h in hidden:
            layers += [nn.Linear(width, h), nn.ReLU()]
            width = h
        self.mlp = nn.Sequential(*layers, nn.Linear(width, 1))
        for emb in (self.item_embedding, self.category_embedding):
            nn.init.normal_(emb.weight, std=0.1)

    def represent(self, items: torch.Tensor) -> torch.Tensor:
        """x = (item embedding +) category embedding, shape ``items.shape + (d,)``; -1 → item 0."""
        items = items.clamp(min=0)
        x = self.category_embedding(self.item_category[items])
        return x + self.item_embedding(items) if self.item_ids_in_sequence else x

    def interest(self, candidate_items, history_items, mask, hours_ago=None) -> list[torch.Tensor]:
        """The user-interest features, each (B, d) (none, one, or short- and long-term)."""
        if self.pooling == "none":
            return []
        if self.pooling == "sim":                  # only the short window is embedded whole
            history_items, long_items, long_mask = history_items[:, :self.short], history_items, mask
            mask = mask[:, :self.short]
        e, h = self.represent(candidate_items), self.represent(history_items)      # (B,d) (B,N,d)
        if self.pooling == "mean":
            return [lastn_mean(h, mask)]
        if self.pooling == "din" and not self.item_ids_in_sequence and self.pair_table:
            return [self._din_by_category_pairs(candidate_items, history_items, mask)]
        if self.pooling in ("din", "softmax"):
            return [self.attention(e, h, mask)]
        if hours_ago is None:
            raise ValueError("pooling='sim' needs hours_ago (the time since each event)")
        short = self.attention(e, h, mask)                                            # recent
        return [short, self._long_term(e, candidate_items, long_items, long_mask, hours_ago)]

    def _long_term(self, e, candidate_items, history_items, mask, hours_ago) -> torch.Tensor:
        """SIM: search first, then embed and attend to the K retrieved events only, so the
        cost of the long history is the search (categories, or detached inner products), not
        the activation unit. Same numbers as ``self.long_term(e, represent(history), …)``."""
        if self.long_term.mode == "hard":
            positions, found = hard_search(self.item_category[candidate_items],
                                           self.item_category[history_items.clamp(min=0)], mask,
                                           self.long_term.k)
        else:
            with torch.no_grad():
                positions, found = soft_search(e, self.represent(history_items), mask, self.long_term.k)
        retrieved = self.represent(gather_positions(history_items, positions))        # (B, K, d)
        return self.long_term.attend(e, retrieved, found, gather_positions(hours_ago, positions))

    def _din_by_category_pairs(self, candidate_items, history_items, mask) -> torch.Tensor:
        """DIN when the sequence is represented by categories alone: the activation unit only
        ever sees C × C distinct (candidate category, event category) pairs, so it runs once per
        pair (C² rows instead of B·N) and each row looks its weights up. Same numbers as
        ``self.attention(e, h, mask)`` (tested), far less work for C = 48 and B·N = 40 000."""
        table = self.category_embedding.weight                                    # (C, d)
        c = table.shape[0]
        every = torch.ones(c, c, dtype=torch.bool)
        pair_w = self.attention.weights(table, table.unsqueeze(0).expand(c, -1, -1), every)  # (C, C)
        cand = self.item_category[candidate_items]                                # (B,)
        hist = self.item_category[history_items.clamp(min=0)]                     # (B, N)
        w = torch.where(mask, pair_w[cand.unsqueeze(1), hist], torch.zeros(()))   # (B, N)
        return (w.unsqueeze(2) * self.represent(history_items)).sum(dim=1)        # (B, d)

    def forward(self, user_ids, item_ids, history_items, mask, hours_ago=None, categorical=None,
                numeric=None) -> torch.Tensor:
        """Click logits of shape (B,): user_ids, item_ids (B,); history_items, mask, hours_ago
        (B, N); categorical, numeric: the feature set's rows when the ranker has ``features``."""
        check_tensor(item_ids, "item_ids", 1, kind="int")
        check_tensor(history_items, "history_items", 2, kind="int")
        e = self.represent(item_ids)
        parts = [self.item_embedding(item_ids), e]
        if self.user_embedding is not None:
            parts.append(self.user_embedding(user_ids))
        if self.features is not None:
            if categorical is None or numeric is None:
                raise ValueError("this ranker has features: pass categorical and numeric")
            parts.append(self.features(categorical, numeric).flatten(1))           # (B, F·D')
        for u in self.interest(item_ids, history_items, mask, hours_ago):
            parts += [u, e * u]
        return self.mlp(torch.cat(parts, dim=1)).squeeze(1)
