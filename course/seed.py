"""One seed helper for the whole course.

Every notebook calls :func:`set_seed` in its first code cell, and every function that draws
random numbers takes an explicit ``seed`` or ``numpy.random.Generator``: two runs print the
same numbers, which is what lets nbval check the stored outputs.
"""
from __future__ import annotations

import functools
import os
import random

import numpy as np
import torch

from course._checks import check_nonnegative_int, check_rng


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
    seed = check_nonnegative_int(seed, "seed")
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    # Hash randomisation only matters for subprocesses; set it so they match too.
    os.environ.setdefault("PYTHONHASHSEED", str(seed))
    return np.random.default_rng(seed)


def as_generator(rng, name: str = "rng") -> np.random.Generator:
    """A numpy Generator from a Generator (returned as is) or a non-negative int seed.

    The shared check :func:`course._checks.check_rng`: another type is a ``TypeError``, a
    negative seed a ``ValueError``; ``name`` is the argument named in the message.

    Functions that draw randomness take ``rng`` or ``seed`` and call this, so a caller can pass
    either a seed (reproducible on its own) or a shared Generator (one stream for a whole run).

    Examples
    --------
    >>> int(as_generator(3).integers(100)) == int(as_generator(3).integers(100))
    True
    >>> as_generator(-1)
    Traceback (most recent call last):
    ...
    ValueError: rng must be a numpy Generator or a non-negative int seed, got -1
    """
    return check_rng(rng, name)


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
