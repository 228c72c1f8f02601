"""SENet over feature fields: learn a weight per field and re-weight the field embeddings.

From computer vision's squeeze-and-excitation block (Hu, Shen and Sun, "Squeeze-and-Excitation
Networks", CVPR 2018, arXiv 1709.01507), where the "channels" re-weighted are here the F
feature fields (FiBiNET: Huang, Zhang and Zhang, "FiBiNET: Combining Feature Importance and
Bilinear Feature Interaction for Click-Through Rate Prediction", RecSys 2019, arXiv 1905.09433)::

    z_f = mean_d V[f, d]                       squeeze:    (F, D) → (F,)
    a   = σ2(W2 σ1(W1 z))                      excitation: F → F/r → F,  W1: (F/r, F), W2: (F, F/r)
    V'  = a ⊙ V      (V'[f] = a_f V[f])        re-weight every field

σ1 is ReLU. σ2 is a sigmoid in Hu et al. and in Wang Shusen's lecture (weights in (0, 1)),
a ReLU in common FiBiNET implementations such as DeepCTR's (weights in [0, ∞), able to
amplify a field); ``activation`` chooses. No biases,
as both papers write it: 2·F·⌊F/r⌋ parameters. Fields must share the width D here (the
lecture also allows fields of different widths, as the squeeze is a per-field mean).
"""
from __future__ import annotations

import torch
from torch import nn

from course._checks import check_positive_int, check_tensor, check_width

__all__ = ["SENet"]


class SENet(nn.Module):
    """Squeeze-excitation re-weighting of F field embeddings: ``V' = a(V) ⊙ V``.

    Parameters
    ----------
    n_fields : int
        F.
    reduction_ratio : int
        r: the excitation's bottleneck has ``max(1, F // r)`` units.
    activation : {"sigmoid", "relu"}
        σ2, the last activation: "sigmoid" (Hu et al., the lecture) or "relu" (FiBiNET's
        implementations).

    Examples
    --------
    >>> senet = SENet(n_fields=6, reduction_ratio=3)
    >>> senet(torch.ones(2, 6, 4)).shape, senet.weights(torch.ones(2, 6, 4)).shape
    (torch.Size([2, 6, 4]), torch.Size([2, 6]))
    """

    def __init__(self, n_fields: int, reduction_ratio: int = 3, activation: str = "sigmoid"):
        super().__init__()
        self.n_fields = check_positive_int(n_fields, "n_fields")
        self.reduction_ratio = check_positive_int(reduction_ratio, "reduction_ratio")
        if activation not in ("sigmoid", "relu"):
            raise ValueError(f"activation must be 'sigmoid' or 'relu', got {activation!r}")
        self.activation = activation
        bottleneck = max(1, self.n_fields // self.reduction_ratio)  # F < r would leave no unit
        self.squeeze_to_bottleneck = nn.Linear(self.n_fields, bottleneck, bias=False)  # W1
        self.bottleneck_to_fields = nn.Linear(bottleneck, self.n_fields, bias=False)  # W2

    def weights(self, embeddings: torch.Tensor) -> torch.Tensor:
        """The field weights ``a`` of shape (B, F) from embeddings of shape (B, F, D)."""
        check_tensor(embeddings, "embeddings", 3)
        check_width(embeddings, "embeddings", 1, self.n_fields, "fields")
        z = embeddings.mean(dim=2)  # (B, F)
        hidden = torch.relu(self.squeeze_to_bottleneck(z))  # (B, F/r)
        out = self.bottleneck_to_fields(hidden)  # (B, F)
        return torch.sigmoid(out) if self.activation == "sigmoid" else torch.relu(out)

    def forward(self, embeddings: torch.Tensor) -> torch.Tensor:
        """Re-weighted embeddings of shape (B, F, D)."""
        return embeddings * self.weights(embeddings).unsqueeze(2)  # (B, F, D)
