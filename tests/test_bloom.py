"""Bloom filter: no false negatives, measured FPR vs the formula, optimal k, exposure expiry."""
import math

import numpy as np
import pytest

from course.recall.channels import (BloomFilter, ExposureFilter, expected_false_positive_rate,
                                    optimal_n_hashes, splitmix64)


def splitmix64_python(x):
    """Reference finaliser in plain Python integers (masking by hand)."""
    mask = 2**64 - 1
    z = (x + 0x9E3779B97F4A7C15) & mask
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & mask
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & mask
    return z ^ (z >> 31)


def test_splitmix64_matches_python_reference():
    keys = np.random.default_rng(0).integers(0, 2**63, size=50, dtype=np.int64).astype(np.uint64)
    assert splitmix64(keys).tolist() == [splitmix64_python(int(x)) for x in keys]


def test_sizing_formulas():
    bloom = BloomFilter(capacity=10_000, error_rate=0.01)
    assert bloom.n_bits == math.ceil(-10_000 * math.log(0.01) / math.log(2) ** 2) == 95_851
    assert bloom.n_hashes == round(bloom.n_bits / 10_000 * math.log(2)) == 7
    assert expected_false_positive_rate(bloom.n_bits, bloom.n_hashes, 10_000) == pytest.approx(0.01, rel=0.01)


def test_no_false_negatives_integers_and_strings():
    rng = np.random.default_rng(1)
    keys = rng.integers(-2**62, 2**62, size=20_000)
    bloom = BloomFilter(capacity=5_000, error_rate=0.05)  # overfilled on purpose: still no misses
    bloom.add_many(keys)
    assert bloom.contains_many(keys).all()
    words = [f"user{u}:note{i}" for u, i in rng.integers(0, 1000, size=(300, 2))]
    text_bloom = BloomFilter(capacity=300, error_rate=0.001)
    text_bloom.add_many(words)
    text_bloom.add("café")
    assert text_bloom.contains_many(words).all() and "café" in text_bloom
    fresh = [f"fresh{i}" for i in range(3000)]
    assert text_bloom.contains_many(fresh).mean() < 0.01  # strings are hashed well too


@pytest.mark.parametrize("n_bits, n_hashes, n_inserted", [
    (95_851, 7, 10_000),   # the optimum for p = 1 %
    (20_000, 2, 5_000),    # too few hashes
    (50_000, 12, 5_000),   # too many hashes
    (10_000, 1, 3_000),    # a single hash: a plain bitmap
])
def test_measured_false_positive_rate_matches_formula(n_bits, n_hashes, n_inserted):
    rng = np.random.default_rng(n_bits + n_hashes)
    keys = rng.choice(2**40, size=n_inserted + 100_000, replace=False)
    bloom = BloomFilter.from_size(n_bits, n_hashes)
    bloom.add_many(keys[:n_inserted])
    measured = bloom.contains_many(keys[n_inserted:]).mean()
    theory = float(expected_false_positive_rate(n_bits, n_hashes, n_inserted))
    # 5 binomial standard errors plus 5 % for the formula's own approximation.
    tolerance = 5 * math.sqrt(theory * (1 - theory) / 100_000) + 0.05 * theory
    assert abs(measured - theory) < tolerance, (measured, theory)
    assert abs(measured - bloom.fill_ratio ** n_hashes) < tolerance


@pytest.mark.parametrize("n_bits", [100, 1_000, 9_586, 50_000])
@pytest.mark.parametrize("n_items", [10, 333, 1_000, 7_000])
def test_optimal_n_hashes_minimises_the_formula(n_bits, n_items):
    ks = np.arange(1, 5000)
    log_rates = ks * np.log(-np.expm1(-ks * n_items / n_bits))  # log space: no underflow
    assert optimal_n_hashes(n_bits, n_items) == ks[np.argmin(log_rates)]
    if n_bits / n_items < 100:  # where the plain formula does not underflow, it agrees
        assert optimal_n_hashes(n_bits, n_items) == ks[np.argmin(
            expected_false_positive_rate(n_bits, ks, n_items))]


def test_exposure_filter_expiry_window():
    exposure = ExposureFilter(window_days=3, capacity_per_day=1_000, error_rate=1e-6)
    users = np.arange(100)
    exposure.record(users, users + 7, day=10)
    exposure.record(users, users + 8, day=11)
    assert exposure.seen(users, users + 7, day=12).all()       # day 10 is within days 10..12
    assert not exposure.seen(users, users + 9, day=12).any()   # never recorded
    exposure.record(users[:1], users[:1] + 9, day=13)          # day 13 pushes day 10 out
    assert sorted(exposure.filters_) == [11, 13]
    assert not exposure.seen(users, users + 7, day=13).any()   # forgotten (FPR 1e-6 per pair)
    assert exposure.seen(users, users + 8, day=13).all()
    assert not exposure.seen(users, users + 8, day=14).any()   # outside the window if asked later
    assert not exposure.seen(users, users + 8, day=10).any()   # not yet recorded on day 10
    # The pair key is exact: user 1 / item 2 and user 2 / item 1 differ.
    assert ExposureFilter.pair_keys([1, 2], [2, 1]).tolist() == [2**32 + 2, 2 * 2**32 + 1]


def test_errors():
    for capacity, error in ((0, ValueError), (-3, ValueError), (2.5, TypeError), (True, TypeError)):
        with pytest.raises(error, match="capacity"):  # a wrong type is a TypeError
            BloomFilter(capacity, 0.01)
    for rate in (0, 1, -0.1, 1.5):
        with pytest.raises(ValueError, match="error_rate"):
            BloomFilter(100, rate)
    with pytest.raises(ValueError, match="n_hashes"):
        BloomFilter.from_size(100, 0)
    bloom = BloomFilter(100, 0.01)
    with pytest.raises(TypeError):
        bloom.add_many(np.array([0.5, 1.5]))
    with pytest.raises(TypeError):
        bloom.add_many(["a", 3])
    with pytest.raises(ValueError, match="non-empty"):
        bloom.contains_many([])
    with pytest.raises(ValueError):
        expected_false_positive_rate(0, 1, 1)
    with pytest.raises(ValueError, match="window_days"):
        ExposureFilter(window_days=0)
    exposure = ExposureFilter(window_days=2, capacity_per_day=10)
    with pytest.raises(ValueError, match="same length"):
        exposure.record([1, 2], [1], day=0)
    with pytest.raises(ValueError, match=r"2\^32"):
        exposure.record([-1], [1], day=0)
    exposure.record([1], [1], day=5)
    with pytest.raises(ValueError, match="outside"):
        exposure.record([1], [1], day=3)
