"""FeatureEmbedding: every field of a FeatureSet as one D-dimensional vector, (B, F, D).

Categorical fields look up an embedding (嵌入) per code, one table per field (stored as one
matrix with offsets: field f's code c is row ``offset_f + c``). Numeric fields enter the way a
factorization machine treats a real-valued feature (Rendle, "Factorization Machines", ICDM
2010): field j's slice is ``x_j · v_j``, its value times one learned vector. So every field, of
either kind, is a (B, D) slice, and an FM, SENet or bilinear crossing reads the (B, F, D) stack
directly, while an MLP or a shared bottom reads it flattened to (B, F·D).

Code 0 of each field (missing or unseen) has its own learned vector, like any other value: the
model learns what "gender not filled in" means instead of being told it is zero.
"""
from __future__ import annotations

import torch
from torch import nn

from course._checks import check_int, check_positive_int, check_real

__all__ = ["FeatureEmbedding", "FeatureModel"]


class FeatureEmbedding(nn.Module):
    """Embed categorical codes and scale numeric values into a (B, F, D) tensor.

    Parameters
    ----------
    cardinalities : sequence of int
        Codes per categorical field (``FeatureSet.cardinalities``), each >= 1.
    n_numeric : int
        Number of numeric fields (>= 0).
    dim : int
        D, the vector size of every field.
    init_std : float
        Standard deviation of the normal initialisation of every vector.

    Examples
    --------
    >>> emb = FeatureEmbedding((3, 5), n_numeric=2, dim=4)
    >>> fields = emb(torch.tensor([[0, 4], [2, 1]]), torch.tensor([[1.0, 0.0], [2.0, -1.0]]))
    >>> tuple(fields.shape), emb.n_fields, emb.output_dim
    ((2, 4, 4), 4, 16)
    >>> bool(torch.allclose(fields[1, 2], 2.0 * emb.numeric_vectors[0]))   # x_j · v_j
    True
    """

    def __init__(self, cardinalities, n_numeric: int, dim: int, init_std: float = 0.05):
        super().__init__()
        if isinstance(cardinalities, (str, int)) or not hasattr(cardinalities, "__iter__"):
            raise TypeError(f"cardinalities must be a sequence of ints, got {cardinalities!r}")
        cardinalities = tuple(check_int(c, "cardinalities", minimum=1) for c in cardinalities)
        n_numeric = check_int(n_numeric, "n_numeric", minimum=0)
        check_positive_int(dim, "dim")
        check_real(init_std, "init_std", low=0, low_open=True)
        if not cardinalities and n_numeric == 0:
            raise ValueError("FeatureEmbedding needs at least one field (categorical or numeric)")
        self.cardinalities, self.n_numeric, self.dim = cardinalities, n_numeric, dim
        offsets = torch.tensor((0,) + cardinalities[:-1], dtype=torch.int64).cumsum(0) \
            if cardinalities else torch.zeros(0, dtype=torch.int64)
        self.register_buffer("offsets", offsets, persistent=False)
        self.embedding = nn.Embedding(max(sum(cardinalities), 1), dim)
        self.numeric_vectors = nn.Parameter(torch.empty(n_numeric, dim))
        nn.init.normal_(self.embedding.weight, std=init_std)
        nn.init.normal_(self.numeric_vectors, std=init_std)

    @property
    def n_fields(self) -> int:
        """F = number of categorical + numeric fields."""
        return len(self.cardinalities) + self.n_numeric

    @property
    def output_dim(self) -> int:
        """F · D, the width of the flattened output."""
        return self.n_fields * self.dim

    def forward(self, categorical: torch.Tensor, numeric: torch.Tensor | None = None) -> torch.Tensor:
        """Fields of shape (B, F, D): categorical first, then numeric, in the FeatureSet's order.

        Parameters
        ----------
        categorical : integer Tensor of shape (B, n_categorical)
            Codes, field f's in ``[0, cardinalities[f])``.
        numeric : float Tensor of shape (B, n_numeric), or None when there is no numeric field
        """
        if not isinstance(categorical, torch.Tensor):
            raise TypeError(f"categorical must be a torch.Tensor, got {type(categorical).__name__}")
        if categorical.is_floating_point() or categorical.dtype == torch.bool:
            raise TypeError(f"categorical must hold integer codes, got dtype {categorical.dtype}")
        if categorical.ndim != 2 or categorical.shape[1] != len(self.cardinalities):
            raise ValueError(f"categorical must have shape (B, {len(self.cardinalities)}), got "
                             f"{tuple(categorical.shape)}")
        batch = categorical.shape[0]
        if numeric is None:
            if self.n_numeric:
                raise ValueError(f"numeric is None but the embedding has {self.n_numeric} numeric fields")
            numeric = torch.zeros(batch, 0)
        if not isinstance(numeric, torch.Tensor) or not numeric.is_floating_point():
            raise TypeError(f"numeric must be a floating torch.Tensor, got {getattr(numeric, 'dtype', type(numeric).__name__)}")
        if numeric.shape != (batch, self.n_numeric):
            raise ValueError(f"numeric must have shape ({batch}, {self.n_numeric}), got {tuple(numeric.shape)}")
        limits = torch.tensor(self.cardinalities, dtype=torch.int64)
        if categorical.numel() and bool(((categorical < 0) | (categorical >= limits)).any()):
            bad = int(((categorical < 0) | (categorical >= limits)).any(dim=0).nonzero()[0, 0])
            raise ValueError(f"codes of categorical field {bad} must lie in [0, "
                             f"{self.cardinalities[bad]}), got {categorical[:, bad].min().item()}.."
                             f"{categorical[:, bad].max().item()}")
        looked_up = self.embedding(categorical.long() + self.offsets)                 # (B, C, D)
        scaled = numeric.to(self.numeric_vectors.dtype).unsqueeze(2) * self.numeric_vectors  # (B, N, D)
        return torch.cat([looked_up, scaled], dim=1)                                   # (B, F, D)


class FeatureModel(nn.Module):
    """A model on top of a :class:`FeatureEmbedding`: ``model(embedding(categorical, numeric))``.

    The glue every ranker of chapters 3–5 needs: the embedding turns a FeatureSet batch into
    field vectors, and ``model`` (a shared bottom, MMoE, DCN, an FM …) reads them, flattened to
    (B, F·D) or, with ``flatten=False``, as the (B, F, D) stack crossing layers want.

    Parameters
    ----------
    embedding : FeatureEmbedding
    model : nn.Module
        Takes (B, F·D) (or (B, F, D)) and returns logits.
    flatten : bool

    Examples
    --------
    >>> emb = FeatureEmbedding((3,), n_numeric=1, dim=2)
    >>> net = FeatureModel(emb, nn.Linear(emb.output_dim, 2))
    >>> tuple(net(torch.tensor([[1], [2]]), torch.ones(2, 1)).shape)
    (2, 2)
    """

    def __init__(self, embedding: FeatureEmbedding, model: nn.Module, flatten: bool = True):
        super().__init__()
        if not isinstance(embedding, FeatureEmbedding):
            raise TypeError(f"embedding must be a FeatureEmbedding, got {type(embedding).__name__}")
        if not isinstance(model, nn.Module):
            raise TypeError(f"model must be an nn.Module, got {type(model).__name__}")
        self.embedding, self.model, self.flatten = embedding, model, bool(flatten)

    def forward(self, categorical: torch.Tensor, numeric: torch.Tensor | None = None) -> torch.Tensor:
        fields = self.embedding(categorical, numeric)                  # (B, F, D)
        return self.model(fields.flatten(1) if self.flatten else fields)  # (B, F·D) or (B, F, D)
