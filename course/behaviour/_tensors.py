"""Tensor checks shared by the behaviour blocks (private): one message for one mistake."""
from __future__ import annotations

import torch


def check_tensor(x, name: str, ndim: int, *, kind: str = "float") -> torch.Tensor:
    """``x`` if it is a tensor with ``ndim`` dimensions of ``kind`` ("float", "int" or "bool")."""
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    if x.ndim != ndim:
        raise ValueError(f"{name} must be a {ndim}-D tensor, got shape {tuple(x.shape)}")
    ok = {"float": x.is_floating_point(), "bool": x.dtype == torch.bool,
          "int": not x.is_floating_point() and not x.is_complex() and x.dtype != torch.bool}[kind]
    if not ok:
        raise TypeError(f"{name} must have a {kind} dtype, got {x.dtype}")
    return x


def check_history(history, mask, candidate=None, dim: int | None = None):
    """Check ``history`` (B, N, d), ``mask`` (B, N) bool and ``candidate`` (B, d) agree."""
    check_tensor(history, "history", 3)
    check_tensor(mask, "mask", 2, kind="bool")
    if tuple(mask.shape) != tuple(history.shape[:2]):
        raise ValueError(f"mask must have shape (B, N) = {tuple(history.shape[:2])} to match "
                         f"history {tuple(history.shape)}, got {tuple(mask.shape)}")
    if candidate is not None:
        check_tensor(candidate, "candidate", 2)
        if tuple(candidate.shape) != (history.shape[0], history.shape[2]):
            raise ValueError(f"candidate must have shape (B, d) = "
                             f"{(history.shape[0], history.shape[2])} to match history "
                             f"{tuple(history.shape)}, got {tuple(candidate.shape)}")
    if dim is not None and history.shape[2] != dim:
        raise ValueError(f"history must have width d = {dim} (axis 2), got shape {tuple(history.shape)}")
