"""A content-similarity model for new notes (基于内容的相似度模型), Wang Shusen Part 7, lecture 2.

Raw content embeddings (a CLIP/BERT view of the note) measure "looks alike", not "is liked by
the same people". The lecture's fix: train a small network on content embeddings with a
triplet loss whose positives come from *behaviour* on old notes and transfer it to new notes,
which have content but no behaviour:

- positive pairs: two old notes with enough clicks that ItemCF finds similar (the top neighbour
  of each, in the same subcategory: the lecture also requires the same second-level category);
- negatives: random notes;
- loss: triplet hinge ``max(0, m + cos(z_a, z_-) - cos(z_a, z_+))``, ``z = f(content)``.

:class:`VectorLastNRecall` then recalls, for a user, the new notes whose vectors are closest
on average to the user's LastN notes: with the raw content vectors or with the learned ones.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import torch
import torch.nn.functional as F
from torch import nn

from course._checks import check_array, check_int, check_positive_int, check_real
from course.coldstart.channels import _NewNoteChannel
from course.recall.cf.itemcf import cosine_item_similarity
from course.recall.two_tower.losses import triplet_hinge_loss

__all__ = ["ContentEncoder", "itemcf_positive_pairs", "triplet_loss_fn", "VectorLastNRecall"]


class ContentEncoder(nn.Module):
    """``z = normalize(MLP(content))``: the note's vector for content similarity.

    Examples
    --------
    >>> z = ContentEncoder(4, hidden_dim=8, output_dim=3)(torch.zeros(2, 4))
    >>> tuple(z.shape)
    (2, 3)
    """

    def __init__(self, content_dim: int, hidden_dim: int = 64, output_dim: int = 32):
        super().__init__()
        for name, value in (("content_dim", content_dim), ("hidden_dim", hidden_dim), ("output_dim", output_dim)):
            check_positive_int(value, name)
        self.mlp = nn.Sequential(nn.Linear(content_dim, hidden_dim), nn.ReLU(), nn.Linear(hidden_dim, output_dim))

    def forward(self, content: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.mlp(content), dim=1)


def itemcf_positive_pairs(interactions, min_clicks: int, min_similarity: float = 0.0,
                          groups=None) -> np.ndarray:
    """(n_pairs, 2) anchor and positive: each well-clicked note and its top ItemCF neighbour.

    Only notes with at least ``min_clicks`` clicks (column sums) take part, on both sides; a
    pair needs similarity > ``min_similarity`` and, if ``groups`` is given, the same group.

    Examples
    --------
    >>> R = np.array([[1, 1, 0], [1, 1, 0], [0, 1, 1]])
    >>> itemcf_positive_pairs(R, min_clicks=2).tolist()
    [[0, 1], [1, 0]]
    """
    matrix = sp.csr_matrix(interactions, dtype=np.float64)
    min_clicks = check_positive_int(min_clicks, "min_clicks")
    min_similarity = check_real(min_similarity, "min_similarity", low=0)
    well_clicked = np.asarray(matrix.sum(axis=0)).ravel() >= min_clicks
    keep = sp.diags(well_clicked.astype(float))
    similarity = (keep @ cosine_item_similarity(matrix) @ keep).tocsr()              # (n_items, n_items)
    if groups is not None:
        groups = check_array(groups, 1, "groups", "iu")
        coo = similarity.tocoo()
        same = groups[coo.row] == groups[coo.col]
        similarity = sp.csr_matrix((coo.data[same], (coo.row[same], coo.col[same])), shape=similarity.shape)
    similarity.data[similarity.data <= min_similarity] = 0
    similarity.eliminate_zeros()
    anchors = np.flatnonzero(np.diff(similarity.indptr) > 0)
    dense_rows = similarity[anchors]
    best = np.asarray(dense_rows.argmax(axis=1)).ravel()                              # ties: smaller id
    return np.stack([anchors, best], axis=1).astype(np.int64)


def triplet_loss_fn(content, margin: float = 0.5, seed: int = 0):
    """``loss_fn(model, (anchors, positives))`` for :func:`course.training.train`: one random
    negative per pair (a seeded torch generator, so runs repeat), triplet hinge on cosines."""
    content = torch.tensor(np.array(check_array(content, 2, "content", "f"), dtype=np.float32))  # a copy
    margin = check_real(margin, "margin", low=0)
    generator = torch.Generator().manual_seed(check_int(seed, "seed", minimum=0))

    def loss_fn(model, batch):
        anchors, positives = batch
        negatives = torch.randint(0, len(content), (len(anchors),), generator=generator)
        a, p, n = (model(content[ids]) for ids in (anchors, positives, negatives))   # (B, D) each
        return triplet_hinge_loss((a * p).sum(1), (a * n).sum(1), margin=margin)

    return loss_fn


class VectorLastNRecall(_NewNoteChannel):
    """New notes closest to the user's LastN notes: ``score(u, i) = mean_j <z_j, z_i>``, j in
    LastN(u), with unit vectors z (raw content, or a :class:`ContentEncoder`'s output).

    Examples
    --------
    >>> z = np.array([[1.0, 0.0], [0.0, 1.0], [0.9, 0.1], [0.1, 0.9]])
    >>> channel = VectorLastNRecall(max_age=0).fit(z, [0, 0, 3, 3], np.array([[0, -1]]), day=3)
    >>> channel.recommend([0], k=1)[0].tolist()
    [[2]]
    """

    def __init__(self, max_age: int = 3):
        self.max_age = max_age

    def fit(self, item_vectors, publish_day, last_items, day: int) -> "VectorLastNRecall":
        vectors = check_array(item_vectors, 2, "item_vectors", "f").astype(np.float64)
        last = check_array(last_items, 2, "last_items", "iu").astype(np.int64)
        if len(vectors) != len(np.asarray(publish_day)):
            raise ValueError(f"item_vectors has {len(vectors)} rows, publish_day {len(np.asarray(publish_day))}")
        if last.size and last.max() >= len(vectors):
            raise ValueError(f"last_items holds unknown note ids (>= {len(vectors)})")
        self._set_pool(publish_day, day)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        unit = vectors / np.where(norms > 0, norms, 1.0)
        has = last >= 0
        summed = (unit[np.maximum(last, 0)] * has[:, :, None]).sum(axis=1)           # (n_users, D)
        self.profile_ = summed / np.maximum(has.sum(axis=1), 1)[:, None]
        self.has_history_ = has.any(axis=1)
        self.pool_vectors_ = unit[self.pool_]                                         # (m, D)
        self.n_users_ = len(last)
        return self

    def _scores(self, users):
        scores = self.profile_[users] @ self.pool_vectors_.T                         # (B, m)
        return scores, np.broadcast_to(self.has_history_[users][:, None], scores.shape)
