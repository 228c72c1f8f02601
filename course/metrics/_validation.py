"""Input checks shared by the metric modules (private).

Every public metric calls these first, so a learner who passes a string, an empty list or a
probability of 1.3 gets a message that says what was expected instead of a NaN three cells later.
"""
from __future__ import annotations

from collections.abc import Mapping, Set
from itertools import chain, islice, repeat

import numpy as np
import pandas as pd

from course import _checks


def as_1d_numeric(values, name: str) -> np.ndarray:
    """Return ``values`` as a non-empty, finite, 1-D float array (TypeError / ValueError otherwise)."""
    if values is None or isinstance(values, (str, bytes, Mapping, Set)) or np.isscalar(values):
        raise TypeError(f"{name} must be a 1-D array-like of numbers, got {type(values).__name__}")
    array = np.asarray(values)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold numbers (or booleans), got dtype {array.dtype}")
    if array.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {array.shape}")
    if array.size == 0:
        raise ValueError(f"{name} is empty")
    array = array.astype(float, copy=False)
    if not np.isfinite(array).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    return array


def as_binary_labels(values, name: str = "y_true") -> np.ndarray:
    """Return 0/1 labels as a float array; any other value is a ValueError."""
    labels = as_1d_numeric(values, name)
    if not np.isin(labels, (0.0, 1.0)).all():
        raise ValueError(f"{name} must contain only 0 and 1 (binary labels), got {np.unique(labels)[:5]}...")
    return labels


def as_probabilities(values, name: str = "y_prob") -> np.ndarray:
    """Return probabilities as a float array; values outside [0, 1] are a ValueError."""
    probabilities = as_1d_numeric(values, name)
    if probabilities.min() < 0.0 or probabilities.max() > 1.0:
        raise ValueError(
            f"{name} must be probabilities in [0, 1], got values in "
            f"[{probabilities.min():.4g}, {probabilities.max():.4g}]; pass sigmoid(logits)"
        )
    return probabilities


def check_same_length(**arrays) -> None:
    """Raise ValueError naming the arrays if their lengths differ."""
    lengths = {name: len(array) for name, array in arrays.items()}
    if len(set(lengths.values())) > 1:
        raise ValueError(f"length mismatch: {lengths}")


def check_positive_int(value, name: str = "k") -> int:
    """Return ``value`` as an int >= 1: :func:`course._checks.check_positive_int`, named ``k`` by default."""
    return _checks.check_positive_int(value, name)


def flatten_lists(lists, name: str, k: int | None = None, return_positions: bool = False):
    """Flatten per-user item lists, optionally truncated to their first ``k`` entries.

    In a 2-D numeric array a negative id marks an empty slot (空位): the -1 padding that
    ``ItemCF.recommend`` and friends put after a short list. Empty slots are dropped here, so
    they are never an item (never a hit, never a repeat, never counted as recommended), but the
    slots after them keep their positions. Ragged lists need no padding and are taken as given.

    Parameters
    ----------
    lists : sequence of sequences, or ndarray of shape (n_users, list_length)
        One list (or set, for relevant items) of item ids per user.
    name : str
        Used in error messages.
    k : int or None
        Keep only the first ``k`` slots of each list.
    return_positions : bool
        Also return each id's slot (0-based) in its list.

    Returns
    -------
    items : ndarray of shape (n_entries,)
        All ids, user after user (empty slots left out).
    lengths : ndarray of shape (n_users,)
        How many ids each user contributed (after truncation, empty slots left out).
    positions : ndarray of shape (n_entries,), only with ``return_positions``
        The slot of each id in its user's list.

    Examples
    --------
    >>> items, lengths, positions = flatten_lists(np.array([[4, -1, 5], [-1, -1, -1]]), "x",
    ...                                           return_positions=True)
    >>> items.tolist(), lengths.tolist(), positions.tolist()
    ([4, 5], [2, 0], [0, 2])
    """
    if lists is None or isinstance(lists, (str, bytes, Mapping, Set)) or np.isscalar(lists):
        raise TypeError(f"{name} must be a sequence of per-user item lists, got {type(lists).__name__}")
    if isinstance(lists, np.ndarray) and lists.dtype != object:
        if lists.ndim != 2:
            raise ValueError(f"{name} as an array must be 2-D (n_users, list_length), got shape {lists.shape}")
        table = lists if k is None else lists[:, :k]
        filled = ~(table < 0) if table.dtype.kind in "if" else np.ones(table.shape, dtype=bool)  # (U, L)
        lengths = filled.sum(axis=1).astype(np.int64)
        items = table[filled]  # row-major: user after user, in slot order
        positions = np.nonzero(filled)[1]
    else:
        lists = list(lists)
        # A few C-level passes per user (type, len, chaining): the unavoidable cost of reading
        # ragged Python lists; everything after this is array arithmetic.
        entry_types = set(map(type, lists))
        if any(issubclass(entry_type, (str, bytes)) for entry_type in entry_types):
            raise TypeError(f"each entry of {name} must be a collection of item ids, not a string")
        try:
            lengths = np.fromiter(map(len, lists), dtype=np.int64, count=len(lists))
        except TypeError:
            raise TypeError(f"each entry of {name} must be a collection of item ids, not a single id") from None
        if k is None:
            ids = chain.from_iterable(lists)
        else:
            # Sets have no order, so "the first k" means nothing: a ranked list must be a sequence.
            if any(issubclass(entry_type, (Set, Mapping)) for entry_type in entry_types):
                raise TypeError(f"each ranked list in {name} must be ordered (list/tuple/array), not a set")
            lengths = np.minimum(lengths, k)
            ids = chain.from_iterable(map(islice, lists, repeat(k)))  # no sliced copies of each list
        items = np.array(list(ids))
        if return_positions:  # slot j of a list is its j-th entry
            positions = np.arange(items.size) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    if lengths.size == 0:
        raise ValueError(f"{name} is empty: no users")
    return (items, lengths, positions) if return_positions else (items, lengths)


def item_codes(recommended_items: np.ndarray, relevant_items: np.ndarray):
    """Map both id arrays onto shared codes ``0..n_codes-1`` (column indices of a sparse matrix).

    Returns ``(recommended_codes, relevant_codes, n_codes)``; equal ids get equal codes.
    """
    kinds = {recommended_items.dtype.kind, relevant_items.dtype.kind}
    if recommended_items.size and relevant_items.size and kinds & set("biuf") and kinds & set("US"):
        raise TypeError(
            f"recommended ids ({recommended_items.dtype}) and relevant ids ({relevant_items.dtype}) "
            "have different types, so none could ever match"
        )
    both = [array for array in (recommended_items, relevant_items) if array.size]
    if both and all(array.dtype.kind in "iu" for array in both):
        # Integer ids: shift them to start at 0, no hashing needed (the common, fast case).
        low = min(int(array.min()) for array in both)
        high = max(int(array.max()) for array in both)
        n_codes = high - low + 1
        if -(2**62) <= low and high < 2**62 and n_codes < 2**31:  # fits int32 sparse indices
            return recommended_items.astype(np.int64) - low, relevant_items.astype(np.int64) - low, n_codes
    codes, vocabulary = pd.factorize(np.concatenate([recommended_items, relevant_items]))
    return codes[: recommended_items.size], codes[recommended_items.size:], len(vocabulary)
