"""How the exercise checks describe and compare values (used by :mod:`course.exercises`).

A check needs two things that have nothing to do with running cases or printing verdicts:

* a **short, deterministic description** of any value (:func:`summarize`): an array of a
  million scores must print as one line, and the same value must print the same text twice,
  because nbval compares the stored output of every check cell;
* a **reason two values differ**, or ``None`` when they agree: :func:`difference` for a
  function's output against the reference's (shapes, then tolerances, element by element
  through lists and dicts), :func:`answer_difference` for a single answer (numbers are "too
  high" or "too low", never the expected value).

They live apart from :mod:`course.exercises` so that the check drivers there read as the loop a
learner expects (draw a case, run both functions, report the first failure), with the
type-by-type comparison rules in one place.
"""
from __future__ import annotations

import math
import re
from typing import Any

import numpy as np

__all__ = ["summarize", "difference", "answer_difference"]

_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")


def strip_addresses(text: str) -> str:
    """Remove memory addresses (`` at 0x7f...``), which change from run to run."""
    return _ADDRESS.sub("", text)


def as_numpy(value: Any) -> Any:
    """torch tensors (duck-typed, so torch is not imported) become numpy arrays."""
    if hasattr(value, "detach") and hasattr(value, "numpy"):
        return value.detach().cpu().numpy()
    return value


def format_scalar(x: Any) -> str:
    """A number with 6 significant digits, anything else as its address-free repr."""
    if isinstance(x, (float, np.floating)):
        return f"{float(x):.6g}"
    return strip_addresses(repr(x.item() if isinstance(x, np.generic) else x))


def summarize(value: Any, max_items: int = 5, max_chars: int = 80) -> str:
    """A one-line, deterministic description of ``value`` that stays short for big inputs.

    Arrays give their shape, dtype and first ``max_items`` values; long sequences their length
    and first items; other objects a repr cut at ``max_chars`` with memory addresses removed.

    Examples
    --------
    >>> summarize(np.arange(12.0).reshape(3, 4))
    'array of shape (3, 4), float64: [0, 1, 2, 3, 4, ...]'
    >>> summarize([3, 1, 2])
    '[3, 1, 2]'
    >>> summarize({"k": 2, "x": np.zeros(2)})
    '{k: 2, x: array of shape (2,), float64: [0, 0]}'
    """
    if max_items < 1:
        raise ValueError(f"max_items must be >= 1, got {max_items}")
    is_tensor = hasattr(value, "detach") and hasattr(value, "numpy")
    value = as_numpy(value)
    if isinstance(value, np.ndarray):
        kind = "tensor" if is_tensor else "array"
        flat = value.ravel()[:max_items]
        items = ", ".join(format_scalar(x) for x in flat)
        more = ", ..." if value.size > max_items else ""
        return f"{kind} of shape {value.shape}, {value.dtype}: [{items}{more}]"
    if isinstance(value, dict):
        parts = [f"{k}: {summarize(v, max_items, max_chars)}" for k, v in list(value.items())[:max_items]]
        more = ", ..." if len(value) > max_items else ""
        return "{" + ", ".join(parts) + more + "}"
    if isinstance(value, (list, tuple)) and len(value) > max_items:
        items = ", ".join(summarize(v, max_items, max_chars) for v in value[:max_items])
        return f"{type(value).__name__} of length {len(value)}: [{items}, ...]"
    if isinstance(value, (list, tuple)):
        items = ", ".join(summarize(v, max_items, max_chars) for v in value)
        return f"({items}{',' if len(value) == 1 else ''})" if isinstance(value, tuple) else f"[{items}]"
    text = format_scalar(value)
    return text if len(text) <= max_chars else text[: max_chars - 3] + "..."


def numeric_array(value: Any) -> np.ndarray | None:
    """``value`` as a numeric/bool ndarray, or None when it is not array-like."""
    value = as_numpy(value)
    if isinstance(value, (str, bytes, dict, set)) or value is None:
        return None
    try:
        array = np.asarray(value)
    except (ValueError, TypeError):  # ragged lists
        return None
    return array if array.dtype.kind in "biufc" else None


def difference(expected: Any, got: Any, rtol: float, atol: float) -> str | None:
    """Why a function's output ``got`` differs from the reference's ``expected`` (None: agree).

    Arrays, tensors and numbers must have the same shape and agree within
    ``numpy.isclose(rtol, atol)`` (booleans exactly); lists, tuples and dicts are compared
    element by element, naming the first position or key that differs; anything else with ``==``.

    Examples
    --------
    >>> difference(np.array([1.0, 2.0]), np.array([1.0, 2.5]), rtol=1e-6, atol=1e-8)
    '1 of 2 values differ; first at index (1,): expected 2, got 2.5'
    >>> difference({"k": 3}, {"k": 3}, rtol=1e-6, atol=1e-8) is None
    True
    """
    exp_array = numeric_array(expected)
    if exp_array is not None:
        got_array = numeric_array(got)
        if got_array is None:
            return f"expected {summarize(expected)}, got a {type(got).__name__}: {summarize(got)}"
        if exp_array.shape != got_array.shape:
            return f"expected shape {exp_array.shape}, got shape {got_array.shape}"
        if exp_array.dtype.kind == "b" or got_array.dtype.kind == "b":
            wrong = exp_array != got_array  # isclose cannot subtract booleans
        else:
            wrong = ~np.isclose(got_array, exp_array, rtol=rtol, atol=atol, equal_nan=True)
        if not wrong.any():
            return None
        if exp_array.ndim == 0:
            return f"expected {format_scalar(exp_array[()])}, got {format_scalar(got_array[()])}"
        index = tuple(int(i) for i in np.argwhere(wrong)[0])
        return (
            f"{int(wrong.sum())} of {wrong.size} values differ; first at index {index}: "
            f"expected {format_scalar(exp_array[index])}, got {format_scalar(got_array[index])}"
        )
    if isinstance(expected, dict):
        if not isinstance(got, dict) or set(got) != set(expected):
            return f"expected a dict with keys {sorted(map(str, expected))}, got {summarize(got)}"
        for key in expected:
            why = difference(expected[key], got[key], rtol, atol)
            if why is not None:
                return f"at key {key!r}: {why}"
        return None
    if isinstance(expected, (list, tuple)):
        if not isinstance(got, (list, tuple, np.ndarray)) or len(got) != len(expected):
            return f"expected {summarize(expected)}, got {summarize(got)}"
        for position, (e, g) in enumerate(zip(expected, got)):
            why = difference(e, g, rtol, atol)
            if why is not None:
                return f"at position {position}: {why}"
        return None
    try:
        equal = bool(expected == got)
    except (ValueError, TypeError):
        equal = False
    return None if equal else f"expected {summarize(expected)}, got {summarize(got)}"


def answer_difference(value: Any, expected: Any, tolerance: float | None) -> str | None:
    """Why a single answer is wrong, without revealing ``expected`` (None: correct).

    Numbers pass when ``|value - expected| <= tolerance``, or with ``tolerance=None`` within
    0.1 % (``math.isclose(rel_tol=1e-3, abs_tol=1e-12)``); a wrong one is "too high" or "too
    low" (and a value 100 times ``expected`` asks whether it is a percentage). Arrays must
    match in shape and within the tolerance (only the count of wrong entries is given).
    Strings are compared ignoring case and surrounding spaces; anything else with ``==``.

    Examples
    --------
    >>> answer_difference(0.5, 0.05, tolerance=None)
    '0.5 is too high.'
    >>> answer_difference(" Recall ", "recall", tolerance=None) is None
    True
    """
    is_number = isinstance(expected, (int, float, np.integer, np.floating)) and not isinstance(expected, (bool, np.bool_))
    if is_number:
        try:
            # A size-1 array (e.g. ``df.loc[mask, "ctr"].values``) counts as its one number.
            number = float(np.asarray(value).item())
        except (TypeError, ValueError):
            return f"expected a number, got a {type(value).__name__}: {summarize(value)}"
        expected = float(expected)
        close = (abs(number - expected) <= tolerance if tolerance is not None
                 else math.isclose(number, expected, rel_tol=1e-3, abs_tol=1e-12))
        if math.isnan(number):
            return "the answer is NaN"
        if close:
            return None
        why = f"{number:.6g} is {'too high' if number > expected else 'too low'}."
        if expected != 0 and math.isclose(number, 100 * expected, rel_tol=1e-3):
            why += " (Did you give a percentage? Answer as a fraction.)"
        return why
    if numeric_array(expected) is not None and not isinstance(expected, (bool, np.bool_)):
        exp_array, got_array = numeric_array(expected), numeric_array(value)
        if got_array is None:
            return f"expected an array, got a {type(value).__name__}"
        if got_array.shape != exp_array.shape:
            return f"expected shape {exp_array.shape}, got shape {got_array.shape}"
        atol = 1e-12 if tolerance is None else tolerance
        rtol = 1e-3 if tolerance is None else 0.0
        wrong = ~np.isclose(got_array.astype(float), exp_array.astype(float), rtol=rtol, atol=atol, equal_nan=True)
        return f"{int(wrong.sum())} of {wrong.size} entries are not right yet." if wrong.any() else None
    if isinstance(expected, str):
        if not isinstance(value, str) or value.strip().casefold() != expected.strip().casefold():
            return "that is not the expected answer."
        return None
    try:
        correct = bool(value == expected)
    except (ValueError, TypeError):
        correct = False
    return None if correct else "that is not the expected answer."
