"""The conventions every recommender and index shares (docs: the API conventions of CONTRIBUTING).

``recommend`` / ``search`` take the list length ``k`` and one ``exclude=`` matrix whose row r
belongs to the r-th user or query; they return ``(items, scores)`` of shape (n_queries, k),
padded with -1 and -inf; before ``fit`` they raise ``NotFittedError`` (a ``ValueError``).
"""
import numpy as np
import pytest
import scipy.sparse as sp

from course._checks import NotFittedError, check_exclude, check_positive_int
from course.recall.ann import ExactIndex, IVFIndex, exact_top_k
from course.recall.cf import ItemCF, MostPopular, Swing, UserCF

R = sp.csr_matrix(np.array([[1, 1, 0, 0, 0], [1, 0, 1, 0, 0], [0, 1, 1, 1, 0], [0, 0, 0, 1, 1]],
                           dtype=float))
VECTORS = np.random.default_rng(0).normal(size=(40, 4))
QUERIES = np.random.default_rng(1).normal(size=(3, 4))


def fitted_recommenders():
    return [ItemCF().fit(R), Swing().fit(R), UserCF(n_neighbours=2).fit(R), MostPopular().fit(R)]


@pytest.mark.parametrize("model", [ItemCF(), Swing(), UserCF(), MostPopular()])
def test_recommend_before_fit_is_a_not_fitted_error(model):
    with pytest.raises(NotFittedError, match="not fitted"):
        model.recommend([0], k=2)
    assert issubclass(NotFittedError, ValueError)


@pytest.mark.parametrize("index", [ExactIndex(), IVFIndex(n_lists=2, n_probe=1)])
def test_search_before_fit_is_a_not_fitted_error(index):
    with pytest.raises(NotFittedError, match="not fitted"):
        index.search(QUERIES, 2)


@pytest.mark.parametrize("model", fitted_recommenders(), ids=lambda m: type(m).__name__)
def test_recommend_returns_items_and_scores_padded_with_minus_one_and_minus_inf(model):
    items, scores = model.recommend([0, 3], k=5, exclude=R[[0, 3]])
    assert items.shape == scores.shape == (2, 5) and items.dtype == np.int64
    assert np.array_equal(items < 0, np.isneginf(scores))
    assert not np.isin(items[0], R[0].indices).any()  # excluded: never returned
    assert (np.diff(np.where(np.isneginf(scores), -1e300, scores), axis=1) <= 0).all()  # best first


@pytest.mark.parametrize("search", [
    lambda exclude: exact_top_k(QUERIES, VECTORS, 5, exclude=exclude),
    lambda exclude: ExactIndex().fit(VECTORS).search(QUERIES, 5, exclude=exclude),
    lambda exclude: IVFIndex(n_lists=4, n_probe=4).fit(VECTORS).search(QUERIES, 5, exclude=exclude),
], ids=["exact_top_k", "ExactIndex", "IVFIndex"])
def test_every_search_takes_the_same_exclude(search):
    plain, _ = search(None)
    exclude = sp.csr_matrix((np.ones(3, dtype=bool), (np.arange(3), plain[:, 0])), shape=(3, 40))
    items, scores = search(exclude)
    np.testing.assert_array_equal(items[:, :4], plain[:, 1:])  # the best one is gone, rest shifts
    dense, _ = search(exclude.toarray())  # a bool ndarray means the same
    np.testing.assert_array_equal(dense, items)


def test_ivf_probing_every_list_with_exclusions_equals_exact_search():
    exclude = sp.random(3, 40, density=0.9, random_state=2, format="csr")  # most items banned
    exact = exact_top_k(QUERIES, VECTORS, 6, exclude=exclude)
    ivf = IVFIndex(n_lists=4, n_probe=4).fit(VECTORS).search(QUERIES, 6, exclude=exclude)
    np.testing.assert_array_equal(ivf[0], exact[0])
    np.testing.assert_allclose(ivf[1], exact[1])


def test_checks_raise_type_error_for_a_wrong_type_and_value_error_for_a_bad_value():
    with pytest.raises(TypeError):
        check_positive_int(2.5, "k")
    with pytest.raises(ValueError):
        check_positive_int(0, "k")
    with pytest.raises(TypeError):
        check_exclude([[True]], (1, 1))
    with pytest.raises(ValueError, match="shape"):
        check_exclude(np.zeros((2, 3), dtype=bool), (2, 4))
    assert check_exclude(sp.csr_matrix(np.array([[0, 2]])), (1, 2)).nnz == 1  # a stored 0 excludes nothing
