"""Cache recall: each exit rule against a hand-worked sequence, random operation sequences
against a naive list-based twin, and the re-entry of a recalled-out note through a pipeline."""
import numpy as np
import pytest

from course.pipeline import Pipeline, RequestContext, ScoreStage, TopK
from course.recall.channels import CacheRecall, RecallCache
from course.pipeline.merge import CacheUnshownStage


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


def test_recalled_out_items_are_refused_until_they_would_have_aged_or_are_shown():
    cache = RecallCache(capacity=5, max_recalls=1, max_age_days=2)
    cache.add(1, [1, 2, 3], day=0)
    assert cache.recall(1, 2, day=0) == [3, 2]           # one recall each: both retired
    assert cache.retired_items(1) == [3, 2] and cache.items(1) == [1]
    cache.add(1, [2, 3, 4], day=1)                       # another channel brought 2, 3 back
    assert cache.items(1) == [1, 4] and cache.refused_ == 2
    assert cache.retired_items(2) == []                  # retirement is per user
    cache.add(2, [2], day=1)
    assert cache.items(2) == [2]
    cache.remove_exposed(1, [3])                         # shown: no longer retired
    cache.add(1, [3], day=2)
    assert cache.items(1) == [1, 4, 3] and cache.refused_ == 2
    cache.add(1, [2], day=2)                             # 2 (added day 0) is 2 days old: refused
    assert cache.refused_ == 3
    cache.add(1, [2], day=3)                             # 3 days > max_age_days: may return
    assert cache.retired_items(1) == [] and 2 in cache.items(1)
    # FIFO-evicted and aged-out items were not used up: they may come back at once
    small = RecallCache(capacity=1, max_recalls=5, max_age_days=0)
    small.add(1, [7, 8], day=0)                          # 7 evicted
    small.add(1, [7], day=0)
    small.add(1, [9], day=1)                             # 7 aged out
    small.add(1, [7], day=1)
    assert small.items(1) == [7] and small.refused_ == 0


class NaiveCache:
    """The rules written as plainly as possible: a list of [item, day_added, n_recalls] per user."""

    def __init__(self, capacity, max_recalls, max_age_days):
        self.capacity, self.max_recalls, self.max_age_days = capacity, max_recalls, max_age_days
        self.entries, self.retired, self.refused = {}, {}, 0

    def _age(self, user, day):
        self.entries[user] = [e for e in self.entries.get(user, []) if day - e[1] <= self.max_age_days]
        self.retired[user] = {i: d for i, d in self.retired.get(user, {}).items() if day - d <= self.max_age_days}

    def add(self, user, items, day):
        self._age(user, day)
        for item in items:
            if item in self.retired[user]:
                self.refused += 1
            elif item not in [e[0] for e in self.entries[user]]:
                if len(self.entries[user]) == self.capacity:
                    self.entries[user].pop(0)
                self.entries[user].append([item, day, 0])

    def recall(self, user, n, day):
        self._age(user, day)
        chosen = self.entries[user][::-1][:n]
        for entry in chosen:
            entry[2] += 1
            if entry[2] >= self.max_recalls:
                self.entries[user].remove(entry)
                self.retired[user][entry[0]] = entry[1]
        return [entry[0] for entry in chosen]

    def remove_exposed(self, user, items):
        before = len(self.entries.get(user, []))
        self.entries[user] = [e for e in self.entries.get(user, []) if e[0] not in items]
        self.retired[user] = {i: d for i, d in self.retired.get(user, {}).items() if i not in items}
        return before - len(self.entries[user])


@pytest.mark.parametrize("seed", range(5))
def test_random_operations_match_the_naive_twin(seed):
    rng = np.random.default_rng(seed)
    cache, naive = RecallCache(4, 2, 3), NaiveCache(4, 2, 3)
    day = 0
    for _ in range(300):
        day += int(rng.random() < 0.1)
        user, operation = int(rng.integers(3)), rng.integers(3)
        items = [int(i) for i in rng.choice(12, rng.integers(1, 5), replace=False)]
        if operation == 0:
            cache.add(user, items, day)
            naive.add(user, items, day)
        elif operation == 1:
            n = int(rng.integers(1, 4))
            assert cache.recall(user, n, day) == naive.recall(user, n, day)
        else:
            assert cache.remove_exposed(user, items) == naive.remove_exposed(user, items)
        assert cache.items(user) == [e[0] for e in naive.entries.get(user, [])]
    assert cache.refused_ == naive.refused > 0


def test_a_note_recalled_out_does_not_re_enter_through_another_channel():
    # "base" brings notes 5, 6, 7 every day and comes first, so the merge credits them to
    # "base" even when the cache recalls them too. Ranking prefers larger ids and shows one
    # note (7), so 5 and 6 are offered to the cache again after every request.
    cache = RecallCache(capacity=10, max_recalls=2, max_age_days=30)
    base = lambda users, context: (np.repeat(users, 3), np.tile([5, 6, 7], len(users)))
    larger_ids_first = lambda candidates, context: candidates.item_ids.astype(float)
    pipeline = Pipeline({"base": base, "cache": CacheRecall(cache, n=10)},
                        [("ranking", ScoreStage(larger_ids_first)),
                         ("reranking", CacheUnshownStage(TopK(1), cache))])
    days_in_cache = 0
    for day in range(6):
        days_in_cache += 5 in cache.items(0)       # then CacheRecall recalls it in this request
        pipeline.run([0], RequestContext(day, np.arange(10)))
    # without the retirement, 5 would come back with a fresh count and be recalled every day
    assert days_in_cache == 2 and cache.retired_items(0) == [6, 5] and cache.refused_ == 2 * 4
