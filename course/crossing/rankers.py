"""Click models built from the crossing blocks, on the shared features (``course.features``).

Every model takes a :class:`course.features.FeatureSet` batch, ``(categorical, numeric)``, and
returns click logits of shape (B,), so one loss and one loop (``course.training.train``) train
them all and one table compares them (notebook 04b):

* :class:`FieldLinear`: logistic regression (LR, 逻辑回归) on one-hot fields, ``w0 + Σ_f w_f``;
* :class:`FieldFM`: LR plus FM's pair term over the field vectors (Rendle, ICDM 2010);
* :func:`deep_ranker`: an MLP (DNN), or a DCN (stacked or parallel), on the flattened fields;
* :class:`LHUCRanker`: the MLP over the non-user fields, each layer gated by the user fields
  (LHUC / PPNet, :class:`course.crossing.LHUCTower`);
* :class:`FiBiNET`: SENet re-weighting and bilinear crossing of the original and the re-weighted
  fields, concatenated into an MLP (Huang, Zhang and Zhang, RecSys 2019, arXiv 1905.09433).
"""
from __future__ import annotations

import torch
from torch import nn

from course._checks import check_int, check_positive_int
from course.crossing.bilinear import BilinearInteraction
from course.crossing.cross import DCN, _mlp
from course.crossing.fm import fm_interaction
from course.crossing.lhuc import LHUCTower
from course.crossing.senet import SENet
from course.features import FeatureEmbedding, FeatureModel

__all__ = ["FieldLinear", "FieldFM", "deep_ranker", "LHUCRanker", "FiBiNET", "RANKER_KINDS"]

RANKER_KINDS = ("dnn", "dcn_stacked", "dcn_parallel")


class FieldLinear(nn.Module):
    """Logistic regression on fields: ``w0 + Σ_f w_f[code_f] + Σ_j w_j x_j`` (numeric x_j).

    Examples
    --------
    >>> model = FieldLinear((3, 4), n_numeric=1)
    >>> model(torch.tensor([[1, 2]]), torch.ones(1, 1)).shape
    torch.Size([1])
    """

    def __init__(self, cardinalities, n_numeric: int):
        super().__init__()
        self.weights = FeatureEmbedding(cardinalities, n_numeric, dim=1)  # one scalar per value
        nn.init.zeros_(self.weights.embedding.weight)
        nn.init.zeros_(self.weights.numeric_vectors)
        self.bias = nn.Parameter(torch.zeros(()))

    def forward(self, categorical: torch.Tensor, numeric: torch.Tensor | None = None) -> torch.Tensor:
        return self.bias + self.weights(categorical, numeric).sum(dim=(1, 2))  # (B,)


class FieldFM(nn.Module):
    """FM on fields: :class:`FieldLinear` + ``Σ_{f<g} <v_f, v_g>`` over the (B, F, k) field vectors.

    ``self.embedding`` holds the vectors v; :meth:`pair_weights` reads ``<v_a, v_b>`` for every
    value of two fields, the learned cross table.

    Examples
    --------
    >>> model = FieldFM((3, 4), n_numeric=0, dim=2)
    >>> model(torch.tensor([[1, 2], [0, 3]])).shape, model.pair_weights(0, 1).shape
    (torch.Size([2]), (3, 4))
    """

    def __init__(self, cardinalities, n_numeric: int, dim: int = 8):
        super().__init__()
        self.linear = FieldLinear(cardinalities, n_numeric)
        self.embedding = FeatureEmbedding(cardinalities, n_numeric, dim)

    def forward(self, categorical: torch.Tensor, numeric: torch.Tensor | None = None) -> torch.Tensor:
        pairs = fm_interaction(self.embedding(categorical, numeric))  # (B,)
        return self.linear(categorical, numeric) + pairs

    def pair_weights(self, field_a: int, field_b: int):
        """``<v_a, v_b>`` for every code a of field ``field_a`` and b of ``field_b``: (n_a, n_b) numpy."""
        n_fields = len(self.embedding.cardinalities)
        field_a = check_int(field_a, "field_a", minimum=0, maximum=n_fields - 1)
        field_b = check_int(field_b, "field_b", minimum=0, maximum=n_fields - 1)
        if field_a == field_b:
            raise ValueError(f"a field is never crossed with itself in FM, got field {field_a} twice")
        table, offsets = self.embedding.embedding.weight.detach(), self.embedding.offsets
        cards = self.embedding.cardinalities
        va = table[offsets[field_a]:offsets[field_a] + cards[field_a]]  # (n_a, k)
        vb = table[offsets[field_b]:offsets[field_b] + cards[field_b]]  # (n_b, k)
        return (va @ vb.T).double().numpy()


def deep_ranker(kind: str, cardinalities, n_numeric: int, dim: int = 8, hidden_dims=(64, 32),
                n_cross_layers: int = 2, rank: int | None = None) -> FeatureModel:
    """An MLP or a DCN on the flattened field vectors: ``kind`` in :data:`RANKER_KINDS`.

    ``"dnn"``: ``h(MLP(x0))``; ``"dcn_stacked"`` / ``"dcn_parallel"``: :class:`course.crossing.DCN`
    with ``n_cross_layers`` cross layers (of ``rank``) and the same MLP.

    Examples
    --------
    >>> model = deep_ranker("dcn_parallel", (3, 4), n_numeric=1, dim=2, hidden_dims=(5,))
    >>> model(torch.tensor([[1, 2]]), torch.ones(1, 1)).shape
    torch.Size([1])
    """
    if kind not in RANKER_KINDS:
        raise ValueError(f"kind must be one of {RANKER_KINDS}, got {kind!r}")
    embedding = FeatureEmbedding(cardinalities, n_numeric, dim)
    width = embedding.output_dim
    if kind == "dnn":
        deep, out = _mlp(width, hidden_dims)
        body = nn.Sequential(deep, nn.Linear(out, 1), nn.Flatten(0))  # (B,)
    else:
        body = DCN(width, n_cross_layers, hidden_dims, structure=kind.split("_")[1], rank=rank)
    return FeatureModel(embedding, body)


class LHUCRanker(nn.Module):
    """An MLP over the non-user fields with an LHUC gate per layer read from the user fields.

    ``h_{l+1} = ReLU(W_l h_l + b_l) ⊙ 2·sigmoid(MLP_l(u))``, u the flattened user field vectors,
    h_0 the flattened other fields; then a linear head. ``stop_gradient=True`` is PPNet's form
    (the gates read ``u.detach()``, see :class:`course.crossing.LHUCGate`).

    Parameters
    ----------
    cardinalities, n_numeric, dim
        As in :class:`course.features.FeatureEmbedding`.
    user_fields : sequence of int
        Positions (in the embedding's field order, categorical then numeric) of the user-side
        fields the gates read; the rest feed the gated MLP.
    hidden_dims, gate_hidden_dims, stop_gradient
        As in :class:`course.crossing.LHUCTower`.

    Examples
    --------
    >>> model = LHUCRanker((3, 4, 5), n_numeric=0, dim=2, user_fields=(0,), hidden_dims=(6,))
    >>> model(torch.tensor([[1, 2, 3]])).shape
    torch.Size([1])
    """

    def __init__(self, cardinalities, n_numeric: int, dim: int = 8, user_fields=(0,),
                 hidden_dims=(64, 32), gate_hidden_dims=(32,), stop_gradient: bool = True):
        super().__init__()
        self.embedding = FeatureEmbedding(cardinalities, n_numeric, dim)
        n_fields = self.embedding.n_fields
        user = sorted({check_int(f, "user_fields entry", minimum=0, maximum=n_fields - 1) for f in user_fields})
        if not user or len(user) == n_fields:
            raise ValueError(f"user_fields must name some but not all of the {n_fields} fields, got {tuple(user_fields)}")
        self.register_buffer("user_fields", torch.tensor(user), persistent=False)
        self.register_buffer("other_fields", torch.tensor([f for f in range(n_fields) if f not in user]),
                             persistent=False)
        self.tower = LHUCTower(item_dim=(n_fields - len(user)) * dim, user_dim=len(user) * dim,
                               hidden_dims=hidden_dims, gate_hidden_dims=gate_hidden_dims,
                               stop_gradient=stop_gradient)
        self.head = nn.Linear(tuple(hidden_dims)[-1], 1)

    def forward(self, categorical: torch.Tensor, numeric: torch.Tensor | None = None) -> torch.Tensor:
        fields = self.embedding(categorical, numeric)  # (B, F, D)
        user = fields[:, self.user_fields].flatten(1)  # (B, U·D)
        other = fields[:, self.other_fields].flatten(1)  # (B, (F−U)·D)
        return self.head(self.tower(other, user)).squeeze(1)  # (B,)


class FiBiNET(nn.Module):
    """FiBiNET: SENet and bilinear crossing of the field vectors, then an MLP and a linear head.

    ``V = emb(x)`` (B, F, D); ``V' = SENet(V)``; ``p = Bilinear_1(V)``, ``q = Bilinear_2(V')``
    (each (B, F(F−1)/2, D)); ``logit = h(MLP([p, q]))``. The paper adds a linear part; it is left
    out here (the MLP sees every field through the pairs).

    Parameters
    ----------
    cardinalities, n_numeric, dim
        As in :class:`course.features.FeatureEmbedding`.
    hidden_dims : tuple of int
    reduction_ratio, senet_activation
        As in :class:`course.crossing.SENet` (``activation``).
    bilinear_kind : str
        One of :data:`course.crossing.BILINEAR_KINDS`.

    Examples
    --------
    >>> model = FiBiNET((3, 4, 5), n_numeric=1, dim=2, hidden_dims=(6,))
    >>> model(torch.tensor([[1, 2, 3]]), torch.ones(1, 1)).shape
    torch.Size([1])
    """

    def __init__(self, cardinalities, n_numeric: int, dim: int = 8, hidden_dims=(64, 32),
                 reduction_ratio: int = 3, senet_activation: str = "sigmoid", bilinear_kind: str = "field_all"):
        super().__init__()
        self.embedding = FeatureEmbedding(cardinalities, n_numeric, dim)
        n_fields = self.embedding.n_fields
        self.senet = SENet(n_fields, reduction_ratio, senet_activation)
        self.bilinear = BilinearInteraction(n_fields, dim, bilinear_kind)
        self.bilinear_senet = BilinearInteraction(n_fields, dim, bilinear_kind)
        pairs = n_fields * (n_fields - 1) // 2
        self.deep, width = _mlp(2 * pairs * check_positive_int(dim, "dim"), hidden_dims)
        self.head = nn.Linear(width, 1)

    def forward(self, categorical: torch.Tensor, numeric: torch.Tensor | None = None) -> torch.Tensor:
        fields = self.embedding(categorical, numeric)  # (B, F, D)
        p = self.bilinear(fields).flatten(1)  # (B, P·D)
        q = self.bilinear_senet(self.senet(fields)).flatten(1)  # (B, P·D)
        return self.head(self.deep(torch.cat([p, q], dim=1))).squeeze(1)  # (B,)
