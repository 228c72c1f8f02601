"""Benchmark: the cost claims of chapter 5 (DIN's target attention, SIM on long histories).

- **SIM vs DIN per request** (notebook 05b, the cell that times ``per_request_ms``): one user,
  100 candidates, a history of L = 1,000 events. Plain DIN (:class:`course.behaviour.
  BehaviourRanker` with ``pooling="din"``) runs its activation unit on every (candidate, event)
  pair, 100 × 1,000; SIM (``pooling="sim"``) runs DIN on the 20 most recent events (the
  short-term interest) plus a search over all 1,000 (hard: the candidate's subcategory, most
  recent first; soft: the top K by inner product) and DIN with Δt on the K = 20 retrieved
  events, 100 × 40 pairs. The notebook's ranker: d = 8, subcategory embeddings in the sequence,
  hidden (32,), activation unit (16,), the generic DIN path (``pair_table=False``, as the
  notebook times it). Untrained, seeded models: speed does not depend on training. The outputs
  differ by design (SIM attends to 40 events, DIN to 1,000), so no equality is claimed; what is
  checked is that each search returns exactly what a plain Python filter (hard) or a numpy
  sort of the inner products (soft) returns for every candidate of the request.
- **DIN by category pairs** (05a): with the sequence represented by subcategory embeddings
  alone, DIN's activation unit only ever sees 48 × 48 (candidate, event) category pairs, so
  :class:`BehaviourRanker` runs it once per pair and looks each row's weights up
  (``pair_table=True``). Timed on a batch of 4,096 impressions with N = 10 (05a's N) against
  the direct computation (same logits to 1e-6, checked) and against the LastN mean ranker
  (05a's "at the cost of the mean"; different models by design). Forward passes only.
- **Target attention, batched vs a loop** (``TargetAttention``, 05a): DIN's weighted sum over
  the batch at once against a per-example Python loop over the same activation unit, on only
  each example's real events (batch 512, N = 50, d = 16, histories of 0 to 50 real events).
  Same outputs to 1e-6 of the largest |value| in float32 (float32 rounds values near 12 to
  about 1e-6) and to 1e-12 in float64 (checked).

Synthetic data: 1,000 items in 48 subcategories (the notebook's catalogue slice and the world's
subcategory count), events drawn uniformly (about 21 of the candidate's subcategory among
1,000, against 44.3 in the notebook's interest-driven histories: the search cost is the same, it
scans all L events either way).

Run ``python -m benchmarks.bench_behaviour`` (add ``--quick`` for small sizes).
"""
from __future__ import annotations

import copy
import sys

import numpy as np
import torch

from benchmarks.timing import best_time, one_torch_thread, result_row
from course.behaviour import BehaviourRanker, TargetAttention, hard_search, soft_search
from course.seed import private_torch_rng

N_ITEMS, N_CATEGORIES = 1000, 48
DIM, K, SHORT = 8, 20, 20
RANKER = {"n_users": 0, "dim": DIM, "hidden": (32,), "attention_hidden": (16,), "item_ids_in_sequence": False}


# ---------------------------------------------------------------------------- SIM vs DIN

def one_request(n_candidates: int, length: int, seed: int = 0):
    """Category of every item, and the ranker's inputs for one user: (user_ids, item_ids,
    history (C, L), mask (C, L), hours_ago (C, L)), the history most recent first."""
    rng = np.random.default_rng(seed)
    category = rng.integers(N_CATEGORIES, size=N_ITEMS)
    history = rng.integers(N_ITEMS, size=length)
    hours = np.sort(rng.uniform(0, 24 * 25, size=length)).astype(np.float32)
    candidates = rng.choice(N_ITEMS, n_candidates, replace=False)
    repeat = lambda row: torch.as_tensor(np.tile(row, (n_candidates, 1)))       # noqa: E731  (C, L)
    batch = (torch.zeros(n_candidates, dtype=torch.long), torch.as_tensor(candidates), repeat(history),
             torch.ones(n_candidates, length, dtype=torch.bool), repeat(hours))
    return category, batch


@private_torch_rng
def ranker(category, pooling: str, seed: int = 0, **options) -> BehaviourRanker:
    torch.manual_seed(seed)
    model = BehaviourRanker(category, pooling=pooling, **RANKER, **options).eval()
    model.pair_table = False                     # the generic DIN path, as 05b times it
    return model


def check_searches(model: BehaviourRanker, category, batch) -> None:
    """The request's searches against plain filters, candidate by candidate."""
    _, items, history, mask, _ = batch
    history_np, cand_np = history[0].numpy(), items.numpy()
    if model.long_term.mode == "hard":
        positions, _ = hard_search(model.item_category[items], model.item_category[history], mask, K)
        for c, row in zip(cand_np, positions.tolist()):
            same = [j for j, item in enumerate(history_np) if category[item] == category[c]][:K]
            if row != same + [-1] * (K - len(same)):
                raise AssertionError(f"hard search of candidate {c}: {row[:5]}..., filter {same[:5]}...")
        return
    with torch.no_grad():
        positions, _ = soft_search(model.represent(items), model.represent(history), mask, K)
        table = model.category_embedding.weight.double().numpy()                     # (C, d)
    scores = table[category[cand_np]] @ table[category[history_np]].T                # (B, L) in float64
    expected = np.argsort(-scores, axis=1, kind="stable")[:, :K]
    if not np.array_equal(positions.numpy(), expected):
        raise AssertionError("soft search differs from a numpy sort of the inner products")


def sim_rows(n_candidates: int, length: int, repeats: int) -> list[dict]:
    category, batch = one_request(n_candidates, length)
    din = ranker(category, "din")
    with torch.no_grad():
        _, din_seconds = best_time(lambda: din(*batch[:4]), repeats)
    case = f"one request, {n_candidates} candidates, history L={length:,}, K={K}, short={SHORT}"
    rows = []
    for search in ("hard", "soft"):
        sim = ranker(category, "sim", k=K, short=SHORT, search=search)
        check_searches(sim, category, batch)
        with torch.no_grad():
            _, sim_seconds = best_time(lambda: sim(*batch), repeats)
        rows.append(result_row("SIM vs DIN", case, f"DIN on all {length:,} events",
                               f"SIM {search} search + DIN on {K} (and DIN on the last {SHORT})",
                               din_seconds, sim_seconds,
                               f"different models by design (DIN attends to {length:,} events, SIM to "
                               f"{K + SHORT}); activation-unit pairs {n_candidates * length:,} vs "
                               f"{n_candidates * (K + SHORT):,}; the {search} search checked against "
                               f"{'a Python filter' if search == 'hard' else 'a numpy sort'} for every candidate"))
    return rows


# ---------------------------------------------------------- DIN by category pairs (05a)

def pair_table_rows(batch: int, length: int, seed: int = 0) -> list[dict]:
    """05a's ranker on a batch of impressions: DIN computed directly against DIN by the C × C
    table of (candidate category, event category) weights, and against the LastN mean."""
    rng = np.random.default_rng(seed)
    category = rng.integers(N_CATEGORIES, size=N_ITEMS)
    lengths = rng.integers(0, length + 1, size=batch)
    inputs = (torch.zeros(batch, dtype=torch.long), torch.as_tensor(rng.integers(N_ITEMS, size=batch)),
              torch.as_tensor(rng.integers(N_ITEMS, size=(batch, length))),
              torch.as_tensor(np.arange(length)[None, :] < lengths[:, None]))            # (B,), (B,), (B, N) x2
    din, mean = ranker(category, "din"), ranker(category, "mean")
    with torch.no_grad():
        direct, direct_seconds = best_time(lambda: din(*inputs), 20)
        din.pair_table = True
        table, table_seconds = best_time(lambda: din(*inputs), 20)
        _, mean_seconds = best_time(lambda: mean(*inputs), 20)
    difference = float((direct - table).abs().max())
    if difference > 1e-6:
        raise AssertionError(f"DIN by category pairs differs from DIN computed directly by {difference:.2e}")
    case = f"05a's ranker, batch {batch}, N={length} (0-{length} real), {N_CATEGORIES} categories, d={DIM}"
    return [result_row("DIN by category pairs", case, "DIN computed directly (B·N unit rows)",
                       f"DIN by the {N_CATEGORIES}x{N_CATEGORIES} pair table (pair_table=True)",
                       direct_seconds, table_seconds, f"same logits: max |difference| {difference:.1e}"),
            result_row("DIN by category pairs", case, "LastN mean (pooling='mean')",
                       f"DIN by the {N_CATEGORIES}x{N_CATEGORIES} pair table (pair_table=True)",
                       mean_seconds, table_seconds,
                       "different models by design: the cost of DIN against the mean's (below 1: DIN is slower)")]


# ------------------------------------------------------------------- target attention

def attention_loop(attention: TargetAttention, candidate, history, mask) -> torch.Tensor:
    """DIN's u(e) = Σ_j w_j v_j one example at a time, on its real events only."""
    out = []
    for e, h, m in zip(candidate, history, mask):
        h = h[m]                                                                   # (n_b, d)
        e = e.expand_as(h)                                                         # (n_b, d)
        w = attention.unit(torch.cat([e, h, e - h, e * h], dim=1)).squeeze(1)      # (n_b,)
        out.append((w.unsqueeze(1) * h).sum(dim=0))                                # (d,)
    return torch.stack(out)


@private_torch_rng
def seeded_attention(dim: int, seed: int = 0) -> TargetAttention:
    torch.manual_seed(seed)
    return TargetAttention(dim, hidden=(36,))


def attention_rows(batch: int, length: int, dim: int, seed: int = 0) -> list[dict]:
    generator = torch.Generator().manual_seed(seed)
    candidate = torch.randn(batch, dim, generator=generator)
    history = torch.randn(batch, length, dim, generator=generator)
    lengths = torch.randint(0, length + 1, (batch,), generator=generator)
    mask = torch.arange(length).unsqueeze(0) < lengths.unsqueeze(1)                 # (B, N)
    attention = seeded_attention(dim, seed)
    with torch.no_grad():
        expected, loop_seconds = best_time(lambda: attention_loop(attention, candidate, history, mask), 3)
        pooled, batched_seconds = best_time(lambda: attention(candidate, history, mask), 20)
    scale = float(expected.abs().max())
    difference = float((expected - pooled).abs().max())
    exact = copy.deepcopy(attention).double()            # float64: the loop's sums are the same sums
    with torch.no_grad():
        difference64 = float((attention_loop(exact, candidate.double(), history.double(), mask)
                              - exact(candidate.double(), history.double(), mask)).abs().max())
    if difference > 1e-6 * scale or difference64 > 1e-12 * scale:
        raise AssertionError(f"TargetAttention and the loop differ by {difference:.2e} (float32), "
                             f"{difference64:.2e} (float64); largest |value| {scale:.1f}")
    return [result_row("DIN target attention", f"batch {batch}, N={length}, d={dim}, 0-{length} real events",
                       "per-example Python loop (real events only)", "TargetAttention (batched, masked)",
                       loop_seconds, batched_seconds,
                       f"same outputs to 1e-6 of the largest |value| ({scale:.0f}): max |difference| "
                       f"{difference:.1e} in float32 (timed), {difference64:.0e} in float64")]


def run(quick: bool = False) -> list[dict]:
    """The rows of RESULTS.md; ``quick=True``: small sizes (about a second)."""
    with one_torch_thread():                     # one thread for everyone, whatever the caller set
        if quick:
            return sim_rows(10, 200, repeats=2) + pair_table_rows(64, 10) + attention_rows(32, 10, 8)
        return sim_rows(100, 1000, repeats=20) + pair_table_rows(4096, 10) + attention_rows(512, 50, 16)


if __name__ == "__main__":
    import pandas as pd
    print(pd.DataFrame(run(quick="--quick" in sys.argv)).to_string(index=False))
