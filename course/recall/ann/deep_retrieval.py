"""Deep Retrieval (路径召回): retrieve items through paths in a learned lattice, not vectors.

Two-tower recall embeds users and items as vectors and searches nearest neighbours. Deep
Retrieval (Gao et al., "Deep Retrieval: Learning A Retrievable Structure for Large-Scale
Recommendations", CIKM 2021, arXiv 2007.07203) instead puts every item on a **path**
``c = (c_1, ..., c_D)`` through a lattice of ``D`` layers with ``K`` nodes each (``K^D`` paths),
and learns a path model that scores paths given the user, one layer at a time::

    p(c | user) = Π_d p(c_d | user, c_1, ..., c_{d-1})        # a softmax over K nodes per layer

* **Serving** (线上召回): beam search (束搜索) of width ``B`` walks the lattice layer by layer,
  keeping the ``B`` best prefixes; the items on the ``B`` final paths are retrieved
  (:func:`beam_search`, :func:`retrieve`).
* **Training** alternates (a) the path model by maximum likelihood on (user, path of a clicked
  item) pairs (:func:`path_loss` through :func:`course.training.train`) and (b) re-assigning
  each item to the path with the highest total log-likelihood over the users who clicked it
  (:func:`reassign_items`), a coordinate-descent step that cannot lower the likelihood.
* **Penalty on crowded paths** (路径大小惩罚): without it, step (b) happily piles many items
  onto the few paths that most users like, and a path with hundreds of items retrieves them
  all (or none). The paper's penalised item step maximises::

      Σ_v score(v, c_v) - α Σ_c f(|c|),      f(x) = x^4 / 4,   |c| = items on path c

  greedily, item by item: item v leaves its path, then joins the path with the largest
  ``score(v, c) - α [f(|c| + 1) - f(|c|)]`` (the change of the penalty if v joins c).
  :func:`assign_with_path_penalty`; each move can only raise the penalised objective
  (:func:`~course.recall.ann.path_penalty.penalized_objective`), because staying put is one of the candidates.

Simplified here (a small illustration): one path per item (the paper allows J paths), the
user input is a fixed vector (the paper learns it), the item step scores all ``K^D`` paths
(the paper scores only paths found by beam search), and there is no softmax-based reranking
of the retrieved items (items on one path are ordered by id).
"""
from __future__ import annotations

import itertools

import numpy as np
import scipy.sparse as sp
import torch
from torch import nn

from course._checks import check_positive_int, check_tensor
from course.recall.ann.path_penalty import assign_with_path_penalty
from course.seed import private_torch_rng
from course.training import train

__all__ = ["PathModel", "all_paths", "path_log_probs_all", "beam_search", "path_loss",
           "reassign_items", "total_log_likelihood", "retrieve", "fit_deep_retrieval"]


class PathModel(nn.Module):
    """``log p(c | u)`` for paths ``c`` in a ``depth x width`` lattice.

    Layer d is a linear softmax over the ``width`` nodes given the user vector and the
    embeddings of the nodes chosen so far: ``p(c_d | u, c_<d) = softmax(W_d [u, e_1(c_1), ...,
    e_{d-1}(c_{d-1})] + b_d)``.

    Parameters
    ----------
    user_dim : int
    depth : int
        D, number of layers.
    width : int
        K, nodes per layer.
    node_dim : int, default 8
        Width of a node's embedding.

    Examples
    --------
    >>> _ = torch.manual_seed(0)
    >>> model = PathModel(user_dim=3, depth=2, width=4)
    >>> users = torch.randn(5, 3)
    >>> probs = path_log_probs_all(model, users).exp()  # (5, 16)
    >>> torch.allclose(probs.sum(1), torch.ones(5))
    True
    """

    def __init__(self, user_dim: int, depth: int, width: int, node_dim: int = 8):
        super().__init__()
        for name, value in [("user_dim", user_dim), ("depth", depth), ("width", width), ("node_dim", node_dim)]:
            check_positive_int(value, name)
        self.user_dim, self.depth, self.width = int(user_dim), int(depth), int(width)
        self.node_embeddings = nn.ModuleList(nn.Embedding(width, node_dim) for _ in range(depth - 1))
        self.layers = nn.ModuleList(nn.Linear(user_dim + d * node_dim, width) for d in range(depth))

    def next_log_probs(self, users: torch.Tensor, prefix: torch.Tensor) -> torch.Tensor:
        """``log p(c_d = k | u, prefix)`` of shape (B, K) for a prefix (B, d) with d < D."""
        d = prefix.shape[1]
        parts = [users] + [self.node_embeddings[j](prefix[:, j]) for j in range(d)]  # (B, U), d x (B, E)
        return torch.log_softmax(self.layers[d](torch.cat(parts, dim=1)), dim=1)  # (B, K)

    def forward(self, users: torch.Tensor, paths: torch.Tensor) -> torch.Tensor:
        """``log p(path | user)`` of shape (B,) for users (B, user_dim) and paths (B, D) int64."""
        check_tensor(users, "users", 2)
        check_tensor(paths, "paths", 2, floating=False)
        if paths.shape[1] != self.depth or len(paths) != len(users):
            raise ValueError(f"paths must have shape ({len(users)}, {self.depth}), got {tuple(paths.shape)}")
        total = torch.zeros(len(users), dtype=users.dtype)
        for d in range(self.depth):  # a loop over layers (D is small)
            log_probs = self.next_log_probs(users, paths[:, :d])  # (B, K)
            total = total + log_probs.gather(1, paths[:, d:d + 1]).squeeze(1)
        return total


def all_paths(depth: int, width: int) -> np.ndarray:
    """Every path of the lattice in lexicographic order, shape (width**depth, depth).

    Row ``r`` is the path whose code ``Σ_d c_d K^(D-1-d)`` equals ``r``.

    Examples
    --------
    >>> all_paths(2, 2).tolist()
    [[0, 0], [0, 1], [1, 0], [1, 1]]
    """
    return np.array(list(itertools.product(range(width), repeat=depth)), dtype=np.int64).reshape(-1, depth)


def _codes(paths: np.ndarray, width: int) -> np.ndarray:
    """Integer code of each path (..., D) -> (...): base-K digits, first layer most significant."""
    powers = width ** np.arange(paths.shape[-1] - 1, -1, -1)
    return (np.asarray(paths) * powers).sum(-1)


def path_log_probs_all(model: PathModel, users: torch.Tensor) -> torch.Tensor:
    """``log p(c | u)`` for every user and every path, shape (n_users, K^D), columns as in
    :func:`all_paths`.

    Layer by layer: layer d scores each of the ``K^d`` prefixes once and extends it by all K
    nodes, so the last layer runs ``U K^(D-1)`` rows through the model, not ``U K^D``.
    """
    n_users, width = len(users), model.width
    prefixes = torch.zeros(1, 0, dtype=torch.long)  # (P_d, d): every prefix of length d, in order
    total = torch.zeros(n_users, 1)  # (U, P_d)
    with torch.no_grad():
        for d in range(model.depth):
            n_prefixes = len(prefixes)
            step = model.next_log_probs(users.repeat_interleave(n_prefixes, 0),
                                        prefixes.repeat(n_users, 1))  # (U P_d, K)
            total = (total.unsqueeze(2) + step.reshape(n_users, n_prefixes, width)
                     ).reshape(n_users, n_prefixes * width)  # (U, P_{d+1}): code = prefix K + node
            prefixes = torch.cat([prefixes.repeat_interleave(width, 0),
                                  torch.arange(width).repeat(n_prefixes).unsqueeze(1)], dim=1)
    return total


def beam_search(model: PathModel, users: torch.Tensor, beam_size: int) -> tuple[np.ndarray, np.ndarray]:
    """Beam search (束搜索) over the lattice, vectorised over users.

    At layer d each of the ``B`` kept prefixes is extended by all ``K`` nodes and the ``B``
    best of the ``B K`` extensions (by ``log p(prefix | u)``) survive. With
    ``beam_size >= K^(D-1)`` nothing is ever pruned and the result is exact.

    Parameters
    ----------
    model : PathModel
    users : Tensor of shape (n_users, user_dim)
    beam_size : int

    Returns
    -------
    paths : ndarray of shape (n_users, beam, D)
        ``beam = min(beam_size, K^D)`` paths per user, best first.
    log_probs : ndarray of shape (n_users, beam)
    """
    beam_size = check_positive_int(beam_size, "beam_size")
    n_users, width = len(users), model.width
    prefixes = torch.zeros(n_users, 1, 0, dtype=torch.long)  # (U, beam, d)
    scores = torch.zeros(n_users, 1)  # (U, beam)
    with torch.no_grad():
        for d in range(model.depth):
            beam = prefixes.shape[1]
            flat_users = users.repeat_interleave(beam, 0)  # (U beam, user_dim)
            step = model.next_log_probs(flat_users, prefixes.reshape(n_users * beam, d))  # (U beam, K)
            candidates = (scores.unsqueeze(2) + step.reshape(n_users, beam, width)).reshape(n_users, -1)
            keep = min(beam_size, beam * width)
            # stable sort: deterministic order on ties (they do not occur with real-valued scores)
            order = torch.sort(candidates, dim=1, descending=True, stable=True).indices[:, :keep]  # (U, keep)
            parent, node = order // width, order % width
            prefixes = torch.cat([prefixes.gather(1, parent.unsqueeze(2).expand(-1, -1, d)),
                                  node.unsqueeze(2)], dim=2)  # (U, keep, d + 1)
            scores = candidates.gather(1, order)
    return prefixes.numpy(), scores.numpy()


def path_loss(model: PathModel, batch) -> torch.Tensor:
    """Negative mean log-likelihood ``-mean log p(path | user)`` of a batch (users, paths)."""
    users, paths = batch[0], batch[1]
    return -model(users, paths).mean()


def total_log_likelihood(model: PathModel, user_vectors, pair_users, pair_items, item_paths) -> float:
    """``Σ_(u, i) log p(path(i) | u)`` over the click pairs."""
    rows = torch.from_numpy(np.array(pair_users, dtype=np.int64))  # a copy: pandas arrays are read-only
    users = torch.as_tensor(user_vectors, dtype=torch.float32)[rows]
    paths = torch.from_numpy(np.asarray(item_paths)[np.asarray(pair_items)])
    with torch.no_grad():
        return float(model(users, paths).double().sum())


def reassign_items(model: PathModel, user_vectors, pair_users, pair_items, item_paths,
                   penalty: float = 0.0) -> np.ndarray:
    """Move each clicked item to ``argmax_c Σ_{u clicked i} log p(c | u)`` over all paths.

    With ``penalty = 0`` every item takes its best path at once (vectorised); the old path is
    one of the candidates, so the total log-likelihood (:func:`total_log_likelihood`) never
    decreases. With ``penalty = α > 0`` the paper's penalised step runs instead
    (:func:`assign_with_path_penalty`, items in id order); it can lower the likelihood to
    spread the items, but never lowers the penalised objective. Items without clicks keep their
    path (and count in the path sizes).

    Returns
    -------
    ndarray of shape (n_items, D)
    """
    item_paths, pair_items = np.asarray(item_paths), np.asarray(pair_items)
    users = torch.as_tensor(user_vectors, dtype=torch.float32)
    unique_users, inverse = np.unique(np.asarray(pair_users), return_inverse=True)
    per_user = path_log_probs_all(model, users[torch.from_numpy(unique_users)]).double().numpy()  # (U', P)
    clicked = np.flatnonzero(np.bincount(pair_items, minlength=len(item_paths)) > 0)
    # (item, user) click counts, clicked items only: the item-path scores are one sparse product
    counts = sp.csr_array((np.ones(len(pair_items)), (np.searchsorted(clicked, pair_items), inverse)),
                          shape=(len(clicked), len(unique_users)))
    scores = counts @ per_user  # (n_clicked, P): score(v, c) = Σ_{u clicked v} log p(c | u)
    candidates = all_paths(model.depth, model.width)
    new_paths = item_paths.copy()
    if penalty == 0:
        new_paths[clicked] = candidates[scores.argmax(1)]
        return new_paths
    codes = _codes(item_paths, model.width)
    full_scores = np.zeros((len(item_paths), len(candidates)))
    full_scores[clicked] = scores
    new_codes = assign_with_path_penalty(full_scores, codes, penalty, items=clicked)
    return candidates[new_codes]


def retrieve(model: PathModel, users, item_paths, beam_size: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Items on the user's ``beam_size`` best paths, ranked by path probability, best first.

    ``score(u, i) = log p(path(i) | u)`` for the items whose path is among the beam's
    ``beam_size`` paths; the others are not retrieved. Ties (items on the same path) go to the
    smaller item id.

    Parameters
    ----------
    model : PathModel
    users : array-like of shape (n_users, user_dim)
        User vectors.
    item_paths : ndarray of shape (n_items, depth)
    beam_size, k : int
        Paths kept by :func:`beam_search`; list length, >= 1.

    Returns
    -------
    items : ndarray of shape (n_users, k), int64
        Best first, padded with -1 when the beam's paths hold fewer than k items.
    scores : ndarray of shape (n_users, k), float64
        Log-probability of each item's path, padded with -inf.
    """
    k = check_positive_int(k, "k")
    users = torch.as_tensor(users, dtype=torch.float32)
    paths, log_probs = beam_search(model, users, beam_size)  # (U, B, D), (U, B)
    n_paths = model.width ** model.depth
    path_scores = np.full((len(users), n_paths), -np.inf)
    np.put_along_axis(path_scores, _codes(paths, model.width), log_probs, axis=1)
    item_scores = path_scores[:, _codes(np.asarray(item_paths), model.width)]  # (U, n_items)
    kept = min(k, item_scores.shape[1])
    order = np.argsort(-item_scores, axis=1, kind="stable")[:, :kept]         # (U, kept)
    scores = np.full((len(users), k), -np.inf)
    scores[:, :kept] = np.take_along_axis(item_scores, order, 1)
    items = np.full((len(users), k), -1, dtype=np.int64)
    items[:, :kept] = np.where(np.isfinite(scores[:, :kept]), order, -1)
    return items, scores


@private_torch_rng  # seeds torch for this call only
def fit_deep_retrieval(user_vectors, pair_users, pair_items, n_items: int, depth: int = 2,
                       width: int = 4, n_rounds: int = 5, epochs: int = 5, batch_size: int = 256,
                       learning_rate: float = 0.05, penalty: float = 0.0, seed: int = 0):
    """Alternate path-model training and item re-assignment, from random item paths.

    Parameters
    ----------
    user_vectors : ndarray of shape (n_users, user_dim)
    pair_users, pair_items : ndarray of shape (n_pairs,)
        Click pairs (user row, item id).
    n_items, depth, width : int
    n_rounds : int
        (a) + (b) rounds; ``epochs`` of :func:`course.training.train` in each (a).
    penalty : float
        α of the penalty on crowded paths in each (b) step (:func:`reassign_items`); 0: none.

    Returns
    -------
    model : PathModel
    item_paths : ndarray of shape (n_items, depth)
    history : list of float
        Total log-likelihood after each re-assignment (with a penalty it may fall: what the
        penalised step raises is :func:`penalized_objective`).
    """
    user_vectors = np.asarray(user_vectors, dtype=np.float32)
    pair_users, pair_items = np.asarray(pair_users), np.asarray(pair_items)
    if len(pair_users) == 0 or len(pair_users) != len(pair_items):
        raise ValueError("pair_users and pair_items must be non-empty and of the same length")
    if pair_items.min() < 0 or pair_items.max() >= n_items:
        raise ValueError(f"pair_items must lie in [0, {n_items})")
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    model = PathModel(user_vectors.shape[1], depth, width)
    item_paths = rng.integers(width, size=(n_items, depth))
    history = []
    for round_ in range(n_rounds):
        train(model, path_loss, (user_vectors[pair_users], item_paths[pair_items]), epochs=epochs,
              batch_size=batch_size, learning_rate=learning_rate, seed=seed + round_, progress=False)
        item_paths = reassign_items(model, user_vectors, pair_users, pair_items, item_paths, penalty)
        history.append(total_log_likelihood(model, user_vectors, pair_users, pair_items, item_paths))
    # a last (a) step, so the path model matches the final assignment
    train(model, path_loss, (user_vectors[pair_users], item_paths[pair_items]), epochs=epochs,
          batch_size=batch_size, learning_rate=learning_rate, seed=seed + n_rounds, progress=False)
    return model, item_paths, history
