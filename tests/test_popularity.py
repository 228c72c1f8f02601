"""The popularity baseline (course.recall.cf.MostPopular) against a sorted() loop."""
from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from course._checks import NotFittedError
from course.recall.cf import MostPopular


def naive_popular(R, users, k, exclude=None):
    counts = (R > 0).sum(axis=0)
    out = []
    for row, u in enumerate(users):
        allowed = [j for j in range(R.shape[1])
                   if counts[j] > 0 and not (exclude is not None and exclude[row, j])]
        ranked = sorted(allowed, key=lambda j: (-counts[j], j))
        out.append((ranked + [-1] * k)[:k])
    return np.array(out)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("exclude_seen", [True, False])
def test_matches_a_sorted_loop(seed, exclude_seen):
    rng = np.random.default_rng(seed)
    R = (rng.random((12, 9)) < 0.4) * rng.integers(1, 6, (12, 9))
    users = rng.permutation(12)[:7]
    exclude = R[users] > 0 if exclude_seen else None
    items, scores = MostPopular().fit(sp.csr_matrix(R)).recommend(
        users, 4, exclude=sp.csr_matrix(exclude) if exclude_seen else None)
    np.testing.assert_array_equal(items, naive_popular(R, users, 4, exclude))
    counts = (R > 0).sum(axis=0)
    valid = items >= 0
    np.testing.assert_array_equal(scores[valid], counts[items[valid]])
    assert np.all(np.isneginf(scores[~valid]))


def test_counts_users_not_weights_and_pads():
    model = MostPopular().fit([[5, 0, 1], [0, 0, 1]])
    assert model.popularity_.tolist() == [1, 0, 2]
    items, scores = model.recommend([0, 1], k=4)
    assert items.tolist() == [[2, 0, -1, -1]] * 2       # the item nobody touched is never listed
    assert scores[0].tolist() == [2.0, 1.0, -np.inf, -np.inf]


def test_errors():
    with pytest.raises(NotFittedError):
        MostPopular().recommend([0], 1)
    model = MostPopular().fit(np.eye(3))
    with pytest.raises(ValueError, match="k"):
        model.recommend([0], 0)
    with pytest.raises(ValueError):
        model.recommend([3], 1)
    with pytest.raises(ValueError, match="shape"):
        model.recommend([0, 1], 1, exclude=np.zeros((1, 3), dtype=bool))
