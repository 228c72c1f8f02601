"""Exposure filter (曝光过滤) with a Bloom filter (布隆过滤器).

Before items reach the user, the ones already exposed (曝光) to that user are removed. The
exposure log is huge (users x exposures), so platforms keep it in a Bloom filter: ``m`` bits
and ``k`` hash functions; adding a key sets its ``k`` bits, a lookup says "seen" when all ``k``
are set. It never forgets a key (no false negatives) but can answer "seen" for a key never
added: a false positive (误判), here an unseen item wrongly filtered out. With ``n`` keys added

    FPR ≈ (1 - e^(-k n / m))^k,

minimised at ``k = (m / n) ln 2``; for a target rate ``p`` the size is
``m = -n ln p / (ln 2)^2`` (about 9.6 bits per key for 1 %).

Reference: B. H. Bloom, "Space/time trade-offs in hash coding with allowable errors",
CACM 1970. The ``k`` positions come from two hashes by double hashing
``h_i = h1 + i h2 mod m`` (A. Kirsch, M. Mitzenmacher, "Less hashing, same performance:
building a better Bloom filter", ESA 2006), which keeps the same asymptotic FPR.
"""
from __future__ import annotations

import hashlib
import math

import numpy as np

from course._arrays import splitmix64
from course._checks import check_positive_int

_UINT64 = np.uint64


def _two_hashes(keys) -> tuple[np.ndarray, np.ndarray]:
    """Two independent 64-bit hashes per key: SplitMix64 for integers, BLAKE2b for strings."""
    array = np.asarray(keys)
    if array.ndim == 0:
        array = array.reshape(1)
    if array.ndim != 1 or array.size == 0:
        raise ValueError(f"keys must be a non-empty 1-D sequence, got shape {array.shape}")
    if array.dtype.kind in "iu":
        # Negative int64 keys reinterpret as uint64 (two's complement): still one-to-one.
        as_uint = array.astype(np.int64).view(_UINT64) if array.dtype.kind == "i" else array.astype(_UINT64)
        return splitmix64(as_uint), splitmix64(as_uint ^ _UINT64(0x5851F42D4C957F2D))
    if array.dtype.kind in "USO":
        # Loop over the caller's own objects: np.asarray(["a", 3]) would quietly turn 3 into "3".
        originals = list(keys) if isinstance(keys, (list, tuple)) else array.tolist()
        digests = []
        for key in originals:  # strings need a real hash; there is no vectorised one
            if isinstance(key, str):
                key = key.encode("utf-8")
            if not isinstance(key, bytes):
                raise TypeError(f"keys must be all integers or all strings, got {type(key).__name__}")
            digests.append(hashlib.blake2b(key, digest_size=16).digest())
        both = np.frombuffer(b"".join(digests), dtype="<u8").reshape(-1, 2)
        return both[:, 0], both[:, 1]
    raise TypeError(f"keys must be integers or strings, got dtype {array.dtype}")


def expected_false_positive_rate(n_bits, n_hashes, n_inserted):
    """``(1 - e^(-k n / m))^k``: the false-positive rate after ``n`` insertions (broadcasts).

    Parameters
    ----------
    n_bits : int or ndarray
        ``m``, the number of bits.
    n_hashes : int or ndarray
        ``k``, the number of hash functions.
    n_inserted : int or ndarray
        ``n``, the number of keys added.

    Examples
    --------
    >>> round(float(expected_false_positive_rate(9586, 7, 1000)), 4)
    0.01
    """
    m, k, n = (np.asarray(value, dtype=np.float64) for value in (n_bits, n_hashes, n_inserted))
    if (m < 1).any() or (k < 1).any() or (n < 0).any():
        raise ValueError("need n_bits >= 1, n_hashes >= 1 and n_inserted >= 0")
    return (1.0 - np.exp(-k * n / m)) ** k


def optimal_n_hashes(n_bits: int, n_items: int) -> int:
    """The integer ``k`` minimising the FPR for ``m`` bits and ``n`` items.

    The continuous optimum is ``k* = (m / n) ln 2``; ``log FPR`` is convex in ``k``, so the
    integer optimum is ``floor(k*)`` or ``ceil(k*)``: we evaluate both (plain rounding is
    right almost always, not always).

    Examples
    --------
    >>> optimal_n_hashes(9586, 1000)
    7
    """
    if n_bits < 1 or n_items < 1:
        raise ValueError(f"need n_bits >= 1 and n_items >= 1, got {n_bits}, {n_items}")
    best = n_bits / n_items * math.log(2)
    candidates = [max(1, math.floor(best)), max(1, math.ceil(best))]
    # Compare log FPR = k log(1 - e^(-kn/m)): the FPR itself underflows to 0 for huge m / n.
    log_rates = [c * math.log(-math.expm1(-c * n_items / n_bits)) for c in candidates]
    return candidates[int(np.argmin(log_rates))]


class BloomFilter:
    """A Bloom filter (布隆过滤器) over integer or string keys.

    Sized for ``capacity`` keys at ``error_rate``: ``m = ceil(-n ln p / (ln 2)^2)`` bits and
    ``k = optimal_n_hashes(m, n)`` (i.e. ``round((m / n) ln 2)``). Bits live in a numpy bool
    array (one byte per bit, for clarity; production filters pack 8 bits per byte).

    Parameters
    ----------
    capacity : int
        Keys expected, ``n >= 1``; adding more is allowed but raises the FPR.
    error_rate : float
        Target false-positive rate at capacity, in (0, 1).

    Attributes
    ----------
    n_bits, n_hashes : int
        ``m`` and ``k``.
    bits : ndarray of shape (n_bits,), bool
    n_added : int
        Keys added so far (duplicates counted).

    Examples
    --------
    >>> bf = BloomFilter(capacity=1000, error_rate=0.01)
    >>> bf.n_bits, bf.n_hashes
    (9586, 7)
    >>> bf.add_many(np.arange(1000))
    >>> 999 in bf, bool(bf.contains_many(np.arange(1000)).all())
    (True, True)
    >>> bf.add("note-42"); "note-42" in bf
    True
    """

    def __init__(self, capacity: int, error_rate: float = 0.01):
        capacity = check_positive_int(capacity, "capacity")
        if not 0 < error_rate < 1:
            raise ValueError(f"error_rate must be in (0, 1), got {error_rate!r}")
        self.capacity = int(capacity)
        self.error_rate = float(error_rate)
        n_bits = math.ceil(-capacity * math.log(error_rate) / math.log(2) ** 2)
        self._allocate(n_bits, optimal_n_hashes(n_bits, capacity))

    @classmethod
    def from_size(cls, n_bits: int, n_hashes: int) -> "BloomFilter":
        """A filter with explicit ``m`` and ``k`` (``capacity`` and ``error_rate`` are None)."""
        for name, value in (("n_bits", n_bits), ("n_hashes", n_hashes)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        bloom = cls.__new__(cls)
        bloom.capacity, bloom.error_rate = None, None
        bloom._allocate(int(n_bits), int(n_hashes))
        return bloom

    def _allocate(self, n_bits: int, n_hashes: int) -> None:
        if n_bits > 2**40:
            raise ValueError(f"n_bits={n_bits} is too large for this teaching implementation")
        self.n_bits, self.n_hashes = n_bits, n_hashes
        self.bits = np.zeros(n_bits, dtype=bool)
        self.n_added = 0

    def _positions(self, keys) -> np.ndarray:
        """Bit positions ``(h1 + i h2) mod m`` for ``i < k``: shape (n_keys, n_hashes)."""
        h1, h2 = _two_hashes(keys)
        m = _UINT64(self.n_bits)
        start = h1 % m
        # h2 must not be 0 mod m, or all k positions collapse onto one bit.
        step = h2 % _UINT64(max(self.n_bits - 1, 1)) + _UINT64(1) if self.n_bits > 1 else h2 * _UINT64(0)
        steps = np.arange(self.n_hashes, dtype=_UINT64)
        # start, step < m <= 2^40 and i < k, so i * step + start cannot overflow 64 bits.
        return ((start[:, None] + steps[None, :] * step[:, None]) % m).astype(np.int64)

    def add_many(self, keys) -> None:
        """Add keys (1-D integers, vectorised; or strings, hashed one by one)."""
        positions = self._positions(keys)
        self.bits[positions.ravel()] = True
        self.n_added += len(positions)

    def add(self, key) -> None:
        self.add_many([key])

    def contains_many(self, keys) -> np.ndarray:
        """Bool array of shape (n_keys,): True if maybe added, False if surely not."""
        return self.bits[self._positions(keys)].all(axis=1)

    def __contains__(self, key) -> bool:
        return bool(self.contains_many([key])[0])

    @property
    def fill_ratio(self) -> float:
        """Share of bits set; the FPR for a fresh key is about ``fill_ratio ** k``."""
        return float(self.bits.mean())

    def __repr__(self) -> str:
        return f"BloomFilter(n_bits={self.n_bits}, n_hashes={self.n_hashes}, n_added={self.n_added})"


class ExposureFilter:
    """Exposure filter (曝光过滤) over (user, item) pairs, with time-window expiry.

    One :class:`BloomFilter` per day; a pair is "seen" if any filter of the last
    ``window_days`` days contains it, and filters older than the window are dropped. Why let
    exposures expire (the note suggests about a month)? A filter only fills up: with every
    exposure ever made, the fill ratio and so the false-positive rate keep rising, and more
    and more never-shown items are wrongly filtered out (误删). Dropping whole days keeps
    ``n`` per filter bounded, and an item shown to a user months ago can fairly be shown
    again. Per-day filters make expiry a dict deletion, since a Bloom filter cannot delete.

    The pair is packed into one 64-bit key ``user_id * 2^32 + item_id`` (exact, no collisions)
    before hashing. An exposure recorded on day ``d`` is seen on days ``d .. d + window_days - 1``.

    Parameters
    ----------
    window_days : int
        Days an exposure is remembered, ``>= 1``.
    capacity_per_day : int
        Exposures expected per day (sizes each day's filter).
    error_rate : float
        Target false-positive rate per day's filter; over a window of ``W`` full days the
        rate of "seen" for a fresh pair is about ``1 - (1 - p)^W ≈ W p``.

    Attributes
    ----------
    filters_ : dict of int to BloomFilter
        Day -> that day's filter, for the days still in the window.

    Examples
    --------
    >>> exposure = ExposureFilter(window_days=30, capacity_per_day=1000, error_rate=0.001)
    >>> exposure.record(user_ids=[1, 1], item_ids=[10, 11], day=0)
    >>> exposure.seen([1, 1, 2], [10, 12, 10], day=29).tolist()
    [True, False, False]
    >>> exposure.seen([1], [10], day=30).tolist()
    [False]
    """

    def __init__(self, window_days: int = 30, capacity_per_day: int = 100_000, error_rate: float = 0.001):
        self.window_days = window_days
        self.capacity_per_day = capacity_per_day
        self.error_rate = error_rate
        window_days = check_positive_int(window_days, "window_days")
        BloomFilter(capacity_per_day, error_rate)  # validates the two sizing parameters
        self.filters_: dict[int, BloomFilter] = {}

    @staticmethod
    def pair_keys(user_ids, item_ids) -> np.ndarray:
        """One uint64 per pair: ``user_id << 32 | item_id``; ids must be in [0, 2^32)."""
        users, items = np.asarray(user_ids), np.asarray(item_ids)
        if users.shape != items.shape or users.ndim != 1:
            raise ValueError(f"user_ids and item_ids must be 1-D of the same length, got "
                             f"{users.shape} and {items.shape}")
        for name, ids in (("user_ids", users), ("item_ids", items)):
            if ids.size and ids.dtype.kind not in "iu":
                raise TypeError(f"{name} must be integers, got dtype {ids.dtype}")
            if ids.size and (ids.min() < 0 or ids.max() >= 2**32):
                raise ValueError(f"{name} must be in [0, 2^32)")
        return (users.astype(_UINT64) << _UINT64(32)) | items.astype(_UINT64)

    def _check_day(self, day) -> int:
        if isinstance(day, bool) or not isinstance(day, (int, np.integer)):
            raise TypeError(f"day must be an int, got {type(day).__name__}")
        return int(day)

    def record(self, user_ids, item_ids, day: int) -> None:
        """Remember that each item was exposed to its user on ``day``; drop expired days."""
        day = self._check_day(day)
        latest = max(self.filters_, default=day)
        if day <= latest - self.window_days:
            raise ValueError(f"day {day} is already outside the {self.window_days}-day window "
                             f"ending on day {latest}")
        keys = self.pair_keys(user_ids, item_ids)
        if day not in self.filters_:
            self.filters_[day] = BloomFilter(self.capacity_per_day, self.error_rate)
        if keys.size:
            self.filters_[day].add_many(keys)
        newest = max(self.filters_)
        for old in [d for d in self.filters_ if d <= newest - self.window_days]:
            del self.filters_[old]  # the whole day expires at once

    def seen(self, user_ids, item_ids, day: int) -> np.ndarray:
        """Bool array of shape (n_pairs,): exposed within the window ending on ``day``."""
        day = self._check_day(day)
        keys = self.pair_keys(user_ids, item_ids)
        result = np.zeros(keys.shape, dtype=bool)
        if keys.size == 0:
            return result
        for recorded_day, bloom in self.filters_.items():  # a loop over <= window_days filters
            if day - self.window_days < recorded_day <= day:
                result |= bloom.contains_many(keys)
        return result
