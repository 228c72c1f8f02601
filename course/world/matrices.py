"""From the world's logs to matrices: the users × items interaction matrix every recall model fits.

The logs are tables with the world's column names (``user_id``, ``item_id``, one column per
action); models want a scipy CSR matrix of shape (n_users, n_items). The sizes are always
given (``len(world.users)``, ``len(world.items)``), never guessed from ``max(id) + 1``: a
user or note with no interaction in a slice of the logs must still have its row or column.
"""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
import scipy.sparse as sp

from course._checks import check_positive_int

__all__ = ["interaction_matrix"]


def _row_weights(logs: pd.DataFrame, weights) -> np.ndarray:
    if weights is None:
        return np.ones(len(logs))
    if isinstance(weights, str):
        weights = {weights: 1.0}
    if isinstance(weights, Mapping):
        if not weights:
            raise ValueError("weights must name at least one column")
        missing = [column for column in weights if column not in logs.columns]
        if missing:
            raise ValueError(f"weights name columns {missing} that the logs do not have")
        # Summed in the mapping's order, like sum(w * logs[c] for c, w in weights.items()).
        return sum(w * logs[column] for column, w in weights.items()).to_numpy(np.float64)
    raise TypeError(f"weights must be None, a column name or a dict column -> weight, "
                    f"got {type(weights).__name__}")


def interaction_matrix(logs: pd.DataFrame, n_users: int, n_items: int, weights=None, *,
                       user_col: str = "user_id", item_col: str = "item_id") -> sp.csr_matrix:
    """Users × items matrix of summed weights from a log table (duplicates are summed).

    Parameters
    ----------
    logs : DataFrame
        One row per event, e.g. ``world.impressions`` or a slice of it (clicked rows only...).
    n_users, n_items : int
        The matrix shape: ``len(world.users)``, ``len(world.items)``.
    weights : None, str or dict of column -> float, default None
        The value each row adds: 1 (None: the matrix counts rows), the value of one column
        (``"click"``: clicks per pair), or a weighted sum of columns
        (``{"click": 1, "like": 2, "share": 3}``: behaviour weights).
    user_col, item_col : str
        Id columns (the world's names by default).

    Returns
    -------
    scipy.sparse.csr_matrix of shape (n_users, n_items), float64
        Entries with a zero total stay stored: use ``> 0`` for a boolean "seen" matrix.

    Examples
    --------
    >>> logs = pd.DataFrame({"user_id": [0, 0, 2], "item_id": [1, 1, 0], "click": [1, 0, 1],
    ...                      "like": [1, 0, 0]})
    >>> interaction_matrix(logs, 3, 2).toarray().tolist()
    [[0.0, 2.0], [0.0, 0.0], [1.0, 0.0]]
    >>> interaction_matrix(logs, 3, 2, weights={"click": 1, "like": 2}).toarray().tolist()
    [[0.0, 3.0], [0.0, 0.0], [1.0, 0.0]]
    """
    if not isinstance(logs, pd.DataFrame):
        raise TypeError(f"logs must be a DataFrame, got {type(logs).__name__}")
    n_users, n_items = check_positive_int(n_users, "n_users"), check_positive_int(n_items, "n_items")
    for column in (user_col, item_col):
        if column not in logs.columns:
            raise ValueError(f"logs have no column {column!r}")
    users, items = logs[user_col].to_numpy(), logs[item_col].to_numpy()
    for name, ids, size in (("user", users, n_users), ("item", items, n_items)):
        if ids.size and ids.dtype.kind not in "iu":
            raise TypeError(f"{name} ids must be integers, got dtype {ids.dtype}")
        if ids.size and (ids.min() < 0 or ids.max() >= size):
            raise ValueError(f"{name} ids must lie in [0, {size}), got min {ids.min()}, max {ids.max()}")
    return sp.csr_matrix((_row_weights(logs, weights), (users, items)), shape=(n_users, n_items))
