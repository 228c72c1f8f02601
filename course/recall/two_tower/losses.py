"""Training objectives of the two-tower model (双塔模型的训练): pointwise, pairwise, listwise.

The note (Part 2, section 2) lists three ways to train; ``a`` is the user vector, ``b+`` a
positive item's vector (正样本), ``b-`` a negative's (负样本), ``s(a, b)`` their cosine or
inner product:

* **Pointwise**: every (user, item) pair is an independent binary example, label 1 for a
  positive, 0 for a negative; binary cross-entropy on ``s / τ``. :func:`pointwise_loss`.
* **Pairwise**: one user, one positive, one negative; push ``s(a, b+)`` above ``s(a, b-)``.
  Triplet hinge loss ``max(0, m + s(a, b-) - s(a, b+))`` (margin ``m``, "usually 1") and
  triplet logistic loss ``log(1 + exp(σ · (s(a, b-) - s(a, b+))))``.
  :func:`triplet_hinge_loss`, :func:`triplet_logistic_loss`.
* **Listwise**: one user, one positive and n negatives; softmax over the n + 1 scores and
  cross-entropy with the positive, ``-log softmax(s / τ)_+``. :func:`listwise_softmax_loss`.
* **In-batch negatives** (batch 内负样本): the listwise loss where the negatives of row i are
  the other rows' positives, so no extra item-tower passes. Batch items are clicked items,
  i.e. drawn ∝ clicks, which over-penalises popular items; the **sampling-bias correction**
  (纠偏) of Yi et al. (RecSys 2019) subtracts ``log p_j`` (the probability that item j is
  drawn into a batch) from each logit. :func:`in_batch_softmax_loss`.

:func:`make_loss_fn` turns any of them into the ``loss_fn(model, batch)`` that the course's one
training loop (:func:`course.training.train`) calls.

References: Huang et al., "Learning Deep Structured Semantic Models for Web Search using
Clickthrough Data", CIKM 2013 (DSSM); Yi et al., "Sampling-Bias-Corrected Neural Modeling for
Large Corpus Item Recommendations", RecSys 2019.
"""
from __future__ import annotations

import math
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F

from course._checks import check_positive_int, check_real, check_tensor

__all__ = ["pointwise_loss", "triplet_hinge_loss", "triplet_logistic_loss", "listwise_softmax_loss",
           "in_batch_softmax_loss", "log_sampling_probability", "make_loss_fn", "OBJECTIVES"]

OBJECTIVES = ("pointwise", "hinge", "logistic", "listwise", "in_batch")


def _check_pair(positive: torch.Tensor, negative: torch.Tensor) -> torch.Tensor:
    """Validate (B,) positive and (B,) or (B, n) negative scores; return negatives as (B, n)."""
    check_tensor(positive, "positive_scores", 1)
    if positive.numel() == 0:
        raise ValueError(f"positive_scores must have shape (B,) with B >= 1, got {tuple(positive.shape)}")
    if not isinstance(negative, torch.Tensor):
        raise TypeError(f"negative_scores must be a torch.Tensor, got {type(negative).__name__}")
    negative = negative.unsqueeze(1) if negative.ndim == 1 else negative
    if negative.ndim != 2 or negative.shape[0] != positive.shape[0] or negative.shape[1] == 0:
        raise ValueError(f"negative_scores must have shape (B,) or (B, n) with B = "
                         f"{positive.shape[0]}, got {tuple(negative.shape)}")
    return negative


def pointwise_loss(positive_scores, negative_scores, temperature: float = 1.0) -> torch.Tensor:
    """Binary cross-entropy, each pair its own example: positives labelled 1, negatives 0.

    ``L = -[Σ_i log σ(s_i+ / τ) + Σ_i Σ_j log(1 - σ(s_ij- / τ))] / (B (1 + n))``

    Cosines live in [-1, 1], so a temperature ``τ < 1`` is needed for σ to approach 0 or 1.

    Parameters
    ----------
    positive_scores : Tensor of shape (B,)
    negative_scores : Tensor of shape (B,) or (B, n)
    temperature : float > 0

    Examples
    --------
    >>> round(pointwise_loss(torch.tensor([0.0]), torch.tensor([0.0])).item(), 4)  # log 2
    0.6931
    """
    negative_scores = _check_pair(positive_scores, negative_scores)
    check_real(temperature, "temperature", low=0, low_open=True)
    # softplus(-x) = -log σ(x) and softplus(x) = -log(1 - σ(x)), without overflow.
    total = F.softplus(-positive_scores / temperature).sum() + F.softplus(negative_scores / temperature).sum()
    return total / (positive_scores.numel() + negative_scores.numel())


def triplet_hinge_loss(positive_scores, negative_scores, margin: float = 1.0) -> torch.Tensor:
    """Triplet hinge loss ``max(0, m + s(a, b-) - s(a, b+))``, averaged over the B·n triplets.

    Zero as soon as the positive beats the negative by at least the margin ``m``.

    Examples
    --------
    >>> loss = triplet_hinge_loss(torch.tensor([0.9, 0.2]), torch.tensor([0.5, 0.4]), margin=0.3)
    >>> round(loss.item(), 4)  # (max(0, 0.3 + 0.5 - 0.9) + max(0, 0.3 + 0.4 - 0.2)) / 2
    0.25
    """
    negative_scores = _check_pair(positive_scores, negative_scores)
    check_real(margin, "margin", low=0)
    return F.relu(margin + negative_scores - positive_scores[:, None]).mean()  # (B, n) -> ()


def triplet_logistic_loss(positive_scores, negative_scores, scale: float = 1.0) -> torch.Tensor:
    """Triplet logistic loss ``log(1 + exp(σ · (s(a, b-) - s(a, b+))))``, averaged over triplets.

    The note writes it with ``σ = 1``; on cosines a larger ``σ`` sharpens it (as ``1/τ``).

    Examples
    --------
    >>> round(triplet_logistic_loss(torch.tensor([0.5]), torch.tensor([0.5])).item(), 4)  # log 2
    0.6931
    """
    negative_scores = _check_pair(positive_scores, negative_scores)
    check_real(scale, "scale", low=0, low_open=True)
    return F.softplus(scale * (negative_scores - positive_scores[:, None])).mean()


def listwise_softmax_loss(positive_scores, negative_scores, temperature: float = 1.0) -> torch.Tensor:
    """Softmax cross-entropy over one positive and n negatives: ``-log softmax(s / τ)_+``.

    ``L = mean_i [ -s_i+ / τ + log(exp(s_i+ / τ) + Σ_j exp(s_ij- / τ)) ]``

    Examples
    --------
    >>> round(listwise_softmax_loss(torch.tensor([1.0]), torch.tensor([[1.0, 1.0, 1.0]])).item(), 4)
    1.3863
    """
    negative_scores = _check_pair(positive_scores, negative_scores)
    check_real(temperature, "temperature", low=0, low_open=True)
    logits = torch.cat([positive_scores[:, None], negative_scores], dim=1) / temperature  # (B, 1 + n)
    return F.cross_entropy(logits, torch.zeros(len(logits), dtype=torch.long))  # the positive is column 0


def in_batch_softmax_loss(user_vectors, item_vectors, log_q=None, temperature: float = 1.0,
                          item_ids=None) -> torch.Tensor:
    """Softmax over the batch's items, with the logQ sampling-bias correction (Yi et al. 2019).

    Row i's positive is item i; the other rows' items are its negatives::

        s_ij = <a_i, b_j> / τ - log p_j        (the correction, when log_q is given)
        L    = -mean_i log( exp(s_ii) / Σ_j exp(s_ij) )

    ``p_j`` is the probability that item j is drawn into a batch. Subtracting ``log p_j`` from
    every logit (the positive's too) undoes the over-penalty of frequent items; a constant
    shift cancels, so equal ``p_j`` give the plain in-batch softmax.

    Parameters
    ----------
    user_vectors, item_vectors : Tensor of shape (B, D)
    log_q : Tensor of shape (B,) or None
        ``log p_j`` of each row's item (see :func:`log_sampling_probability`).
    temperature : float > 0
    item_ids : Tensor of shape (B,) or None
        If given, another row holding the *same* item as row i is not a negative for row i
        (its logit is masked): an "accidental hit", frequent for popular items.

    Examples
    --------
    >>> vectors = torch.eye(3)
    >>> loss = in_batch_softmax_loss(vectors, vectors, temperature=0.1)
    >>> round(loss.item(), 6)  # each user's own item wins by 1 / 0.1 = 10 logits
    9.1e-05
    """
    check_tensor(user_vectors, "user_vectors", 2)
    check_tensor(item_vectors, "item_vectors", 2)
    if user_vectors.shape != item_vectors.shape or len(user_vectors) == 0:
        raise ValueError(f"user_vectors and item_vectors must both have shape (B, D), got "
                         f"{tuple(user_vectors.shape)} and {tuple(item_vectors.shape)}")
    check_real(temperature, "temperature", low=0, low_open=True)
    batch = len(user_vectors)
    logits = user_vectors @ item_vectors.T / temperature  # (B, B): [i, j] = s(user i, item j)
    if log_q is not None:
        if log_q.shape != (batch,):
            raise ValueError(f"log_q must have shape ({batch},), got {tuple(log_q.shape)}")
        logits = logits - log_q[None, :]  # column j corrected by its own item's log p_j
    if item_ids is not None:
        if item_ids.shape != (batch,):
            raise ValueError(f"item_ids must have shape ({batch},), got {tuple(item_ids.shape)}")
        same = item_ids[:, None] == item_ids[None, :]  # (B, B)
        same.fill_diagonal_(False)
        logits = logits.masked_fill(same, -math.inf)
    return F.cross_entropy(logits, torch.arange(batch))  # the positive of row i is column i


def log_sampling_probability(item_counts) -> torch.Tensor:
    """``log p_j`` with ``p_j = c_j / Σ_k c_k``: the chance a batch row holds item j.

    Batches are drawn uniformly from the training (user, item) rows, so an item's sampling
    probability is its share of the rows. Items with no rows never reach a batch; their
    entry uses a count of 1 to stay finite.

    Parameters
    ----------
    item_counts : array-like of shape (n_items,)

    Returns
    -------
    Tensor of shape (n_items,), float32

    Examples
    --------
    >>> log_sampling_probability([1, 3]).exp().tolist()
    [0.25, 0.75]
    """
    counts = np.asarray(item_counts, dtype=np.float64)
    if counts.ndim != 1 or counts.size == 0 or (counts < 0).any() or counts.sum() <= 0:
        raise ValueError("item_counts must be a non-empty 1-D array of counts >= 0 with a positive sum")
    return torch.from_numpy(np.log(np.maximum(counts, 1.0) / counts.sum())).float()


def make_loss_fn(objective: str, user_features, item_features, *,
                 sampler: Callable[[np.ndarray, int], np.ndarray] | None = None,
                 n_negatives: int = 4, temperature: float = 0.1, margin: float = 1.0,
                 scale: float = 1.0, log_q: torch.Tensor | None = None):
    """Build ``loss_fn(model, batch)`` for :func:`course.training.train`.

    ``batch = (user_ids, item_ids)``: the positive pairs (clicks). The model encodes users
    and positives; for every objective but ``"in_batch"``, ``sampler(user_ids, n_negatives)``
    returns negative item ids of shape (B, n) that go through the item tower too.

    Parameters
    ----------
    objective : {"pointwise", "hinge", "logistic", "listwise", "in_batch"}
    user_features, item_features : TowerFeatures
        Feature tables indexed by id (see :mod:`course.recall.two_tower.features`).
    sampler : callable or None
        Negative sampler, e.g. :func:`course.recall.two_tower.negatives.make_negative_sampler`.
    n_negatives : int
    temperature : float
        τ of the pointwise, listwise and in-batch losses.
    margin, scale : float
        m of the hinge loss, σ of the logistic loss.
    log_q : Tensor of shape (n_items,) or None
        For ``"in_batch"``: apply the logQ correction with these log-probabilities.
    """
    if objective not in OBJECTIVES:
        raise ValueError(f"objective must be one of {OBJECTIVES}, got {objective!r}")
    if objective != "in_batch" and sampler is None:
        raise ValueError(f"objective {objective!r} needs a negative sampler")
    if objective != "in_batch":
        check_positive_int(n_negatives, "n_negatives")

    def loss_fn(model, batch):
        user_ids, item_ids = batch[0], batch[1]  # (B,), (B,)
        batch_size = len(user_ids)
        users = model.encode_users(*user_features.rows(user_ids))  # (B, D)
        if objective == "in_batch":
            positives = model.encode_items(*item_features.rows(item_ids))  # (B, D)
            return in_batch_softmax_loss(users, positives, None if log_q is None else log_q[item_ids],
                                         temperature, item_ids)
        negative_ids = torch.from_numpy(sampler(user_ids.numpy(), n_negatives))  # (B, n)
        # One item-tower pass over positives and negatives together, each distinct item once:
        # popular items repeat many times in a batch, so this roughly halves the tower's work.
        distinct, where = torch.unique(torch.cat([item_ids, negative_ids.reshape(-1)]), return_inverse=True)
        # index_select, not [where]: its backward (index_add) sums in a fixed order on CPU, while
        # advanced indexing's accumulates from several threads: runs would differ in the last bits.
        both = model.encode_items(*item_features.rows(distinct)).index_select(0, where)  # (B (1 + n), D)
        positives = both[:batch_size]  # (B, D)
        negatives = both[batch_size:].reshape(batch_size, n_negatives, -1)  # (B, n, D)
        positive_scores = (users * positives).sum(-1)  # (B,)
        negative_scores = torch.einsum("bd,bnd->bn", users, negatives)  # (B, n)
        if objective == "pointwise":
            return pointwise_loss(positive_scores, negative_scores, temperature)
        if objective == "hinge":
            return triplet_hinge_loss(positive_scores, negative_scores, margin)
        if objective == "logistic":
            return triplet_logistic_loss(positive_scores, negative_scores, scale)
        return listwise_softmax_loss(positive_scores, negative_scores, temperature)

    return loss_fn
