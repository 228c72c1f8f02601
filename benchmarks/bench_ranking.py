"""Benchmark: the cost claims of chapters 3 and 4 (FM's O(kn) identity, pre-ranking's three towers).

- **FM second-order term** (notebook 04a): :func:`course.crossing.fm_interaction`, the identity
  ``½ Σ_k [(Σ_f v_fk)² − Σ_f v_fk²]`` (O(kn) per row), against the definition as a learner
  writes it in torch, a Python loop over the n(n−1)/2 field pairs with each pair's inner product
  vectorised over the batch (O(kn²)), and against all pairs at once (one batched ``V Vᵀ``, its
  upper triangle summed: vectorised, but still O(kn²) work). Batch 4096, k = 16, n = 40 and 100
  fields, float32. Both sides must agree to 1e-5 of the largest |value| before a ratio is
  reported; the note gives the largest difference and ``fm_cost``'s multiply-add ratio.
- **Pre-ranking** (notebook 03e): one request for one user, the candidates' features embedded
  (every field, as in the notebook's timing cell), scored by the shared-bottom ranker's full
  forward pass against the three-tower pre-ranker served as in the lecture: the user tower
  once, the item tower's vectors read from a cache computed before the request, the cross tower
  and the upper network per candidate. 500 and 5,000 candidates. The two are different models
  by design and untrained here (seeded: speed does not depend on training), so no order
  agreement is claimed (the notebook measures it on the trained models); the note gives the
  multiply-adds of ``request_cost``. Another row times the pre-ranker's own forward pass (every
  tower on every candidate) against the served path: there the outputs must agree to 1e-5,
  which checks the cache path. A third times the two networks alone, on fields embedded
  before the clock starts: how much of a request the embedding lookups take, which multiply-add
  counts leave out. Even then the measured ratio stays well below the multiply-add ratio (56x):
  the pre-ranker's per-candidate layers (512 and 2,336 multiply-adds) are too small for the
  matrix products to dominate; gathering the cross fields out of the stack, the cache lookup
  and the concatenation cost about as much (measured once with the same models: 0.08 ms of
  the 0.2 ms at 500 candidates).

The feature stack is a synthetic stand-in with the notebook's shapes: 59 fields of width 8
(user tower 19: 6 categorical + 13 numeric; item tower 32: 5 + 27; cross tower 8: 2 + 6), the
notebook's layer widths, so the multiply-adds are the notebook's (checked).

Run ``python -m benchmarks.bench_ranking`` (add ``--quick`` for small sizes).
"""
from __future__ import annotations

import sys

import numpy as np
import torch

from benchmarks.timing import best_time, one_torch_thread, result_row
from course.crossing import fm_cost, fm_interaction
from course.features import FeatureEmbedding, FeatureModel
from course.ranking import SharedBottom, ThreeTower, request_cost
from course.seed import private_torch_rng

# 03e's shapes: cardinalities of the categorical fields, numeric fields per tower, layer widths
DIM = 8
USER_CARDS, ITEM_CARDS, CROSS_CARDS = (5000, 3, 6, 30, 2, 24), (8286, 600, 12, 48, 2), (2, 2)
USER_NUMERIC, ITEM_NUMERIC, CROSS_NUMERIC = 13, 27, 6
RANKER_HIDDEN = (256, 128, 64)
USER_HIDDEN, ITEM_HIDDEN, CROSS_HIDDEN, UPPER_HIDDEN = (64, 32), (64, 32), (8,), (32,)


# ---------------------------------------------------------------------------------------- FM

def fm_pair_loop(embeddings: torch.Tensor) -> torch.Tensor:
    """Σ_{f<g} <v_f, v_g> per row by the definition: a loop over pairs, each over the batch."""
    n_fields = embeddings.shape[1]
    out = torch.zeros(embeddings.shape[0], dtype=embeddings.dtype)
    for f in range(n_fields):
        for g in range(f + 1, n_fields):
            out += (embeddings[:, f] * embeddings[:, g]).sum(dim=1)               # (B,)
    return out


def fm_all_pairs(embeddings: torch.Tensor) -> torch.Tensor:
    """Every pair at once: the (B, n, n) Gram matrix, its strict upper triangle summed."""
    gram = embeddings @ embeddings.transpose(1, 2)                               # (B, n, n)
    upper = torch.triu(torch.ones(gram.shape[1], gram.shape[2], dtype=torch.bool), diagonal=1)
    return gram[:, upper].sum(dim=1)                                             # (B,)


def fm_rows(batch: int, n_fields: int, k: int, seed: int = 0) -> list[dict]:
    v = torch.randn(batch, n_fields, k, generator=torch.Generator().manual_seed(seed))
    case = f"batch {batch}, n={n_fields} fields, k={k}, float32"
    contender, contender_seconds = best_time(lambda: fm_interaction(v), repeats=20)
    cost = fm_cost(n_fields, k)
    rows = []
    for name, baseline, repeats in (("pair loop in torch (per pair over the batch)", fm_pair_loop, 3),
                                    ("all pairs at once (batched V Vᵀ, upper triangle)", fm_all_pairs, 5)):
        expected, seconds = best_time(lambda: baseline(v), repeats)
        scale = float(expected.abs().max())
        difference = float((expected - contender).abs().max())
        if difference > 1e-5 * scale:
            raise AssertionError(f"FM {case}: {name} and fm_interaction differ by {difference:.2e} "
                                 f"(largest |value| {scale:.1f})")
        rows.append(result_row("FM pair term", case, name, "fm_interaction (O(kn) identity)", seconds,
                               contender_seconds,
                               f"same values: max |difference| {difference:.1e} (largest |value| {scale:.0f}); "
                               f"multiply-adds {cost['naive'] / cost['identity']:.1f}x fewer (fm_cost)"))
    return rows


# -------------------------------------------------------------------------------- pre-ranking

def _tower_fields() -> dict[str, list[int]]:
    """Field indices of the (B, F, D) stack, categorical fields first, then numeric."""
    n_cat = len(USER_CARDS) + len(ITEM_CARDS) + len(CROSS_CARDS)
    cat = np.cumsum([0, len(USER_CARDS), len(ITEM_CARDS), len(CROSS_CARDS)])
    num = n_cat + np.cumsum([0, USER_NUMERIC, ITEM_NUMERIC, CROSS_NUMERIC])
    return {tower: list(range(cat[t], cat[t + 1])) + list(range(num[t], num[t + 1]))
            for t, tower in enumerate(("user", "item", "cross"))}


@private_torch_rng
def preranking_models(seed: int = 0):
    """The ranker and the pre-ranker of notebook 03e, untrained, each with its own embedding."""
    cards = USER_CARDS + ITEM_CARDS + CROSS_CARDS
    n_numeric = USER_NUMERIC + ITEM_NUMERIC + CROSS_NUMERIC
    towers = _tower_fields()
    torch.manual_seed(seed)
    ranker_embedding = FeatureEmbedding(cards, n_numeric=n_numeric, dim=DIM)
    ranker = FeatureModel(ranker_embedding, SharedBottom(ranker_embedding.output_dim, hidden=RANKER_HIDDEN,
                                                         tasks=("click",)))
    torch.manual_seed(seed)
    three_tower = ThreeTower(DIM, towers["user"], towers["item"], towers["cross"], user_hidden=USER_HIDDEN,
                             item_hidden=ITEM_HIDDEN, cross_hidden=CROSS_HIDDEN, upper_hidden=UPPER_HIDDEN)
    pre_ranker = FeatureModel(FeatureEmbedding(cards, n_numeric=n_numeric, dim=DIM), three_tower, flatten=False)
    return ranker, pre_ranker


def catalogue(seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Every item's fields: categorical (n_items, 5), item_id first, and numeric (n_items, 27)."""
    rng = np.random.default_rng(seed)
    n_items = ITEM_CARDS[0]
    categorical = np.column_stack([np.arange(n_items)] + [rng.integers(c, size=n_items) for c in ITEM_CARDS[1:]])
    return categorical.astype(np.int64), rng.normal(size=(n_items, ITEM_NUMERIC)).astype(np.float32)


def request(n_candidates: int, seed: int = 0):
    """One user's request: (categorical, numeric) of its candidates, fields in the stack's order.

    The user's fields are equal on every row; each candidate's item fields are its catalogue
    row (what the cache was computed from); the cross fields vary by candidate."""
    rng = np.random.default_rng(seed)
    item_cat, item_num = catalogue()
    items = rng.choice(ITEM_CARDS[0], n_candidates, replace=False)
    user_cat = np.tile([rng.integers(c) for c in USER_CARDS], (n_candidates, 1))
    cross_cat = np.column_stack([rng.integers(c, size=n_candidates) for c in CROSS_CARDS])
    user_num = np.tile(rng.normal(size=USER_NUMERIC), (n_candidates, 1))
    cross_num = rng.normal(size=(n_candidates, CROSS_NUMERIC))
    categorical = np.hstack([user_cat, item_cat[items], cross_cat]).astype(np.int64)
    numeric = np.hstack([user_num, item_num[items], cross_num]).astype(np.float32)
    return torch.from_numpy(categorical), torch.from_numpy(numeric)


def item_cache(pre_ranker: FeatureModel) -> torch.Tensor:
    """Every item's tower vector (n_items, 32), computed before the request. The user and cross
    fields of these rows are zeros: the item tower does not read them."""
    item_cat, item_num = catalogue()
    n_items = len(item_cat)
    categorical = np.zeros((n_items, len(USER_CARDS + ITEM_CARDS + CROSS_CARDS)), dtype=np.int64)
    categorical[:, len(USER_CARDS):len(USER_CARDS) + len(ITEM_CARDS)] = item_cat
    numeric = np.zeros((n_items, USER_NUMERIC + ITEM_NUMERIC + CROSS_NUMERIC), dtype=np.float32)
    numeric[:, USER_NUMERIC:USER_NUMERIC + ITEM_NUMERIC] = item_num
    with torch.no_grad():
        fields = pre_ranker.embedding(torch.from_numpy(categorical), torch.from_numpy(numeric))  # (I, F, D)
        return pre_ranker.model.item_vector(fields)                                             # (I, 32)


def preranking_rows(n_candidates: int, seed: int = 0) -> list[dict]:
    ranker, pre_ranker = preranking_models(seed)
    tower, embed = pre_ranker.model, pre_ranker.embedding
    pre_cost = request_cost(tower, n_candidates).loc["total", "multiply-adds"]
    rank_cost = request_cost(ranker.model, n_candidates).loc["total", "multiply-adds"]
    if n_candidates == 500 and (pre_cost, rank_cost) != (1_435_776, 80_928_000):   # 03e's printed counts
        raise AssertionError(f"not 03e's shapes: multiply-adds {pre_cost:,} and {rank_cost:,}")
    cache = item_cache(pre_ranker)
    batch = request(n_candidates, seed)
    item_ids = batch[0][:, len(USER_CARDS)]

    def served():
        fields = embed(*batch)                                        # (N, F, D)
        return tower.combine(tower.user_vector(fields[:1]), cache[item_ids], tower.cross_vector(fields))

    with torch.no_grad():
        full, full_seconds = best_time(lambda: pre_ranker(*batch), 20)
        fast, fast_seconds = best_time(served, 20)
        _, ranker_seconds = best_time(lambda: ranker(*batch), 20)
        fields, ranker_fields = embed(*batch), ranker.embedding(*batch).flatten(1)     # (N, F, D), (N, F·D)
        _, towers_seconds = best_time(lambda: tower.combine(tower.user_vector(fields[:1]), cache[item_ids],
                                                            tower.cross_vector(fields)), 20)
        _, mlp_seconds = best_time(lambda: ranker.model(ranker_fields), 20)
    difference = float((full - fast).abs().max())
    if difference > 1e-5:
        raise AssertionError(f"pre-ranker: cached path differs from its forward pass by {difference:.2e}")
    case = f"one request, {n_candidates:,} candidates, 03e's shapes (59 fields, D=8)"
    return [result_row("pre-ranking", case, "shared-bottom ranker, full forward per candidate",
                       "three towers: user once, item vectors cached", ranker_seconds, fast_seconds,
                       f"different models by design (untrained, seeded; no order agreement claimed); "
                       f"multiply-adds {rank_cost:,} vs {pre_cost:,} ({rank_cost / pre_cost:.1f}x); "
                       f"both embed every field of every candidate"),
            result_row("pre-ranking", case + ", fields already embedded", "shared-bottom MLP per candidate",
                       "user tower once, cached item vectors, cross tower + upper network", mlp_seconds,
                       towers_seconds, f"different models by design; the networks alone, without the "
                       f"embedding lookups of the row above ({rank_cost / pre_cost:.1f}x fewer multiply-adds): "
                       f"the pre-ranker's per-candidate layers are so small that gathering the cross fields, "
                       f"the cache lookup and the concatenation cost about as much as its matrix products"),
            result_row("pre-ranking", case, "three towers, every tower on every candidate",
                       "three towers: user once, item vectors cached", full_seconds, fast_seconds,
                       f"same logits: max |difference| {difference:.1e}")]


def run(quick: bool = False) -> list[dict]:
    """The rows of RESULTS.md; ``quick=True``: small sizes (about a second)."""
    with one_torch_thread():                     # one thread for everyone, whatever the caller set
        if quick:
            return fm_rows(256, 10, 8) + preranking_rows(50)
        return (fm_rows(4096, 40, 16) + fm_rows(4096, 100, 16)
                + preranking_rows(500) + preranking_rows(5000))


if __name__ == "__main__":
    import pandas as pd
    print(pd.DataFrame(run(quick="--quick" in sys.argv)).to_string(index=False))
