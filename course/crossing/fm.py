"""Factorization machine (因子分解机, FM): pairwise feature crossing in O(kn).

A linear model ``w0 + Σ_i w_i x_i`` sees no interaction; adding every pair's own weight
``Σ_{i<j} u_ij x_i x_j`` costs n²/2 parameters and cannot learn a pair never seen together.
FM (Rendle, "Factorization Machines", ICDM 2010) writes ``u_ij = <v_i, v_j>`` with one
k-dimensional vector per feature (a low-rank ``U = V Vᵀ``)::

    ŷ = w0 + Σ_i w_i x_i + Σ_{i<j} <v_i, v_j> x_i x_j

and the pair sum needs no pairs (Rendle 2010, Lemma 3.1)::

    Σ_{i<j} <v_i, v_j> x_i x_j = ½ Σ_k [ (Σ_i v_ik x_i)² − Σ_i v_ik² x_i² ]

so it costs O(kn) instead of O(kn²) (:func:`fm_cost` counts both). Here the features come
as fields (one categorical id per field, e.g. user id, item id, city), so ``x_i`` is 1 for the
one active value of each field, optionally scaled by a value (a numeric field's value, or a
weight); ``v_i x_i`` is then the field's embedding times that value.
"""
from __future__ import annotations

import torch
from torch import nn

from course._checks import check_int, check_positive_int, check_tensor, check_width

__all__ = ["fm_interaction", "fm_cost", "FM"]


def fm_interaction(embeddings: torch.Tensor) -> torch.Tensor:
    """The FM second-order term ``Σ_{i<j} <v_i, v_j>`` of each row, by the O(kn) identity.

    ``½ Σ_k [(Σ_f v_fk)² − Σ_f v_fk²]``: the square of the sum holds every pair twice plus each
    field with itself; subtracting the squares and halving leaves each pair once.

    Parameters
    ----------
    embeddings : Tensor of shape (batch, n_fields, k)
        Each field's vector, already multiplied by its value ``x_f``.

    Returns
    -------
    Tensor of shape (batch,)

    Examples
    --------
    >>> v = torch.tensor([[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]])
    >>> fm_interaction(v)  # <v1,v2> + <v1,v3> + <v2,v3> = 11 + 17 + 39
    tensor([67.])
    """
    check_tensor(embeddings, "embeddings", 3)
    square_of_sum = embeddings.sum(dim=1).pow(2)  # (B, k)
    sum_of_squares = embeddings.pow(2).sum(dim=1)  # (B, k)
    return 0.5 * (square_of_sum - sum_of_squares).sum(dim=1)  # (B,)


def fm_cost(n_fields: int, embedding_dim: int) -> dict[str, int]:
    """Multiply-adds of the FM pair term for one row: the pair loop against the identity.

    One multiply-add is ``a += b * c`` (an addition or a square alone counts as one too)::

        naive    = n(n−1)/2 · k      (each pair's inner product: k multiply-adds)
        identity = k (2n + 1)        (per dimension: n adds for Σ v, n for Σ v², 1 to square
                                      the sum and subtract) ~ 2nk

    The final ½ and the sum over k are left out of both (the same k − 1 adds either way).

    Parameters
    ----------
    n_fields : int
        n >= 1.
    embedding_dim : int
        k >= 1.

    Examples
    --------
    >>> fm_cost(100, 16)
    {'naive': 79200, 'identity': 3216}
    """
    n = check_positive_int(n_fields, "n_fields")
    k = check_positive_int(embedding_dim, "embedding_dim")
    return {"naive": n * (n - 1) // 2 * k, "identity": k * (2 * n + 1)}


class FM(nn.Module):
    """FM over categorical fields: ``ŷ = w0 + Σ_f w_f x_f + Σ_{f<g} <v_f, v_g> x_f x_g``.

    Input format: ``ids`` of shape (B, F), int64, column f holding field f's value in
    ``[0, cardinalities[f])`` (one active value per field: the one-hot ``x`` of the paper, only
    its non-zero positions); optional ``values`` of shape (B, F), the ``x_f`` of those active
    positions (default 1: pure one-hot). Every field value has a weight ``w`` and a vector ``v``.

    Parameters
    ----------
    cardinalities : sequence of int
        Values per field (each >= 1).
    embedding_dim : int
        k, the width of each ``v``.

    Examples
    --------
    >>> fm = FM([10, 4, 3], embedding_dim=5)
    >>> fm(torch.tensor([[1, 0, 2], [9, 3, 0]])).shape
    torch.Size([2])
    """

    def __init__(self, cardinalities, embedding_dim: int = 8):
        super().__init__()
        cardinalities = tuple(check_int(c, "cardinality", minimum=1) for c in cardinalities)
        if not cardinalities:
            raise ValueError("FM needs at least one field, got cardinalities ()")
        self.cardinalities = cardinalities
        self.embedding_dim = check_positive_int(embedding_dim, "embedding_dim")
        # One table for all fields, field f starting at offsets[f] (as in the two-tower Tower).
        n_values = sum(cardinalities)
        self.embedding = nn.Embedding(n_values, self.embedding_dim)
        nn.init.normal_(self.embedding.weight, std=0.01)  # small: the pair term is a product of two
        self.linear = nn.Embedding(n_values, 1)
        nn.init.zeros_(self.linear.weight)
        self.bias = nn.Parameter(torch.zeros(()))
        offsets = torch.tensor((0,) + cardinalities[:-1]).cumsum(0)
        self.register_buffer("offsets", offsets, persistent=False)
        self.register_buffer("sizes", torch.tensor(cardinalities), persistent=False)

    def forward(self, ids: torch.Tensor, values: torch.Tensor | None = None) -> torch.Tensor:
        """Logits of shape (B,) from ``ids`` (B, F) and optional ``values`` (B, F)."""
        check_tensor(ids, "ids", 2, floating=False)
        check_width(ids, "ids", 1, len(self.cardinalities), "fields")
        # An out-of-range id would silently read the next field's rows of the shared table.
        if (ids < 0).any() or (ids >= self.sizes).any():
            raise ValueError(f"ids must lie in [0, cardinality) per field, "
                             f"cardinalities {self.cardinalities}")
        if values is None:
            values = torch.ones(ids.shape, dtype=self.embedding.weight.dtype, device=ids.device)
        check_tensor(values, "values", 2)
        if values.shape != ids.shape:
            raise ValueError(f"values must have the shape of ids {tuple(ids.shape)}, got {tuple(values.shape)}")
        rows = ids + self.offsets  # (B, F) rows of the shared tables
        linear = (self.linear(rows).squeeze(-1) * values).sum(dim=1)  # (B,)
        vectors = self.embedding(rows) * values.unsqueeze(-1)  # (B, F, k)
        return self.bias + linear + fm_interaction(vectors)  # (B,)
