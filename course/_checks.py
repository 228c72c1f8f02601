"""Input checks shared by the whole package (private).

One place for the checks every public function runs first, so that the same mistake gets the
same message everywhere. The rule: a value of the wrong *type* is a ``TypeError``; a value of
the right type but a bad *value* (out of range, wrong shape, empty) is a ``ValueError``. An
estimator used before ``fit`` raises :class:`NotFittedError` (a ``ValueError``).
"""
from __future__ import annotations

import numbers

import numpy as np


def check_exclude(exclude, shape: tuple[int, int]):
    """``exclude`` as a boolean CSR matrix of ``shape`` with explicit zeros dropped, or None.

    The one exclusion argument of every ``recommend`` / ``search``: row r marks the items never
    returned to the r-th user (or query) passed, so ``shape == (n_queries, n_items)``. A
    scipy sparse matrix or a boolean / 0-1 ndarray; a stored 0 or False excludes nothing.
    """
    if exclude is None:
        return None
    import scipy.sparse as sp  # local: most checks here need only numpy

    if not (sp.issparse(exclude) or isinstance(exclude, np.ndarray)):
        raise TypeError(f"exclude must be a scipy sparse matrix or an ndarray, got {type(exclude).__name__}")
    if exclude.shape != tuple(shape):
        raise ValueError(f"exclude must have shape {tuple(shape)}, got {exclude.shape}")
    matrix = sp.csr_matrix(exclude, dtype=bool)
    matrix.eliminate_zeros()
    return matrix


class NotFittedError(ValueError):
    """An estimator or index was used before ``fit`` (a ``ValueError``, like scikit-learn's)."""


def check_is_fitted(estimator, attribute: str) -> None:
    """Raise :class:`NotFittedError` unless ``estimator`` has the learned ``attribute``."""
    if not hasattr(estimator, attribute):
        raise NotFittedError(f"{type(estimator).__name__} is not fitted: call fit(...) first")


def check_positive_int(value, name: str) -> int:
    """Return ``value`` as an int if it is an integer >= 1, else raise."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be a positive int (>= 1), got {value!r}")
    if value < 1:
        raise ValueError(f"{name} must be a positive int (>= 1), got {value!r}")
    return int(value)


def check_user_indices(user_indices, n_users: int) -> np.ndarray:
    """Validate a 1-D array of user row indices in ``[0, n_users)``."""
    users = np.asarray(user_indices)
    if users.ndim == 0:
        users = users.reshape(1)
    if users.ndim != 1:
        raise ValueError(f"user_indices must be 1-D, got shape {users.shape}")
    if users.size and not np.issubdtype(users.dtype, np.integer):
        raise TypeError(f"user_indices must be integers, got dtype {users.dtype}")
    users = users.astype(np.int64)
    if users.size and (users.min() < 0 or users.max() >= n_users):
        raise ValueError(f"user indices must lie in [0, {n_users}), got min {users.min()}, "
                         f"max {users.max()}")
    return users
