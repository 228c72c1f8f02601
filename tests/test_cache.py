"""Cache recall: each exit rule against a hand-worked sequence."""
import pytest

from course.recall.cache import RecallCache


def test_fifo_eviction_when_full():
    cache = RecallCache(capacity=3, max_recalls=5, max_age_days=30)
    cache.add(7, [1, 2, 3], day=0)
    cache.add(7, [4], day=0)                    # full: 1 entered first, 1 leaves
    assert cache.items(7) == [2, 3, 4]
    cache.add(7, [3, 5], day=1)                 # 3 already cached: keeps its place; 2 leaves
    assert cache.items(7) == [3, 4, 5]
    cache.add(7, [6, 7, 8, 9], day=1)           # a batch longer than the cache: last 3 stay
    assert cache.items(7) == [7, 8, 9]
    assert cache.exits_["evicted"] == 1 + 1 + 4
    assert cache.items(8) == [] and len(cache) == 3


def test_removed_on_exposure_and_users_are_separate():
    cache = RecallCache(capacity=5, max_recalls=5, max_age_days=30)
    cache.add(1, [10, 11, 12], day=0)
    cache.add(2, [10, 13], day=0)
    assert cache.remove_exposed(1, [11, 10, 99]) == 2   # 99 came from another channel
    assert cache.items(1) == [12] and cache.items(2) == [10, 13]
    assert cache.remove_exposed(3, [10]) == 0          # unknown user: nothing to do
    assert cache.recall(1, 5, day=0) == [12]
    assert cache.exits_["exposed"] == 2


def test_leaves_after_max_recalls_newest_first():
    cache = RecallCache(capacity=5, max_recalls=2, max_age_days=30)
    cache.add(1, [1, 2, 3], day=0)
    assert cache.recall(1, 2, day=0) == [3, 2]         # newest first; counts 3:1, 2:1
    assert cache.recall(1, 1, day=0) == [3]            # 3 reaches 2 recalls: gone
    cache.add(1, [2], day=0)                           # re-adding does not reset the count
    assert cache.recall(1, 5, day=0) == [2, 1]         # 2 reaches 2: gone; 1 at 1
    assert cache.items(1) == [1]
    assert cache.exits_["recalled_out"] == 2


def test_leaves_when_older_than_max_age():
    cache = RecallCache(capacity=5, max_recalls=5, max_age_days=2)
    cache.add(1, [1], day=0)
    cache.add(1, [2], day=1)
    assert cache.recall(1, 5, day=2) == [2, 1]         # ages 1 and 2: both still allowed
    assert cache.recall(1, 5, day=3) == [2]            # item 1 is 3 days old > 2
    cache.add(1, [3], day=4)                           # adding also drops the aged (item 2)
    assert cache.items(1) == [3] and cache.exits_["aged_out"] == 2
    assert cache.recall(9, 5, day=4) == []


def test_errors():
    for kwargs in ({"capacity": 0}, {"max_recalls": 0}, {"max_age_days": -1}, {"capacity": 2.0}):
        with pytest.raises(ValueError):
            RecallCache(**kwargs)
    cache = RecallCache()
    cache.add(1, [1], day=5)
    with pytest.raises(ValueError, match="backwards"):
        cache.recall(1, 1, day=4)
    with pytest.raises(ValueError, match="n must be"):
        cache.recall(1, 0, day=5)
    with pytest.raises(TypeError):
        cache.add(1, [1.5], day=5)
    with pytest.raises(ValueError, match="1-D"):
        cache.add(1, [[1, 2]], day=5)
