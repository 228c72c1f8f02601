"""Exercises of notebooks 02a–02e (recall): collaborative filtering, two towers, serving,
channels and exposure filtering, an ensemble of two towers.

The references are written in plain numpy where they can be, and differently from the model
answers (a loop where the model answer vectorises, or the other way round), so that the test
running the model answers through these checks compares two independent routes. Only 02a.3
needs the course's own recall code (UserCF); it is imported inside the reference, so a change
there cannot break the import of the other exercises.
"""
from __future__ import annotations

import math

import numpy as np

from course.exercises.registry import register


# --------------------------------------------------------------------------- 02a
def _matrix_case(rng: np.random.Generator) -> dict:
    n_users, n_items = int(rng.integers(2, 9)), int(rng.integers(2, 9))
    R = rng.choice([0.0, 0.0, 1.0, 2.0, 3.0], size=(n_users, n_items))
    R[:, rng.integers(0, n_items)] = 0.0          # an item nobody touched: its norm is 0
    return {"R": R}


@register("02a.1", "function", make_case=_matrix_case,
          hint="divide R.T @ R by the outer product of the column norms; guard norm 0")
def item_cosine(R):
    """Dense cosine similarity of the columns of R, zero diagonal, 0 for all-zero columns."""
    n_items = R.shape[1]
    S = np.zeros((n_items, n_items))
    for i in range(n_items):
        for j in range(n_items):
            norm = np.linalg.norm(R[:, i]) * np.linalg.norm(R[:, j])
            if i != j and norm > 0:
                S[i, j] = R[:, i] @ R[:, j] / norm
    return S


def _pair_case(rng: np.random.Generator) -> dict:
    R = (rng.random((int(rng.integers(3, 10)), 6)) < 0.5).astype(float)
    i, j = rng.choice(6, 2, replace=False)
    return {"R": R, "i": int(i), "j": int(j), "alpha": float(rng.choice([0.5, 1.0, 2.0]))}


@register("02a.2", "function", make_case=_pair_case,
          hint="users of both items: np.flatnonzero(R[:, i] * R[:, j]); overlap: (R[u] * R[v]).sum()")
def swing_pair(R, i, j, alpha):
    """Swing similarity of items i and j: Σ over user pairs of 1 / (alpha + their overlap)."""
    B = (R > 0).astype(float)
    users = B[(B[:, i] > 0) & (B[:, j] > 0)]
    overlap = users @ users.T                                   # (u, v) -> items both clicked
    upper = np.triu_indices(len(users), k=1)                    # each unordered pair once
    return float((1.0 / (alpha + overlap[upper])).sum())


@register("02a.3", "answer",
          needs=("log", "R", "eval_users", "top_unblocked", "recall_vs_truth", "n_neighbours", "k"),
          tolerance=1e-9,
          hint="build the last-5 matrix like R_last in section 3, then UserCF(...).fit(R, recent_weights=...)")
def usercf_last5_recall(log, R, eval_users, top_unblocked, recall_vs_truth, n_neighbours, k, n_last=5):
    """Recall@k against the oracle of UserCF with recent weights from each user's last 5 notes."""
    import scipy.sparse as sp

    from course.recall.cf import UserCF, user_to_last_items

    n_users = R.shape[0]
    items, weights = user_to_last_items(log, n_last, n_users=n_users)
    rows, cols = np.nonzero(items >= 0)                         # padding is -1
    recent = sp.csr_matrix((weights[rows, cols], (rows, items[rows, cols])), shape=R.shape)
    model = UserCF(n_neighbours=n_neighbours).fit(R, recent_weights=recent)
    return float(recall_vs_truth(top_unblocked(model.score(eval_users)), k))


# --------------------------------------------------------------------------- 02b
def _hinge_case(rng: np.random.Generator) -> dict:
    batch, n = int(rng.integers(1, 6)), int(rng.integers(1, 5))
    return dict(positive=rng.uniform(-1, 1, batch), negative=rng.uniform(-1, 1, (batch, n)),
                margin=float(rng.choice([0.0, 0.2, 1.0])))


@register("02b.1", "function", make_case=_hinge_case,
          hint="broadcast: margin + negative - positive[:, None], clip at 0, then the mean")
def triplet_hinge(positive, negative, margin):
    """Mean over the B·n triplets of max(0, margin + cos(a, b-) - cos(a, b+))."""
    losses = [max(0.0, margin + negative[b, m] - positive[b])
              for b in range(negative.shape[0]) for m in range(negative.shape[1])]
    return sum(losses) / len(losses)


def _clicks_case(rng: np.random.Generator) -> dict:
    clicks = rng.integers(0, 50, int(rng.integers(2, 20)))
    clicks[0] += 1                                   # at least one clicked item
    return dict(clicks=clicks, alpha=float(rng.choice([0.0, 0.5, 0.75, 1.0])))


@register("02b.2", "function", make_case=_clicks_case,
          hint="clicks ** alpha, divided by its sum (numpy gives 0 ** 0 = 1)")
def negative_probabilities(clicks, alpha):
    """P(item drawn as an easy negative) ∝ clicks^alpha; alpha = 0 is uniform."""
    if alpha == 0:
        return np.full(len(clicks), 1.0 / len(clicks))
    weights = np.power(np.asarray(clicks, dtype=float), alpha)
    return weights / weights.sum()


@register("02b.3", "answer", needs=("item_clicks", "head"), tolerance=1e-6,
          hint="the α = 0.5 sampling probabilities (exercise 2) summed over head")
def head_share(item_clicks, head, alpha=0.5):
    """Share of easy negatives (∝ clicks^0.5) drawn from the `head` notes."""
    weights = np.asarray(item_clicks, dtype=float) ** alpha
    return float(weights[head].sum() / weights.sum())


# --------------------------------------------------------------------------- 02c
def _probe_case(rng: np.random.Generator) -> dict:
    n_lists = int(rng.integers(2, 30))
    return dict(query=rng.normal(size=4), centroids=rng.normal(size=(n_lists, 4)),
                n_probe=int(rng.integers(1, n_lists + 1)))


@register("02c.1", "function", make_case=_probe_case,
          hint="score every centroid with the query, sort descending, keep n_probe")
def ivf_probe_lists(query, centroids, n_probe):
    """Ids of the n_probe centroids with the largest inner product with the query, best first."""
    scores = centroids @ query
    return np.array(sorted(range(len(scores)), key=lambda c: (-scores[c], c))[:n_probe])


@register("02c.2", "answer", needs=("update_recall",), tolerance=1e-9,
          hint="np.mean of each schedule's list in update_recall, then the max")
def best_mean_recall(update_recall):
    """The highest mean recall over the update schedules of section 3."""
    return float(max(sum(recalls) / len(recalls) for recalls in update_recall.values()))


def _cost_case(rng: np.random.Generator) -> dict:
    n_lists = int(rng.integers(1, 300))
    return dict(n_items=int(rng.integers(n_lists, 2_000_000)), dim=int(rng.integers(1, 129)),
                n_lists=n_lists, n_probe=int(rng.integers(1, n_lists + 1)))


@register("02c.3", "function", make_case=_cost_case,
          hint="the centroids cost n_lists * dim; each probed list holds n_items / n_lists items of dim")
def ivf_multiply_adds(n_items, dim, n_lists, n_probe):
    """IVF's multiply-adds per query when every list holds n_items / n_lists items."""
    centroids = n_lists * dim
    scanned = sum(n_items / n_lists for _ in range(n_probe)) * dim   # one probed list at a time
    return centroids + scanned


# --------------------------------------------------------------------------- 02d
def _hash_case(rng: np.random.Generator) -> dict:
    return dict(n_bits=int(rng.integers(8, 20_000)), n_items=int(rng.integers(1, 3_000)))


@register("02d.1", "function", make_case=_hash_case,
          hint="compare the formula at floor and ceil of (m / n) ln 2, never below 1")
def best_n_hashes(n_bits, n_items):
    """The integer k >= 1 minimising the Bloom filter's FPR (1 - e^(-kn/m))^k."""
    # Scan k upwards while log FPR falls (it is convex in k); logs avoid underflow at large m/n.
    def log_fpr(k):
        return k * math.log(-math.expm1(-k * n_items / n_bits))

    k = 1
    while log_fpr(k + 1) < log_fpr(k):
        k += 1
    return k


def _city_case(rng: np.random.Generator) -> dict:
    cities = np.array(["Shanghai", "Beijing", "Chengdu"])
    size = int(rng.integers(1, 40))
    return dict(user_city=str(rng.choice(cities)), item_cities=rng.choice(cities, size),
                publish_day=rng.integers(-5, 3, size), k=int(rng.integers(1, 10)))


@register("02d.2", "function", make_case=_city_case,
          hint="filter by city, then sort by (-publish_day, id) and keep k")
def same_city_notes(user_city, item_cities, publish_day, k):
    """Row ids of the notes in user_city, newest first, ties by smaller id, at most k, as a list."""
    ids = np.flatnonzero(item_cities == user_city)
    order = np.lexsort((ids, -publish_day[ids]))               # last key sorts first
    return ids[order][:k].tolist()


@register("02d.3", "answer", tolerance=0.01, hint="m = -n ln p / (ln 2)^2")
def bits_per_key(false_positive_rate=0.001):
    """Bits per key m / n of a Bloom filter with the optimal k at the given FPR."""
    return -math.log(false_positive_rate) / math.log(2) ** 2


# --------------------------------------------------------------------------- 02e
def _ensemble_case(rng: np.random.Generator) -> dict:
    n_models, n_users, n_items, dim = (int(rng.integers(1, 4)), int(rng.integers(1, 6)),
                                       int(rng.integers(1, 7)), int(rng.integers(1, 5)))
    return dict(user_vectors=[rng.normal(size=(n_users, dim)) for _ in range(n_models)],
                item_vectors=[rng.normal(size=(n_items, dim)) for _ in range(n_models)])


@register("02e.1", "function", make_case=_ensemble_case,
          hint="add up U_m @ I_m.T over the models (or one product of the concatenated vectors)")
def ensemble_scores(user_vectors, item_vectors):
    """(n_users, n_items) scores of an ensemble: the sum over models of their inner products."""
    total = 0.0
    for users, items in zip(user_vectors, item_vectors):   # one model at a time
        total = total + np.asarray(users) @ np.asarray(items).T
    return total
