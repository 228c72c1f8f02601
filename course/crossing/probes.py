"""Did a model learn a cross? Read it from its predictions and compare it with the truth.

A cross of two fields a and b is the part of the logit that depends on a and b *together*:
what is left of a table ``M[a, b]`` after removing its row and column effects (double centring,
双重中心化)::

    M̃[a, b] = M[a, b] − mean_b M[a, ·] − mean_a M[·, b] + mean M

An additive model (LR) has M̃ = 0 exactly; the world's click model has M̃ = the centred
``A[age, category]`` (its explicit cross table). :func:`cross_dependence` measures M for any
model by partial dependence (部分依赖): set field a to each value in turn on a sample of real
rows, predict, and average the logits by field b's value. :func:`cross_agreement` is the
correlation of two double-centred tables: 1 when the model's cross has the truth's shape.
"""
from __future__ import annotations

import numpy as np
import torch

from course._checks import check_int
from course.training import predict

__all__ = ["double_centre", "cross_agreement", "cross_dependence", "code_to_truth"]


def double_centre(table) -> np.ndarray:
    """``M − row means − column means + grand mean`` of a 2-D table.

    Examples
    --------
    >>> double_centre(np.add.outer([0.0, 1.0], [0.0, 5.0, 7.0]))  # additive: nothing left
    array([[0., 0., 0.],
           [0., 0., 0.]])
    """
    table = np.asarray(table, dtype=float)
    if table.ndim != 2 or min(table.shape) < 2:
        raise ValueError(f"table must be 2-D with at least 2 rows and 2 columns, got shape {table.shape}")
    return (table - table.mean(axis=1, keepdims=True) - table.mean(axis=0, keepdims=True) + table.mean())


def cross_agreement(learned, truth) -> float:
    """Pearson correlation of the double-centred ``learned`` and ``truth`` tables (same shape).

    0 when either table has no interaction (its centred entries are below 1e-5 of its largest
    entry: rounding noise of an additive model's float32 logits).

    Examples
    --------
    >>> truth = np.array([[1.0, -1.0], [-1.0, 1.0]])
    >>> cross_agreement(3 * truth + 2, truth), cross_agreement(np.ones((2, 2)), truth)
    (1.0, 0.0)
    """
    if np.shape(learned) != np.shape(truth):
        raise ValueError(f"learned and truth must have the same shape, got {np.shape(learned)} and {np.shape(truth)}")
    a, b = double_centre(learned).ravel(), double_centre(truth).ravel()
    # An additive model leaves only rounding noise (float32 logits): treat it as no cross at all.
    if (np.abs(a).max() <= 1e-5 * max(np.abs(learned).max(), 1e-12)
            or np.abs(b).max() <= 1e-5 * max(np.abs(truth).max(), 1e-12)):
        return 0.0
    return float(np.corrcoef(a, b)[0, 1])


def cross_dependence(model, categorical, numeric, field_a: int, codes_a, field_b: int, codes_b,
                     batch_size: int = 8192) -> np.ndarray:
    """Partial dependence table ``M[i, j]``: the mean logit over the rows whose field ``field_b``
    holds ``codes_b[j]``, with field ``field_a`` set to ``codes_a[i]`` on every row.

    Parameters
    ----------
    model : nn.Module
        Called as ``model(categorical, numeric)`` → logits (B,).
    categorical : int64 array of shape (n, n_categorical)
    numeric : float32 array of shape (n, n_numeric)
    field_a, field_b : int
        Column indices of two different categorical fields.
    codes_a, codes_b : sequences of int
        The values of a to impose, the values of b to group by (every one must occur).

    Returns
    -------
    ndarray of shape (len(codes_a), len(codes_b))
    """
    categorical = np.asarray(categorical)
    if categorical.ndim != 2 or categorical.dtype.kind not in "iu":
        raise TypeError("categorical must be a 2-D integer array")
    n_fields = categorical.shape[1]
    field_a = check_int(field_a, "field_a", minimum=0, maximum=n_fields - 1)
    field_b = check_int(field_b, "field_b", minimum=0, maximum=n_fields - 1)
    if field_a == field_b:
        raise ValueError(f"field_a and field_b must differ, got {field_a} twice")
    codes_b = np.asarray(codes_b)
    groups = [np.flatnonzero(categorical[:, field_b] == code) for code in codes_b]
    empty = [int(code) for code, rows in zip(codes_b, groups) if len(rows) == 0]
    if empty:
        raise ValueError(f"no row has field {field_b} equal to {empty}")
    table = np.empty((len(codes_a), len(codes_b)))
    for i, code in enumerate(codes_a):  # one pass over the sample per imposed value
        changed = categorical.copy()
        changed[:, field_a] = code
        logits = predict(model, None, (torch.from_numpy(changed), torch.as_tensor(numeric)), batch_size)
        table[i] = [logits[rows].mean() for rows in groups]
    return table


def code_to_truth(codes, truth_index) -> dict[int, int]:
    """``{feature code: truth index}`` from aligned per-row arrays (codes 0 = missing skipped).

    Raises ValueError if one code maps to two truth values (the coding is not one-to-one).

    Examples
    --------
    >>> code_to_truth([1, 2, 0, 1], [4, 0, 3, 4])
    {1: 4, 2: 0}
    """
    codes, truth_index = np.asarray(codes), np.asarray(truth_index)
    if codes.shape != truth_index.shape:
        raise ValueError(f"codes and truth_index must be aligned, got {codes.shape} and {truth_index.shape}")
    mapping = {}
    for code in np.unique(codes[codes > 0]):
        values = np.unique(truth_index[codes == code])
        if len(values) != 1:
            raise ValueError(f"code {int(code)} maps to several truth values {values.tolist()}")
        mapping[int(code)] = int(values[0])
    return mapping
