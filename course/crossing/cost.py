"""What a crossing model costs per prediction: parameters and multiply-adds (乘加次数).

:func:`multiply_adds` runs one forward pass with hooks and adds up, per row of the batch, the
multiply-adds of every block it knows. One multiply-add is ``acc += a * b``; a lone addition or
a lone multiplication counts as one too. Activations (ReLU, sigmoid), embedding look-ups,
reshapes and concatenations are not counted: they are cheap or memory-bound, and every model
of the chapter has them in similar amounts. The rules, block by block:

=======================  ===========================================================
``nn.Linear``            in · out (the accumulator starts at the bias)
``CrossLayer``           its linear map (counted by the rule above) + d for
                         ``x0 ⊙ (·) + x`` (one fused multiply-add per unit)
``CrossLayerV1``         d for ``xᵀw`` + d for ``x0 · s + x`` + d for ``+ b``
``FM``                   F for the linear sum + k(2F + 1) for the pair term (the identity)
``SENet``                F·D for the squeeze (means) + its two linear maps + F·D to re-weight
``BilinearInteraction``  (matrices applied) · D² + P · D for the Hadamard products
``LHUCGate``             its gate MLP + m for ``hidden ⊙ gate``
``FieldLinear``          F for the sum of the field weights
``FieldFM``              its FieldLinear + k(2F + 1) for the pair term
=======================  ===========================================================

where P = F(F−1)/2 pairs and "matrices applied" is F for ``field_all`` (each field's v W is
computed once), F−1 for ``field_each`` and P for ``field_interaction``.
"""
from __future__ import annotations

import torch
from torch import nn

from course.crossing.bilinear import BilinearInteraction
from course.crossing.cross import CrossLayer, CrossLayerV1
from course.crossing.fm import FM, fm_cost
from course.crossing.lhuc import LHUCGate
from course.crossing.rankers import FieldFM, FieldLinear
from course.crossing.senet import SENet

__all__ = ["count_parameters", "multiply_adds"]


def count_parameters(model: nn.Module) -> int:
    """Number of trainable scalars in ``model``.

    Examples
    --------
    >>> count_parameters(CrossLayer(3))  # W (3 x 3) and b (3)
    12
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    return int(sum(p.numel() for p in model.parameters() if p.requires_grad))


def _bilinear(module: BilinearInteraction) -> int:
    f, d = module.n_fields, module.embedding_dim
    pairs = f * (f - 1) // 2
    matrices = {"field_all": f, "field_each": f - 1, "field_interaction": pairs}[module.kind]
    return matrices * d * d + pairs * d


def _fm(module: FM) -> int:
    f = len(module.cardinalities)
    return f + fm_cost(f, module.embedding_dim)["identity"]


def _senet(module: SENet, embeddings: torch.Tensor) -> int:
    return 2 * module.n_fields * embeddings.shape[2]


# Each rule: (module, its inputs) -> multiply-adds for one row, its sub-modules excluded.
RULES = {
    nn.Linear: lambda m, inputs: m.in_features * m.out_features,
    CrossLayer: lambda m, inputs: m.dim,
    CrossLayerV1: lambda m, inputs: 3 * m.dim,
    FM: lambda m, inputs: _fm(m),
    SENet: lambda m, inputs: _senet(m, inputs[0]),
    BilinearInteraction: lambda m, inputs: _bilinear(m),
    LHUCGate: lambda m, inputs: m.hidden_dim,
    FieldLinear: lambda m, inputs: m.weights.n_fields,
    FieldFM: lambda m, inputs: fm_cost(m.embedding.n_fields, m.embedding.dim)["identity"],
}


def multiply_adds(model: nn.Module, *inputs: torch.Tensor) -> int:
    """Multiply-adds of one prediction: one forward pass of ``model(*inputs)``, per row.

    Parameters
    ----------
    model : torch.nn.Module
    *inputs : Tensor, each of shape (batch, ...)
        An example batch (a few rows are enough: the count does not depend on the values).
        A module called several times in the pass is counted every time.

    Returns
    -------
    int
        The sum of the rules in the module docstring over every call (each rule counts one row).

    Examples
    --------
    >>> net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))
    >>> multiply_adds(net, torch.zeros(5, 4))  # 4·8 + 8·1
    40
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if not inputs or not all(isinstance(x, torch.Tensor) for x in inputs):
        raise TypeError("multiply_adds needs at least one example input tensor")
    batch = inputs[0].shape[0] if inputs[0].ndim else 0
    if batch < 1:
        raise ValueError(f"the example inputs need a batch axis with at least one row, got shape "
                         f"{tuple(inputs[0].shape)}")
    total = [0]
    handles = []
    for module in model.modules():
        rule = RULES.get(type(module))
        if rule is not None:
            handles.append(module.register_forward_hook(
                lambda m, args, out, rule=rule: total.__setitem__(0, total[0] + rule(m, args))))
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            model(*inputs)
    finally:
        for handle in handles:
            handle.remove()
        model.train(was_training)
    return int(total[0])
