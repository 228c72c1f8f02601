"""Input checks shared by the whole package (private).

One place for the checks every public function runs first, so that the same mistake gets the
same message everywhere. The rule: a value of the wrong *type* is a ``TypeError``; a value of
the right type but a bad *value* (out of range, wrong shape, empty) is a ``ValueError``. An
estimator used before ``fit`` raises :class:`NotFittedError` (a ``ValueError``).
"""
from __future__ import annotations

import numbers

import numpy as np


class NotFittedError(ValueError):
    """An estimator or index was used before ``fit`` (a ``ValueError``, like scikit-learn's)."""


def check_is_fitted(estimator, attribute: str) -> None:
    """Raise :class:`NotFittedError` unless ``estimator`` has the learned ``attribute``."""
    if not hasattr(estimator, attribute):
        raise NotFittedError(f"{type(estimator).__name__} is not fitted: call fit(...) first")


def check_positive_int(value, name: str) -> int:
    """Return ``value`` as an int if it is an integer >= 1, else raise."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int >= 1, got {value!r}")
    if value < 1:
        raise ValueError(f"{name} must be >= 1, got {value}")
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
