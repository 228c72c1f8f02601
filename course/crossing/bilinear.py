"""Bilinear feature crossing (双线性交叉) of FiBiNET: a learned matrix between each pair's vectors.

The inner product ``<v_i, v_j>`` (FM) and the Hadamard product ``v_i ⊙ v_j`` compare two
fields dimension by dimension only; a matrix W in between lets every dimension of v_i meet
every dimension of v_j (Huang, Zhang and Zhang, "FiBiNET: Combining Feature Importance and
Bilinear Feature Interaction for Click-Through Rate Prediction", RecSys 2019, arXiv
1905.09433, section 3.4)::

    p_ij = (v_i W) ⊙ v_j          for every pair i < j:  F(F−1)/2 vectors of width D

in three forms, from fewest to most parameters:

* ``"field_all"``: one W shared by all pairs, D² parameters;
* ``"field_each"``: one W_i per first field i of a pair, ``p_ij = (v_i W_i) ⊙ v_j``. The paper
  gives every field one (F·D²), but with i < j the last field is never first, so its matrix
  would get no gradient: only F−1 are created here, (F−1)·D²;
* ``"field_interaction"``: one W_ij per pair, F(F−1)/2·D² (Wang Shusen's lecture: that is
  too many to cross every pair, so in practice only chosen field pairs are crossed).

Pairs come in the order of ``itertools.combinations(range(F), 2)``: (0,1), (0,2), …, (1,2), ….
"""
from __future__ import annotations

import torch
from torch import nn

from course._checks import check_int, check_positive_int, check_tensor, check_width

__all__ = ["BilinearInteraction", "BILINEAR_KINDS"]

BILINEAR_KINDS = ("field_all", "field_each", "field_interaction")


class BilinearInteraction(nn.Module):
    """FiBiNET's bilinear crossing: ``p_ij = (v_i W) ⊙ v_j`` for all pairs i < j.

    Parameters
    ----------
    n_fields : int
        F >= 2 (one field has no pair).
    embedding_dim : int
        D.
    kind : {"field_all", "field_each", "field_interaction"}
        Which W each pair uses (see the module docstring).

    Examples
    --------
    >>> layer = BilinearInteraction(n_fields=4, embedding_dim=3, kind="field_each")
    >>> layer(torch.ones(2, 4, 3)).shape, layer.weight.shape  # 6 pairs; F - 1 matrices
    (torch.Size([2, 6, 3]), torch.Size([3, 3, 3]))
    """

    def __init__(self, n_fields: int, embedding_dim: int, kind: str = "field_all"):
        super().__init__()
        self.n_fields = check_int(n_fields, "n_fields", minimum=2)
        self.embedding_dim = check_positive_int(embedding_dim, "embedding_dim")
        if kind not in BILINEAR_KINDS:
            raise ValueError(f"kind must be one of {BILINEAR_KINDS}, got {kind!r}")
        self.kind = kind
        first, second = torch.triu_indices(self.n_fields, self.n_fields, offset=1)
        self.register_buffer("first", first, persistent=False)  # (P,) i of each pair
        self.register_buffer("second", second, persistent=False)  # (P,) j of each pair
        n_matrices = {"field_all": 1, "field_each": self.n_fields - 1, "field_interaction": len(first)}[kind]
        d = self.embedding_dim
        # N(0, 1/D): v_i W keeps the scale of v_i, as a Xavier-like start would.
        weight = torch.randn(n_matrices, d, d) / d ** 0.5
        self.weight = nn.Parameter(weight[0] if kind == "field_all" else weight)

    def forward(self, embeddings: torch.Tensor) -> torch.Tensor:
        """Pair vectors of shape (B, F(F−1)/2, D) from field embeddings of shape (B, F, D)."""
        check_tensor(embeddings, "embeddings", 3)
        check_width(embeddings, "embeddings", 1, self.n_fields, "fields")
        check_width(embeddings, "embeddings", 2, self.embedding_dim, "embedding dimensions")
        right = embeddings[:, self.second]  # (B, P, D) v_j
        if self.kind == "field_all":
            left = (embeddings @ self.weight)[:, self.first]  # (B, P, D): F products, not P
        elif self.kind == "field_each":
            projected = torch.einsum("bfd,fde->bfe", embeddings[:, :-1], self.weight)  # (B, F-1, D)
            left = projected[:, self.first]  # (B, P, D)
        else:
            left = torch.einsum("bpd,pde->bpe", embeddings[:, self.first], self.weight)  # (B, P, D)
        return left * right  # (B, P, D)
