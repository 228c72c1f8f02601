"""A crossing block inside a two-tower tower: SENet re-weighting the user tower's fields.

The two-tower model (chapter 2, :class:`course.recall.two_tower.Tower`) may cross features
*within* a tower, never between the towers (the item vectors are computed offline, before any
user is known). Wang Shusen's lecture puts SENet there: it learns which of the user's fields
matter for this user, ``V' = a(V) ⊙ V``, before the tower's MLP.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from course.crossing.senet import SENet
from course.recall.two_tower.model import Tower

__all__ = ["SENetTower"]


class SENetTower(Tower):
    """A :class:`~course.recall.two_tower.Tower` with SENet over its categorical field embeddings.

    ``f(x) = MLP([SENet(E_1[x_1], ..., E_F[x_F]) flattened, x_numeric])``; the arguments are
    Tower's, plus SENet's ``reduction_ratio`` and ``activation``.

    Examples
    --------
    >>> tower = SENetTower((5, 3, 4), n_numeric=1, embedding_dim=2, output_dim=3)
    >>> tower(torch.tensor([[1, 2, 3]]), torch.ones(1, 1)).shape
    torch.Size([1, 3])
    """

    def __init__(self, cardinalities, n_numeric: int = 0, embedding_dim: int = 16, hidden_dims=(64,),
                 output_dim: int = 32, normalize: bool = True, reduction_ratio: int = 2,
                 activation: str = "sigmoid"):
        super().__init__(cardinalities, n_numeric, embedding_dim, hidden_dims, output_dim, normalize)
        self.senet = SENet(len(self.cardinalities), reduction_ratio, activation)

    def forward(self, categorical: torch.Tensor, numeric: torch.Tensor) -> torch.Tensor:
        """Vectors of shape (B, D) from ``categorical`` (B, F) int64 and ``numeric`` (B, N)."""
        if categorical.ndim != 2 or categorical.shape[1] != len(self.cardinalities):
            raise ValueError(f"categorical must have shape (B, {len(self.cardinalities)}), "
                             f"got {tuple(categorical.shape)}")
        if numeric.ndim != 2 or numeric.shape != (len(categorical), self.n_numeric):
            raise ValueError(f"numeric must have shape ({len(categorical)}, {self.n_numeric}), "
                             f"got {tuple(numeric.shape)}")
        if (categorical < 0).any() or (categorical >= self.sizes).any():
            raise ValueError(f"categorical codes must lie in [0, cardinality) per column, "
                             f"cardinalities {self.cardinalities}")
        fields = self.embedding(categorical + self.offsets)  # (B, F, E)
        fields = self.senet(fields).flatten(1)  # (B, F E)
        out = self.mlp(torch.cat([fields, numeric], dim=1))  # (B, D)
        return F.normalize(out, dim=1) if self.normalize else out
