"""Tensor checks shared by the crossing blocks (private).

The numpy checks of :mod:`course._checks` never cast and work on arrays; the blocks here take
torch tensors inside ``forward``, so they get the same rule (TypeError for a wrong type,
ValueError naming the expected and the actual shape) in one place.
"""
from __future__ import annotations

import torch


def check_tensor(x, name: str, ndim: int, *, floating: bool = True) -> torch.Tensor:
    """``x`` itself if it is a tensor with ``ndim`` dimensions (and a float dtype if asked)."""
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    if x.ndim != ndim:
        raise ValueError(f"{name} must be a {ndim}-D tensor, got shape {tuple(x.shape)}")
    if floating and not x.is_floating_point():
        raise TypeError(f"{name} must have a floating dtype, got {x.dtype}")
    if not floating and (x.is_floating_point() or x.is_complex() or x.dtype == torch.bool):
        raise TypeError(f"{name} must have an integer dtype, got {x.dtype}")
    return x


def check_width(x: torch.Tensor, name: str, axis: int, expected: int, what: str) -> None:
    """ValueError unless ``x.shape[axis] == expected`` (``what`` names that axis)."""
    if x.shape[axis] != expected:
        raise ValueError(f"{name} must have {expected} {what} (axis {axis}), "
                         f"got shape {tuple(x.shape)}")
