"""Item similarity (物品相似度) for reranking: by category tree and tags, by vectors (notebook 06a).

MMR and DPP need ``sim(i, j)`` for the ~100 notes a reranker sees. The lecture names two sources:

- **attributes** (基于物品属性标签): same subcategory (二级类目) > same top category (一级类目)
  > shared keywords only. :func:`tag_similarity` writes this hierarchy as a sum of indicator
  Gram matrices, so it is symmetric and positive semi-definite (a valid DPP kernel);
- **vectors** (基于物品向量表征): the cosine of two notes' vectors (:func:`cosine_similarity`).
  The two-tower model's item vectors are learned from interactions, so a long-tail note with few
  clicks keeps a vector that is mostly its random initialisation; a content encoder's vector
  (CLIP on the images, BERT on the text) needs no clicks at all. :func:`neighbour_quality`
  measures how close a note's nearest neighbours by some vectors are in the *true* geometry,
  which the simulated world knows; :func:`two_tower_item_vectors` trains the two-tower to compare.
"""
from __future__ import annotations

import numpy as np

from course._checks import check_array, check_nonnegative_int, check_positive_int, check_real, check_world

__all__ = ["tag_vectors", "tag_similarity", "cosine_similarity", "neighbour_quality", "two_tower_item_vectors"]

CHUNK = 2048  # query rows per block in neighbour_quality: (CHUNK, n_items) floats at a time


def _codes(values, name: str) -> np.ndarray:
    return np.unique(check_array(values, 1, name, "iu", allow_empty=False), return_inverse=True)[1]


def tag_vectors(category_ids, subcategory_ids, keywords, weights=(0.5, 0.3, 0.2)) -> np.ndarray:
    """Feature rows whose inner products are :func:`tag_similarity`, shape (n, n_features).

    ``[sqrt(w_cat) · onehot(cat), sqrt(w_sub) · onehot(sub), sqrt(w_kw) · K / |K|]``: the
    similarity of any subset of notes is then one small product, and new notes need one row each.
    Arguments as in :func:`tag_similarity`.

    Examples
    --------
    >>> V = tag_vectors([0, 1], [0, 2], ["a|b", "b"])
    >>> V.shape, (V @ V.T).round(4).tolist()        # 2 categories + 2 subcategories + 2 keywords
    ((2, 6), [[1.0, 0.1414], [0.1414, 1.0]])
    """
    category = _codes(category_ids, "category_ids")
    subcategory = _codes(subcategory_ids, "subcategory_ids")
    n = len(category)
    if len(subcategory) != n or len(keywords) != n:
        raise ValueError(f"category_ids, subcategory_ids and keywords must have the same length, got "
                         f"{n}, {len(subcategory)} and {len(keywords)}")
    if isinstance(weights, (str, bytes)) or len(weights) != 3:
        raise ValueError(f"weights must be three numbers (w_cat, w_sub, w_kw), got {weights!r}")
    w_cat, w_sub, w_kw = (check_real(w, "weights", low=0) for w in weights)
    if not all(isinstance(k, str) for k in keywords):
        raise TypeError("keywords must be strings of keywords joined by '|'")
    tags = [sorted({t for t in k.split("|") if t}) for k in keywords]
    vocabulary = {t: c for c, t in enumerate(sorted({t for row in tags for t in row}))}
    K = np.zeros((n, len(vocabulary)))                                  # (n, n_keywords)
    rows = np.repeat(np.arange(n), [len(row) for row in tags])
    K[rows, [vocabulary[t] for row in tags for t in row]] = 1.0
    norms = np.linalg.norm(K, axis=1)
    K /= np.where(norms > 0, norms, 1.0)[:, None]                       # unit rows (zero stays zero)
    one_hot = lambda codes: np.eye(codes.max() + 1)[codes]              # noqa: E731  (n, n_codes)
    return np.hstack([np.sqrt(w_cat) * one_hot(category), np.sqrt(w_sub) * one_hot(subcategory),
                      np.sqrt(w_kw) * K])


def tag_similarity(category_ids, subcategory_ids, keywords, weights=(0.5, 0.3, 0.2)) -> np.ndarray:
    """Hierarchical similarity from the category tree and keyword tags, shape (n, n).

        sim(i, j) = w_cat · [cat_i = cat_j] + w_sub · [sub_i = sub_j] + w_kw · cos(K_i, K_j)

    with K_i the 0/1 vector of note i's keywords (cos = |K_i ∩ K_j| / sqrt(|K_i| |K_j|), 0 when
    either has none). With the default weights a note scores 1 with itself (given a keyword),
    0.8 + 0.2·overlap with a note of its subcategory, 0.5 with one of its category only, at most
    0.2 with one that shares only keywords: the lecture's order. It is the Gram matrix of
    :func:`tag_vectors`, so S is symmetric positive semi-definite and can be a DPP kernel.

    Parameters
    ----------
    category_ids, subcategory_ids : array of int of shape (n,)
    keywords : sequence of str of shape (n,)
        Each note's keywords joined by ``"|"`` (the world's ``items.keywords``); ``""`` for none.
    weights : (w_cat, w_sub, w_kw), non-negative
        Subcategory ids should be nested in categories, so same subcategory implies same category.

    Examples
    --------
    >>> tag_similarity([0, 0, 0, 1], [0, 0, 1, 2], ["a|b", "b", "c", "b"])
    array([[1.        , 0.94142136, 0.5       , 0.14142136],
           [0.94142136, 1.        , 0.5       , 0.2       ],
           [0.5       , 0.5       , 1.        , 0.        ],
           [0.14142136, 0.2       , 0.        , 1.        ]])
    """
    V = tag_vectors(category_ids, subcategory_ids, keywords, weights)
    return V @ V.T


def cosine_similarity(vectors) -> np.ndarray:
    """``cos(v_i, v_j)`` for every pair of rows, shape (n, n); a zero row has similarity 0.

    The Gram matrix of the unit rows: symmetric and positive semi-definite (a DPP kernel of rank
    at most the dimension).

    Examples
    --------
    >>> cosine_similarity([[1.0, 0.0], [1.0, 1.0], [0.0, 0.0]]).round(4)
    array([[1.    , 0.7071, 0.    ],
           [0.7071, 1.    , 0.    ],
           [0.    , 0.    , 0.    ]])
    """
    unit = _unit(check_array(vectors, 2, "vectors", "iuf", allow_empty=False))
    return unit @ unit.T


def _unit(vectors: np.ndarray) -> np.ndarray:
    vectors = vectors.astype(np.float64)
    if not np.isfinite(vectors).all():
        raise ValueError("vectors must be finite, got NaN or infinite values")
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.where(norms > 0, norms, 1.0)


def neighbour_quality(vectors, true_vectors, queries, k: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """How good each query item's k nearest neighbours by ``vectors`` are in the true geometry.

    For query i, its k nearest other items by the cosine of ``vectors`` are N_i (ties to the
    smaller id); the true k nearest by the cosine of ``true_vectors`` are T_i. Returned:

    - ``true_cosine[q] = mean_{j ∈ N_i} cos(t_i, t_j)``: how similar the neighbours really are;
    - ``overlap[q] = |N_i ∩ T_i| / k``: the share of the true neighbours found.

    Parameters
    ----------
    vectors : array of shape (n_items, d)
        The estimated item vectors (content, two-tower, ...).
    true_vectors : array of shape (n_items, d_true)
        The truth (the world's ``item_truth`` latent columns).
    queries : array of int of shape (n_queries,)
        Item ids whose neighbourhoods are measured.
    k : int, 1 <= k < n_items

    Returns
    -------
    true_cosine, overlap : ndarray of shape (n_queries,)

    Examples
    --------
    >>> truth = np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.1, 0.9]])
    >>> neighbour_quality(truth, truth, [0, 2], k=1)[1]           # the truth finds itself
    array([1., 1.])
    >>> swapped = truth[[0, 2, 1, 3]]                           # items 1 and 2 swap vectors
    >>> true_cosine, overlap = neighbour_quality(swapped, truth, [0, 1], k=1)
    >>> true_cosine.round(3), overlap                       # 0 now finds 2, 1 finds 3
    (array([0.  , 0.22]), array([0., 0.]))
    """
    estimate = _unit(check_array(vectors, 2, "vectors", "iuf", allow_empty=False))
    truth = _unit(check_array(true_vectors, 2, "true_vectors", "iuf", allow_empty=False))
    n = len(estimate)
    if len(truth) != n:
        raise ValueError(f"vectors and true_vectors must have one row per item, got {n} and {len(truth)}")
    queries = check_array(queries, 1, "queries", "iu", allow_empty=False).astype(np.int64)
    if queries.min() < 0 or queries.max() >= n:
        raise ValueError(f"queries must be item ids in [0, {n}), got values in [{queries.min()}, {queries.max()}]")
    k = check_positive_int(k, "k")
    if k >= n:
        raise ValueError(f"k must be below the number of items ({n}), got {k}")
    true_cosine, overlap = np.empty(len(queries)), np.empty(len(queries))
    for start in range(0, len(queries), CHUNK):  # blocks bound the (queries, n_items) matrices
        q = queries[start:start + CHUNK]
        rows = np.arange(len(q))
        found, best = (_nearest(space[q] @ space.T, q, rows, k) for space in (estimate, truth))
        true_cosine[start:start + len(q)] = np.einsum("qd,qkd->qk", truth[q], truth[found]).mean(axis=1)
        hits = (np.sort(found, axis=1)[:, :, None] == best[:, None, :]).any(axis=2)   # (q, k)
        overlap[start:start + len(q)] = hits.mean(axis=1)
    return true_cosine, overlap


def _nearest(scores: np.ndarray, q: np.ndarray, rows: np.ndarray, k: int) -> np.ndarray:
    """(len(q), k) ids of the k best columns per row, the query itself excluded, ties to the smaller id.

    A full sort of every row is O(n log n) per query; instead each row's k-th best value comes
    from ``np.partition`` (O(n)), and only the entries at least that good, ties included (a
    whole subcategory shares one tag similarity), are sorted by (row, -score, id).
    """
    scores[rows, q] = -np.inf
    kth = -np.partition(-scores, k - 1, axis=1)[:, k - 1]                       # (len(q),)
    r, c = np.nonzero(scores >= kth[:, None])                                   # row-major order
    order = np.lexsort((c, -scores[r, c], r))
    r, c = r[order], c[order]
    starts = np.searchsorted(r, np.arange(len(q)))                              # first entry of each row
    return c[starts[:, None] + np.arange(k)]                                    # (len(q), k)


def two_tower_item_vectors(world, impressions, *, features: str = "id", output_dim: int = 16,
                           epochs: int = 3, temperature: float = 0.2, learning_rate: float = 0.03,
                           seed: int = 0) -> np.ndarray:
    """Item vectors of a small two-tower trained on the clicks of ``impressions``, (n_items, D).

    In-batch softmax with the logQ correction (:mod:`course.recall.two_tower`, notebook 02b),
    embeddings of width 8, one hidden layer of 32, cosine outputs. ``features="id"``: both
    towers see only the id (matrix factorisation; an item's vector is learned from its own clicks
    alone); ``features="world"``: the towers of 02b (category, subcategory, author, ...), through
    which a rare note borrows from the notes that share its features.

    Torch's global generator is seeded inside and restored after (the caller's draws are unchanged).
    """
    import torch

    from course.recall.two_tower import (TwoTowerConfig, TwoTowerModel, encode, id_features,
                                         log_sampling_probability, make_loss_fn, world_features)
    from course.seed import private_torch_rng
    from course.training import train

    world = check_world(world)
    if features not in ("id", "world"):
        raise ValueError(f"features must be 'id' or 'world', got {features!r}")
    output_dim = check_positive_int(output_dim, "output_dim")
    epochs = check_positive_int(epochs, "epochs")
    seed = check_nonnegative_int(seed, "seed")
    clicks = impressions[impressions["click"] == 1]
    if clicks.empty:
        raise ValueError("impressions hold no click: nothing to train the two towers on")
    n_users, n_items = len(world.users), len(world.items)
    if features == "id":
        users, items = id_features(n_users), id_features(n_items)
    else:
        users, items = world_features(world, impressions)
    counts = np.bincount(clicks["item_id"].to_numpy(), minlength=n_items)

    @private_torch_rng
    def fit():
        torch.manual_seed(seed)                 # the initial weights
        model = TwoTowerModel(TwoTowerConfig(users.cardinalities, items.cardinalities,
                                             users.numeric.shape[1], items.numeric.shape[1],
                                             embedding_dim=8, hidden_dims=(32,), output_dim=output_dim))
        loss = make_loss_fn("in_batch", users, items, temperature=temperature,
                            log_q=log_sampling_probability(counts))
        train(model, loss, (clicks["user_id"].to_numpy(np.int64), clicks["item_id"].to_numpy(np.int64)),
              epochs=epochs, batch_size=1024, learning_rate=learning_rate, seed=seed, progress=False)
        return encode(model.item_tower, items)

    return fit()
