"""Deep & Cross Network (深度交叉网络, DCN): explicit, bounded-degree feature crossing.

A cross layer (交叉层) multiplies the input ``x0`` element-wise with a linear map of the
current layer and adds a skip connection (DCN-V2: Wang, Shivanna, Cheng, Jain, Lin, Hong and
Chi, "DCN V2: Improved Deep & Cross Network and Practical Lessons for Web-scale Learning to
Rank Systems", WWW 2021, arXiv 2008.13535)::

    x_{l+1} = x0 ⊙ (W_l x_l + b_l) + x_l                  W_l: (d, d)

Each layer raises the polynomial degree in ``x0`` by one: l layers give every cross term
up to degree l + 1 (with the biases, all lower degrees too). The low-rank form (DCN-V2's
cost-effective variant, one expert of its mixture) writes ``W = U Vᵀ`` with U, V of shape
(d, r): 2dr parameters instead of d².
The first DCN (Wang, Fu, Fu and Wang, "Deep & Cross Network for Ad Click Predictions",
ADKDD 2017, arXiv 1708.05123) had a rank-one layer, ``x_{l+1} = x0 (x_lᵀ w_l) + b_l + x_l``
(:class:`CrossLayerV1`): its update is x0 times one scalar per row, so its crossing is far
weaker (it is the V2 layer with the rank-one ``W = 1 wᵀ``, the bias moved outside the product).

A DCN combines a cross network with a deep MLP, either stacked (the MLP reads the cross
network's output) or in parallel (both read x0, their outputs are concatenated).
"""
from __future__ import annotations

import torch
from torch import nn

from course._checks import check_int, check_positive_int, check_tensor, check_width

__all__ = ["CrossLayer", "CrossLayerV1", "CrossNetwork", "DCN"]


def _check_pair(layer: nn.Module, x0, x) -> None:
    check_tensor(x0, "x0", 2)
    check_tensor(x, "x", 2)
    if x0.shape != x.shape:
        raise ValueError(f"x0 and x must have the same shape, got x0 {tuple(x0.shape)} "
                         f"and x {tuple(x.shape)}")
    check_width(x0, "x0", 1, layer.dim, "features")


class CrossLayer(nn.Module):
    """One DCN-V2 cross layer: ``x0 ⊙ (W x + b) + x``, full ``W`` or low-rank ``W = U Vᵀ``.

    Parameters
    ----------
    dim : int
        d, the width of x0 and x.
    rank : int or None
        None for a full (d, d) ``W``; r in [1, d] for ``W = U Vᵀ`` (``self.v`` maps d → r, then
        ``self.u`` r → d with the bias b).

    Examples
    --------
    >>> layer = CrossLayer(4, rank=2)
    >>> x0 = torch.ones(3, 4)
    >>> layer(x0, x0).shape
    torch.Size([3, 4])
    """

    def __init__(self, dim: int, rank: int | None = None):
        super().__init__()
        self.dim = check_positive_int(dim, "dim")
        self.rank = None if rank is None else check_int(rank, "rank", minimum=1, maximum=self.dim)
        if self.rank is None:
            self.w = nn.Linear(self.dim, self.dim)  # W x + b
        else:
            self.v = nn.Linear(self.dim, self.rank, bias=False)  # Vᵀ x
            self.u = nn.Linear(self.rank, self.dim)  # U (Vᵀ x) + b

    def forward(self, x0: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """``x0 ⊙ (W x + b) + x``; x0 and x of shape (B, d); returns (B, d)."""
        _check_pair(self, x0, x)
        linear = self.w(x) if self.rank is None else self.u(self.v(x))  # (B, d)
        return x0 * linear + x


class CrossLayerV1(nn.Module):
    """One DCN-V1 cross layer: ``x0 (xᵀ w) + b + x`` (Wang et al., ADKDD 2017).

    ``w`` and ``b`` are d-vectors: 2d parameters. The update ``x0 (xᵀ w)`` is x0 times one
    scalar per row: ``x0 ⊙ (1 wᵀ x)``, the V2 layer with ``W = 1 wᵀ`` (rank one) and the bias
    added after the product instead of inside it.

    Examples
    --------
    >>> layer = CrossLayerV1(3)
    >>> layer(torch.ones(2, 3), torch.ones(2, 3)).shape
    torch.Size([2, 3])
    """

    def __init__(self, dim: int):
        super().__init__()
        self.dim = check_positive_int(dim, "dim")
        self.w = nn.Parameter(torch.randn(self.dim) / self.dim ** 0.5)
        self.b = nn.Parameter(torch.zeros(self.dim))

    def forward(self, x0: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """``x0 (xᵀ w) + b + x``; x0 and x of shape (B, d); returns (B, d)."""
        _check_pair(self, x0, x)
        return x0 * (x @ self.w).unsqueeze(1) + self.b + x  # (B, d)


class CrossNetwork(nn.Module):
    """``n_layers`` cross layers on one x0: ``x_{l+1} = layer_l(x0, x_l)``, from ``x_0 = x0``.

    Parameters
    ----------
    dim, rank
        As in :class:`CrossLayer`.
    n_layers : int
        l >= 1: the output is a polynomial of degree l + 1 in x0.
    version : {2, 1}
        2: :class:`CrossLayer` (DCN-V2); 1: :class:`CrossLayerV1` (``rank`` must be None).

    Examples
    --------
    >>> CrossNetwork(5, n_layers=3)(torch.zeros(2, 5)).shape
    torch.Size([2, 5])
    """

    def __init__(self, dim: int, n_layers: int, rank: int | None = None, version: int = 2):
        super().__init__()
        check_positive_int(n_layers, "n_layers")
        if version not in (1, 2) or isinstance(version, bool):
            raise ValueError(f"version must be 1 or 2, got {version!r}")
        if version == 1 and rank is not None:
            raise ValueError(f"a DCN-V1 layer is rank one by construction: rank must be None, got {rank!r}")
        self.dim = check_positive_int(dim, "dim")
        make = (lambda: CrossLayer(dim, rank)) if version == 2 else (lambda: CrossLayerV1(dim))
        self.layers = nn.ModuleList(make() for _ in range(n_layers))

    def forward(self, x0: torch.Tensor) -> torch.Tensor:
        """x_l of shape (B, d) from x0 of shape (B, d)."""
        x = x0
        for layer in self.layers:
            x = layer(x0, x)  # (B, d)
        return x


def _mlp(width: int, hidden_dims) -> tuple[nn.Sequential, int]:
    layers = []
    for hidden in hidden_dims:
        layers += [nn.Linear(width, check_positive_int(hidden, "hidden_dims entry")), nn.ReLU()]
        width = hidden
    return nn.Sequential(*layers), width


class DCN(nn.Module):
    """A cross network and a deep MLP, stacked or parallel, then a linear head: logits (B,).

    ``structure="stacked"``: ``logit = h(MLP(Cross(x0)))``; ``"parallel"``:
    ``logit = h([Cross(x0), MLP(x0)])``, the two structures of the DCN-V2 paper. ``x0`` is the
    concatenation of the feature embeddings and numeric features, built outside the model.

    Parameters
    ----------
    input_dim : int
        d, the width of x0.
    n_cross_layers : int
    hidden_dims : tuple of int
        The deep part's ReLU layers; ``()`` leaves it out (the identity).
    structure : {"stacked", "parallel"}
    rank : int or None
        Low-rank cross layers (see :class:`CrossLayer`).

    Examples
    --------
    >>> model = DCN(6, n_cross_layers=2, hidden_dims=(8, 4), structure="parallel")
    >>> model(torch.zeros(3, 6)).shape, model.head.in_features  # 6 from the cross net + 4
    (torch.Size([3]), 10)
    """

    def __init__(self, input_dim: int, n_cross_layers: int = 2, hidden_dims=(64, 32),
                 structure: str = "stacked", rank: int | None = None):
        super().__init__()
        if structure not in ("stacked", "parallel"):
            raise ValueError(f"structure must be 'stacked' or 'parallel', got {structure!r}")
        self.structure = structure
        self.cross = CrossNetwork(input_dim, n_cross_layers, rank=rank)
        # Stacked: the MLP reads the cross output (width d); parallel: it reads x0 (width d too).
        self.deep, deep_width = _mlp(input_dim, hidden_dims)
        self.head = nn.Linear(deep_width if structure == "stacked" else input_dim + deep_width, 1)

    def forward(self, x0: torch.Tensor) -> torch.Tensor:
        """Logits of shape (B,) from x0 of shape (B, d)."""
        if self.structure == "stacked":
            hidden = self.deep(self.cross(x0))  # (B, h)
        else:
            hidden = torch.cat([self.cross(x0), self.deep(x0)], dim=1)  # (B, d + h)
        return self.head(hidden).squeeze(1)  # (B,)
