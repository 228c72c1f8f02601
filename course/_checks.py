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


def _is_int(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_real(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def check_int(value, name: str, minimum: int | None = None, maximum: int | None = None) -> int:
    """Return ``value`` as an int if it is an integer in ``[minimum, maximum]`` (None: unbounded).

    ``bool`` is not an int here (``True`` as a count is a bug); numpy integers are.

    Examples
    --------
    >>> check_int(3, "n_days", minimum=1)
    3
    >>> check_int(0, "n_days", minimum=1)
    Traceback (most recent call last):
    ...
    ValueError: n_days must be an int >= 1, got 0
    >>> check_int(2.0, "n_days", minimum=1)
    Traceback (most recent call last):
    ...
    TypeError: n_days must be an int >= 1, got 2.0 (float)
    """
    if minimum is not None and maximum is not None:
        expected = f"an int in [{minimum}, {maximum}]"
    elif minimum is not None:
        expected = f"an int >= {minimum}"
    elif maximum is not None:
        expected = f"an int <= {maximum}"
    else:
        expected = "an int"
    if not _is_int(value):
        raise TypeError(f"{name} must be {expected}, got {value!r} ({type(value).__name__})")
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise ValueError(f"{name} must be {expected}, got {value!r}")
    return int(value)


def check_positive_int(value, name: str) -> int:
    """Return ``value`` as an int if it is an integer >= 1, else raise.

    Examples
    --------
    >>> check_positive_int(5, "k")
    5
    >>> check_positive_int(0, "k")
    Traceback (most recent call last):
    ...
    ValueError: k must be a positive int (>= 1), got 0
    """
    if not _is_int(value):
        raise TypeError(f"{name} must be a positive int (>= 1), got {value!r} ({type(value).__name__})")
    if value < 1:
        raise ValueError(f"{name} must be a positive int (>= 1), got {value!r}")
    return int(value)


def check_nonnegative_int(value, name: str) -> int:
    """Return ``value`` as an int if it is an integer >= 0 (a seed, a day, a count), else raise.

    Examples
    --------
    >>> check_nonnegative_int(0, "seed")
    0
    >>> check_nonnegative_int(-1, "seed")
    Traceback (most recent call last):
    ...
    ValueError: seed must be a non-negative int (>= 0), got -1
    >>> check_nonnegative_int("3", "seed")
    Traceback (most recent call last):
    ...
    TypeError: seed must be a non-negative int (>= 0), got '3' (str)
    """
    if not _is_int(value):
        raise TypeError(f"{name} must be a non-negative int (>= 0), got {value!r} ({type(value).__name__})")
    if value < 0:
        raise ValueError(f"{name} must be a non-negative int (>= 0), got {value!r}")
    return int(value)


def check_real(value, name: str, low: float | None = None, high: float | None = None, *,
               low_open: bool = False, high_open: bool = False) -> float:
    """Return ``value`` as a float if it is a finite real number in the given interval.

    ``low`` / ``high`` of None leave that side unbounded; ``low_open`` / ``high_open`` exclude
    the end point. NaN and infinities are ValueErrors (right type, bad value).

    Examples
    --------
    >>> check_real(0.5, "temperature", low=0)
    0.5
    >>> check_real(-1, "temperature", low=0)
    Traceback (most recent call last):
    ...
    ValueError: temperature must be a finite number >= 0, got -1
    >>> check_real(0.0, "lr", low=0, low_open=True)
    Traceback (most recent call last):
    ...
    ValueError: lr must be a finite number > 0, got 0.0
    """
    if low is not None and high is not None:
        expected = f"a number in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
    else:
        expected = "a finite number"
        if low is not None:
            expected += f" {'>' if low_open else '>='} {low:g}"
        if high is not None:
            expected += f" {'<' if high_open else '<='} {high:g}"
    if not _is_real(value):
        raise TypeError(f"{name} must be {expected}, got {value!r} ({type(value).__name__})")
    number = float(value)
    bad = not np.isfinite(number)
    if low is not None:
        bad |= number <= low if low_open else number < low
    if high is not None:
        bad |= number >= high if high_open else number > high
    if bad:
        raise ValueError(f"{name} must be {expected}, got {value!r}")
    return number


def check_probability(value, name: str, *, low_open: bool = False, high_open: bool = False,
                      high: float = 1.0) -> float:
    """Return ``value`` as a float if it is a probability (share, rate) in ``[0, 1]``.

    ``low_open`` / ``high_open`` exclude 0 / 1 (e.g. a test share in ``(0, 1)``); ``high``
    lowers the upper end (a test share in ``(0, 0.5]``).

    Examples
    --------
    >>> check_probability(0.25, "share")
    0.25
    >>> check_probability(1.5, "share")
    Traceback (most recent call last):
    ...
    ValueError: share must be a number in [0, 1], got 1.5
    >>> check_probability(0.0, "error_rate", low_open=True, high_open=True)
    Traceback (most recent call last):
    ...
    ValueError: error_rate must be a number in (0, 1), got 0.0
    >>> check_probability("0.5", "share")
    Traceback (most recent call last):
    ...
    TypeError: share must be a number in [0, 1], got '0.5' (str)
    """
    return check_real(value, name, 0.0, high, low_open=low_open, high_open=high_open)


def check_rng(rng, name: str = "rng") -> np.random.Generator:
    """A numpy Generator from a Generator (returned as is) or a non-negative int seed.

    Anything else is a TypeError; a negative int a ValueError. :func:`course.seed.as_generator`
    is this check.

    Examples
    --------
    >>> int(check_rng(3).integers(100)) == int(check_rng(np.random.default_rng(3)).integers(100))
    True
    >>> check_rng(-1)
    Traceback (most recent call last):
    ...
    ValueError: rng must be a numpy Generator or a non-negative int seed, got -1
    >>> check_rng(0.5, "seed")
    Traceback (most recent call last):
    ...
    TypeError: seed must be a numpy Generator or a non-negative int seed, got 0.5 (float)
    """
    if isinstance(rng, np.random.Generator):
        return rng
    expected = f"{name} must be a numpy Generator or a non-negative int seed"
    if not _is_int(rng):
        raise TypeError(f"{expected}, got {rng!r} ({type(rng).__name__})")
    if rng < 0:
        raise ValueError(f"{expected}, got {rng!r}")
    return np.random.default_rng(int(rng))


def check_world(world, name: str = "world"):
    """Return ``world`` if it is a :class:`course.world.World` (anything with an ``impressions``
    DataFrame: a loaded world or a stand-in built by a test), else raise a TypeError.

    Examples
    --------
    >>> check_world("small")
    Traceback (most recent call last):
    ...
    TypeError: world must be a course.world.World, got str
    """
    import pandas as pd  # local: most checks here need only numpy

    if not isinstance(getattr(world, "impressions", None), pd.DataFrame):
        raise TypeError(f"{name} must be a course.world.World, got {type(world).__name__}")
    return world


_KIND_NAMES = {"b": "boolean", "i": "signed integer", "u": "unsigned integer", "iu": "integer",
               "f": "floating", "iuf": "real (integer or float)", "biuf": "real (bool, integer or float)"}


def check_array(x, ndim, name: str, kind: str | None = None, *, allow_empty: bool = True) -> np.ndarray:
    """``np.asarray(x)`` if it has ``ndim`` dimensions (an int or a tuple of allowed ones) and a
    dtype of ``kind`` (numpy kind letters: ``"iu"`` integers, ``"f"`` floats, ``"iuf"`` reals,
    ``"b"`` bool; None: any). The array is returned as is, never cast, so numbers do not change.

    A wrong number of dimensions or an empty array (``allow_empty=False``) is a ValueError that
    shows the shape that came; a wrong dtype is a TypeError that shows the dtype. An empty array
    passes any ``kind`` (``np.asarray([])`` is float64 whatever was meant).

    Examples
    --------
    >>> check_array([1, 2, 3], 1, "user_ids", "iu")
    array([1, 2, 3])
    >>> check_array([[1, 2]], 1, "user_ids", "iu")
    Traceback (most recent call last):
    ...
    ValueError: user_ids must be a 1-D array, got shape (1, 2)
    >>> check_array([0.5], 1, "user_ids", "iu")
    Traceback (most recent call last):
    ...
    TypeError: user_ids must have an integer dtype, got dtype float64
    >>> check_array(np.zeros((2, 3)), (1, 2), "scores", "f").shape
    (2, 3)
    """
    array = np.asarray(x)
    allowed = (ndim,) if isinstance(ndim, numbers.Integral) else tuple(ndim)
    if array.ndim not in allowed:
        wanted = " or ".join(f"{d}-D" for d in allowed)
        raise ValueError(f"{name} must be a {wanted} array, got shape {array.shape}")
    if not allow_empty and array.size == 0:
        raise ValueError(f"{name} must be non-empty, got shape {array.shape}")
    if kind is not None and array.size and array.dtype.kind not in kind:
        raise TypeError(f"{name} must have {_article(_KIND_NAMES.get(kind, f'kind {kind!r}'))} "
                        f"dtype, got dtype {array.dtype}")
    return array


def _article(word: str) -> str:
    return ("an " if word[0] in "aeiou" else "a ") + word


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


def check_tensor(x, name: str, ndim: int, *, floating: bool = True):
    """``x`` itself if it is a torch tensor with ``ndim`` dimensions and the right dtype family.

    The tensor twin of :func:`check_array`, for a model's ``forward`` and a loss: TypeError for
    a non-tensor or a float/integer dtype mix-up (``floating=False`` asks for integer codes),
    ValueError naming the expected and the actual shape. Never casts, never copies.
    """
    import torch  # local: the numpy checks above must not need torch

    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    if x.ndim != ndim:
        raise ValueError(f"{name} must be a {ndim}-D tensor, got shape {tuple(x.shape)}")
    if floating and not x.is_floating_point():
        raise TypeError(f"{name} must have a floating dtype, got {x.dtype}")
    if not floating and (x.is_floating_point() or x.is_complex() or x.dtype == torch.bool):
        raise TypeError(f"{name} must have an integer dtype, got {x.dtype}")
    return x


def check_width(x, name: str, axis: int, expected: int, what: str) -> None:
    """ValueError unless ``x.shape[axis] == expected`` (``what`` names that axis, e.g. "fields")."""
    if x.shape[axis] != expected:
        raise ValueError(f"{name} must have {expected} {what} (axis {axis}), "
                         f"got shape {tuple(x.shape)}")
