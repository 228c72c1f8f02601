"""One seed helper for the whole course.

Every notebook calls :func:`set_seed` in its first code cell, and every function that draws
random numbers takes an explicit ``seed`` or ``numpy.random.Generator``: two runs print the
same numbers, which is what lets nbval check the stored outputs.
"""
from __future__ import annotations

import functools
import numbers
import os
import random

import numpy as np
import torch


def set_seed(seed: int = 0) -> np.random.Generator:
    """Seed Python's ``random``, NumPy's global generator and torch; return a fresh Generator.

    Parameters
    ----------
    seed : int
        A non-negative integer.

    Returns
    -------
    numpy.random.Generator
        ``np.random.default_rng(seed)``: prefer passing this around over the global state.

    Examples
    --------
    >>> a = set_seed(7).random(3)
    >>> b = set_seed(7).random(3)
    >>> bool((a == b).all())
    True
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be an int, got {type(seed).__name__}")
    if seed < 0:
        raise ValueError(f"seed must be non-negative, got {seed}")
    seed = int(seed)
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    # Hash randomisation only matters for subprocesses; set it so they match too.
    os.environ.setdefault("PYTHONHASHSEED", str(seed))
    return np.random.default_rng(seed)


def as_generator(rng) -> np.random.Generator:
    """A numpy Generator from a Generator (returned as is) or a non-negative int seed.

    Functions that draw randomness take ``rng`` or ``seed`` and call this, so a caller can pass
    either a seed (reproducible on its own) or a shared Generator (one stream for a whole run).

    Examples
    --------
    >>> int(as_generator(3).integers(100)) == int(as_generator(3).integers(100))
    True
    >>> as_generator(-1)
    Traceback (most recent call last):
    ...
    TypeError: rng must be a numpy Generator or a non-negative int seed, got -1
    """
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, numbers.Integral) and not isinstance(rng, bool) and rng >= 0:
        return np.random.default_rng(int(rng))
    raise TypeError(f"rng must be a numpy Generator or a non-negative int seed, got {rng!r}")


def private_torch_rng(function):
    """Decorator: ``function`` may seed and draw from torch's global generator; its caller's
    generator state is the same before and after the call (``torch.random.fork_rng``).

    Library functions that must call ``torch.manual_seed(seed)`` (layer initialisation and
    dropout only read the global generator) use it, so that library code never changes
    global state; only :func:`set_seed`, called by notebooks and tests, does.

    Examples
    --------
    >>> @private_torch_rng
    ... def noisy(seed):
    ...     _ = torch.manual_seed(seed)
    ...     return torch.rand(1)
    >>> _ = torch.manual_seed(1); before = torch.rand(1)
    >>> _ = torch.manual_seed(1); _ = noisy(5); after = torch.rand(1)
    >>> bool(before == after)
    True
    """
    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        with torch.random.fork_rng(devices=[]):
            return function(*args, **kwargs)

    return wrapper
